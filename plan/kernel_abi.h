/* kernel_abi.h - the contract between sqnc's kernel generator (compiler/kgen*.c: LLVM IR -> PTX, or host
   code for tests) and the launchers (the CUDA backend, the host-kernel tests): which kernels exist, how
   each variant is named, and the parameters each takes. Stands alone (no LLVM, no CUDA headers).

   Every kernel:
   - is `void NAME(params...)`; parameter 0 is always `i64 total`, the number of work items; the kernel
     does work item i for every i in [0, total) (on the GPU a grid-stride loop over
     blockIdx.x * blockDim.x + threadIdx.x, so any 1-D grid is correct; the host version loops over all);
   - takes only pointers (generic address space, 64-bit), i64 and f32 scalars, in the order listed below;
   - uses no barriers, shared memory or warp shuffles: work items are independent except through
     atomicAdd on f32 (BILINEAR_BWD, NEAREST_BWD, MAXPOOL_BWD), so a sequential host loop computes the same thing.
   The host version of a kernel (tests only) is `void NAME_host(void **args)`: args[k] points to parameter
   k's value, exactly the kernelParams array cuLaunchKernel takes, so tests build arguments the way the
   CUDA backend does.

   Tensors are float32, NCHW, contiguous; the semantics are those of the CPU kernels named (cpu_ops.h,
   cpu_grad.h), which the host tests compare against.

   Families and parameters (after `i64 total`):
   ACT(act)          y, x, n                                   y = act(x); total = n; y may be x
   ACT_BWD(act)      dx, dy, v, n, acc                         dx (+)= act'(.) * dy; v is the forward output y
                                                               (relu, relu6, sigmoid, tanh) or input x
                                                               (hswish, silu, hsigmoid);
                                                               acc != 0 adds (cpu_*_backward)
   BINARY(op)        y, a, b, N, C, H, W, as_n, as_c, as_h, as_w, bs_n, bs_c, bs_h, bs_w
                                                               y[n,c,h,w] = a[...] op b[...] with element
                                                               strides (0 = broadcast dim); total = NCHW
   AFFINE(act)       y, x, scale, shift, hw, c                 y = act(x * scale[ch] + shift[ch]),
                                                               ch = (i / hw) % c; scale/shift NULL = 1/0
                                                               (BN inference, conv bias epilogue); y may be x
   DWCONV(geometry, act)  y, x, w, bias, N, C, H, W, OH, OW, ph, pw
                                                               depthwise conv (groups = C = cout), w [C,1,kh,kw],
                                                               bias NULL = 0, then act; total = N*C*OH*OW;
                                                               kh kw sh sw dh dw are baked into the variant
   MIX_FWD           y, xs, w, k, batch, per_sample            y = sum_j w[j*batch+b] * xs[j][i] (xs: device
                                                               array of k pointers, NULL = Zero candidate);
                                                               b = i / per_sample; total = batch*per_sample
   MIX_BWD_DX        dx, dy, w, j, batch, per_sample, acc      dx (+)= w[j*batch+b] * dy
   MIX_BWD_DW        dw, x, dy, j, batch, per_sample, chunk    dw[j*batch+b] += sum over the sample of x*dy;
                                                               work item i sums elements [c*chunk, (c+1)*chunk)
                                                               of sample b = i / nchunks (c = i % nchunks,
                                                               nchunks = ceil(per_sample / chunk)) in double,
                                                               then adds it to dw atomically; total = batch *
                                                               nchunks (chunk >= per_sample: one per sample)
   XENT              loss, dlogits, logits, labels, N, C, HW, ignore, inv_nvalid(f32)
                                                               per pixel (total = N*HW): loss[p] = -log
                                                               softmax(logits)[label] (0 where label ==
                                                               ignore); dlogits (may be NULL) = (softmax -
                                                               onehot) * inv_nvalid, 0 at ignored pixels;
                                                               labels are u8 (cpu_softmax_xent)
   BILINEAR(align)   y, x, NC, H, W, OH, OW                    cpu_bilinear; total = NC*OH*OW
   BILINEAR_BWD(align) dx, dy, NC, H, W, OH, OW                dx += adjoint (atomic adds): the caller zeroes
                                                               dx first unless accumulating; total = NC*OH*OW
   NEAREST           y, x, NC, H, W, OH, OW                    cpu_nearest
   NEAREST_BWD       dx, dy, NC, H, W, OH, OW                  dx += adjoint (atomic adds)
   AVGPOOL(cip)      y, x, NC, H, W, OH, OW, kh, kw, sh, sw, ph, pw
                                                               cpu_avgpool (cip = count_include_pad)
   GAP               y, x, NC, HW                              y[i] = mean of plane i; total = NC
   MAXPOOL           y, x, H, W, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw
                                                               cpu_maxpool; total = NC*OH*OW (gmp: the
                                                               window H x W, stride 1, no padding)
   MAXPOOL_BWD       dx, dy, x, H, W, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw
                                                               dx += dy at each window's argmax (atomic
                                                               adds): the caller zeroes dx first unless
                                                               accumulating; total = NC*OH*OW
   SOFTMAX           y, x, C, HW                               cpu_softmax; total = N*HW (one per pixel)
   SOFTMAX_BWD       dx, dy, y, C, HW, acc                     cpu_softmax_backward; total = N*HW
   PAD               y, x, H, W, OH, OW, top, left, value(f32), acc
                                                               y[p,oy,ox] (+)= x[p,oy-top,ox-left] inside
                                                               x, else value; total = NC*OH*OW (cpu_pad;
                                                               with -top, -left and acc: cpu_pad_backward)
   CHANNELS          y, x, Cy, Cx, HW, c0, groups, acc         cpu_channel_gather; total = N*Cy*HW
   SGD               w, g, mom, n, lr(f32), momentum(f32), wd(f32), first
                                                               PyTorch SGD (trainer.c's sgd): d = g + wd*w;
                                                               mom = first ? d : momentum*mom + d (mom NULL:
                                                               d); w -= lr*mom
   SCALE             y, x, n, a(f32), b(f32), acc              y (+)= a * x + b (a multiply, then an add, as
                                                               cpu_affine); total = n; y may be x. The
                                                               affine op, and its backward (x = dy, b = 0)
   LEAKY             y, x, g, n, slope(f32), acc               y (+)= x > 0 ? g : g * slope; total = n. The
                                                               leaky_relu forward (g = x, acc = 0) and its
                                                               backward (x the forward input, g = dy); y may
                                                               be x or g
*/
#ifndef SQN_KERNEL_ABI_H
#define SQN_KERNEL_ABI_H
#include <stdbool.h>
#include <stddef.h>

