/* op.h - the primitive ops as both tools see them, generated from ops.def: the OpKind enum, each op's
   name, arity and flags, its attributes (OpAttr, shared by the IR's and the plan's nodes) and its
   output shape (op_shape, the one shape rule of the compiler and the runtime). */
#ifndef SQN_OP_H
#define SQN_OP_H
#include <stdbool.h>
#include "tensor.h"

typedef enum {
#define OP(id, name, min_in, max_in, flags, required, params) OP_##id,
#include "ops.def"
#undef OP
  OP__COUNT
} OpKind;

enum { OPF_CALLABLE = 1, OPF_VARIADIC = 2, OPF_UNARY = 4 };

#define OP_MAX_PARAMS 8
typedef struct OpInfo {
  const char *name;
  int min_inputs, max_inputs; /* max -1: any number up to the plan's limit */
  unsigned flags;             /* OPF_* */
  int nrequired;              /* .sqn parameters that must be given */
  const char *params[OP_MAX_PARAMS + 1]; /* the .sqn parameters in positional order, then NULL */
} OpInfo;

/* The row of ops.def for k (NULL when k is not an op). */
const OpInfo *op_info(OpKind k);
/* "conv", ...; "?" when k is not an op. */
const char *op_name(OpKind k);
/* The op called name; false when there is none. */
bool op_from_name(const char *name, OpKind *out);

enum { RESIZE_SIZE, RESIZE_SCALE, RESIZE_LIKE, RESIZE__COUNT };

/* An op's attributes, the same in the IR and in plans. */
#define OP_ATTR_FIELDS                                                                             \
  int kh, kw, sh, sw, ph, pw, dh, dw, groups; /* conv, pools (kernel, stride, pad, dilation); groups: \
                                                 also channel_shuffle */                            \
  bool bias;                                  /* conv */                                          \
  bool count_include_pad;                     /* avgpool */                                       \
  bool align_corners;                         /* bilinear */                                      \
  bool pool_fit;  /* avgpool: the window shrinks to the (padded) input where that is smaller */   \
  int crop[4];    /* crop (removed) and pad (added): top, bottom, left, right */                  \
  int resize_mode; /* bilinear/nearest: RESIZE_SIZE, RESIZE_SCALE or RESIZE_LIKE */               \
  double scale;   /* RESIZE_SCALE: out = floor(in * scale) */                                     \
  int like;       /* RESIZE_LIKE: the earlier node whose height and width the output takes; else -1 */ \
  double alpha, beta; /* affine: y = alpha * x + beta; leaky_relu: alpha is the negative slope */ \
  double pad_value; /* pad: the value of the added border */                                      \
  int slice[2];   /* slice: channels [start, end) */
typedef struct OpAttr {
  OP_ATTR_FIELDS
} OpAttr;
/* In a node: the attributes by name (node->kh) and all together (node->attr, for op_shape). */
#define OP_ATTR_MEMBERS \
  union {               \
    OpAttr attr;        \
    struct {            \
      OP_ATTR_FIELDS    \
    };                  \
  }

/* What a node has before its op sets anything: unit kernel, stride, dilation and groups, no like, alpha 1. */
static inline OpAttr op_attr_default(void) {
  return (OpAttr){.kh = 1, .kw = 1, .sh = 1, .sw = 1, .dh = 1, .dw = 1, .groups = 1, .like = -1, .alpha = 1.0};
}

/* The output shape of op k with attributes a on inputs in[0..nin) (n of each ignored); fixed: the
   output the node was built with (a resize to a fixed size keeps its height and width; a conv its
   channels), like: the shape of node a->like for RESIZE_LIKE. False when the inputs do not fit
   together (concat, broadcasting); an output with h or w below 1 means the op does not fit its input. */
bool op_shape(OpKind k, const OpAttr *a, const Shape *in, int nin, Shape fixed, Shape like, Shape *out);
/* The window of a maxpool with kernel k and dilation d: d * (k - 1) + 1. */
static inline int op_window(int k, int d) { return d * (k - 1) + 1; }
/* An avgpool's window on input in: its kernel, shrunk to the padded input when pool_fit. */
void op_pool_window(const OpAttr *a, Shape in, int *kh, int *kw);
/* Output size of a convolution along one axis. */
static inline int op_conv_out(int in, int k, int s, int p, int d) { return (in + 2 * p - d * (k - 1) - 1) / s + 1; }
#endif
