/* pickle.h - a small, strict Python unpickler for PyTorch state_dict pickles (protocols 2..5).
   It builds a tree of values and never executes anything: GLOBAL/STACK_GLOBAL resolve only names on
   a fixed allow-list (collections.OrderedDict, torch._utils._rebuild_tensor[_v2],
   torch._utils._rebuild_parameter, torch.<T>Storage); calling OrderedDict() gives an empty dict,
   calling a torch rebuild function gives a PV_CALL node (function + argument tuple) for the caller
   to interpret, BINPERSID gives a PV_PERSID node wrapping the persistent id. Any other global,
   call or opcode is an error naming it. Memory use is bounded by a small multiple of the input
   size; every read is bounds-checked. All values belong to the Pickle and die with it. */
#ifndef SQN_PICKLE_H
#define SQN_PICKLE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
  PV_NONE, PV_BOOL, PV_INT, PV_BIGINT, PV_FLOAT, PV_STR, PV_TUPLE, PV_LIST, PV_DICT, PV_GLOBAL,
  PV_CALL, PV_PERSID
} PType;

/* The allow-listed globals (PVal.i of a PV_GLOBAL or PV_CALL). */
typedef enum {
  PG_ORDERED_DICT, PG_REBUILD_TENSOR_V2, PG_REBUILD_TENSOR, PG_REBUILD_PARAMETER,
  PG_FLOAT_STORAGE, PG_DOUBLE_STORAGE, PG_HALF_STORAGE, PG_BFLOAT16_STORAGE, PG_LONG_STORAGE,
  PG_INT_STORAGE, PG_SHORT_STORAGE, PG_CHAR_STORAGE, PG_BYTE_STORAGE, PG_BOOL_STORAGE, PG__COUNT
} PGlobal;

typedef struct PVal PVal;
struct PVal {
  PType type;
  int64_t i;      /* PV_BOOL (0/1), PV_INT, PV_GLOBAL and PV_CALL (a PGlobal) */
  double f;       /* PV_FLOAT */
  char *s;        /* PV_STR: NUL-terminated UTF-8 (may contain NULs: see slen);
                     PV_BIGINT: little-endian two's complement bytes */
  size_t slen;
  PVal **items;   /* PV_TUPLE, PV_LIST: the elements; PV_DICT: key0, value0, key1, ...;
                     PV_CALL: items[0] = argument tuple; PV_PERSID: items[0] = the id */
  size_t n, cap;  /* n items (a dict with k entries has n = 2k; duplicate keys are kept) */
};

typedef struct Pickle Pickle;

/* Unpickles one pickle from buf[0..len). On success returns the Pickle and sets *consumed to the
   number of bytes up to and including STOP (pickles may follow each other in one file). On error
   returns NULL with a one-line message in err. */
Pickle *pickle_load(const unsigned char *buf, size_t len, size_t *consumed, char *err, size_t errlen);
PVal *pickle_root(const Pickle *p);
void pickle_free(Pickle *p); /* NULL is fine */

const char *pickle_global_name(PGlobal g);   /* "collections.OrderedDict", ... */
const char *pval_type_name(const PVal *v);   /* "int", "str", "tuple", ... for messages */

#endif