typedef enum {
  KFAM_ACT, KFAM_ACT_BWD, KFAM_BINARY, KFAM_AFFINE, KFAM_DWCONV, KFAM_MIX_FWD, KFAM_MIX_BWD_DX,
  KFAM_MIX_BWD_DW, KFAM_XENT, KFAM_BILINEAR, KFAM_BILINEAR_BWD, KFAM_NEAREST, KFAM_NEAREST_BWD,
  KFAM_AVGPOOL, KFAM_GAP, KFAM_SGD, KFAM_SCALE, KFAM_LEAKY, KFAM_MAXPOOL, KFAM_MAXPOOL_BWD, KFAM_SOFTMAX,
  KFAM_SOFTMAX_BWD, KFAM_PAD, KFAM_CHANNELS, KFAM__COUNT
} KernelFamily;

/* Activations (ACT, ACT_BWD, AFFINE, DWCONV): KACT_NONE only for AFFINE and DWCONV. */
typedef enum {
  KACT_NONE, KACT_RELU, KACT_RELU6, KACT_SIGMOID, KACT_HSWISH, KACT_SILU, KACT_HSIGMOID, KACT_TANH, KACT__COUNT
} KernelAct;
typedef enum { KBIN_ADD, KBIN_MUL, KBIN_SUB, KBIN__COUNT } KernelBinary;

/* One kernel variant: the family plus what is baked into its code. Unused fields are 0. */
typedef struct KernelSpec {
  KernelFamily family;
  int act;        /* KernelAct: ACT, ACT_BWD, AFFINE, DWCONV */
  int op;         /* KernelBinary: BINARY */
  int flag;       /* align_corners (BILINEAR*), count_include_pad (AVGPOOL) */
  int kh, kw, sh, sw, dh, dw; /* DWCONV geometry */
} KernelSpec;

#define SQN_KERNEL_NAME_MAX 96
/* The variant's symbol, e.g. "sqn_act_relu6", "sqn_dwconv_k3x3_s2x2_d1x1_relu", "sqn_bilinear_ac1". */
void kernel_spec_name(const KernelSpec *k, char *buf, size_t n);
/* Parameter count including `total` (what a launcher's args array must hold). */
int kernel_family_nparams(KernelFamily f);
/* The specs of the fixed kernel library every plan carries (everything but DWCONV variants), in a stable
   order; returns the count, writing at most `cap`. */
int kernel_library_specs(KernelSpec *out, int cap);
bool kernel_spec_equal(const KernelSpec *a, const KernelSpec *b);
const char *kernel_act_name(int act);
#endif
