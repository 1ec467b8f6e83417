/* pickle.c - the strict state_dict unpickler declared in pickle.h. One opcode per handler; the
   value stack has a separate mark stack (as in CPython's _pickle), and pops never cross the
   innermost mark. Inputs that Python's pickle would reject, and valid pickles that use anything
   beyond a state_dict's needs, are refused with "pickle byte N (OPCODE): reason". */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pickle.h"

struct Pickle {
  PVal **all; /* every value, for freeing */
  size_t nall, capall;
  PVal *root;
};

typedef struct U {
  const unsigned char *p;
  size_t len, pos, op_pos;
  unsigned char op;
  Pickle *pk;
  PVal **stack;
  size_t sp, scap;
  size_t *marks;
  size_t nmarks, mcap;
  PVal **memo;
  size_t memo_cap, memo_count; /* slots allocated, slots in use */
  char *err;
  size_t errlen;
} U;

static const struct {
  const char *module, *name;
} allowed[PG__COUNT] = {
    [PG_ORDERED_DICT] = {"collections", "OrderedDict"},
    [PG_REBUILD_TENSOR_V2] = {"torch._utils", "_rebuild_tensor_v2"},
    [PG_REBUILD_TENSOR] = {"torch._utils", "_rebuild_tensor"},
    [PG_REBUILD_PARAMETER] = {"torch._utils", "_rebuild_parameter"},
    [PG_FLOAT_STORAGE] = {"torch", "FloatStorage"},
    [PG_DOUBLE_STORAGE] = {"torch", "DoubleStorage"},
    [PG_HALF_STORAGE] = {"torch", "HalfStorage"},
    [PG_BFLOAT16_STORAGE] = {"torch", "BFloat16Storage"},
    [PG_LONG_STORAGE] = {"torch", "LongStorage"},
    [PG_INT_STORAGE] = {"torch", "IntStorage"},
    [PG_SHORT_STORAGE] = {"torch", "ShortStorage"},
    [PG_CHAR_STORAGE] = {"torch", "CharStorage"},
    [PG_BYTE_STORAGE] = {"torch", "ByteStorage"},
    [PG_BOOL_STORAGE] = {"torch", "BoolStorage"},
};

const char *pickle_global_name(PGlobal g) {
  static const char *full[PG__COUNT] = {
      "collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor",
      "torch._utils._rebuild_parameter", "torch.FloatStorage", "torch.DoubleStorage", "torch.HalfStorage",
      "torch.BFloat16Storage", "torch.LongStorage", "torch.IntStorage", "torch.ShortStorage",
      "torch.CharStorage", "torch.ByteStorage", "torch.BoolStorage"};
  return (unsigned)g < PG__COUNT ? full[g] : "?";
}

const char *pval_type_name(const PVal *v) {
  static const char *names[] = {"None", "bool", "int", "int", "float", "str", "tuple", "list", "dict",
                                "global", "call", "persistent id"};
  if (!v) return "nothing";
  if (v->type == PV_GLOBAL || v->type == PV_CALL) return pickle_global_name((PGlobal)v->i);
  return names[v->type];
}

static const char *op_name(unsigned char op) {
  switch (op) {
  case 0x80: return "PROTO";        case 0x95: return "FRAME";       case '.': return "STOP";
  case '(': return "MARK";          case '}': return "EMPTY_DICT";   case ']': return "EMPTY_LIST";
  case ')': return "EMPTY_TUPLE";   case 't': return "TUPLE";        case 0x85: return "TUPLE1";
  case 0x86: return "TUPLE2";       case 0x87: return "TUPLE3";      case 'l': return "LIST";
  case 'a': return "APPEND";        case 'e': return "APPENDS";      case 's': return "SETITEM";
  case 'u': return "SETITEMS";      case 'X': return "BINUNICODE";   case 0x8c: return "SHORT_BINUNICODE";
  case 0x8d: return "BINUNICODE8";  case 'T': return "BINSTRING";    case 'U': return "SHORT_BINSTRING";
  case 'J': return "BININT";        case 'K': return "BININT1";      case 'M': return "BININT2";
  case 0x8a: return "LONG1";        case 'G': return "BINFLOAT";     case 'N': return "NONE";
  case 0x88: return "NEWTRUE";      case 0x89: return "NEWFALSE";    case 'q': return "BINPUT";
  case 'r': return "LONG_BINPUT";   case 0x94: return "MEMOIZE";     case 'h': return "BINGET";
  case 'j': return "LONG_BINGET";   case 'c': return "GLOBAL";       case 0x93: return "STACK_GLOBAL";
  case 'R': return "REDUCE";        case 'b': return "BUILD";        case 0x81: return "NEWOBJ";
  case 'Q': return "BINPERSID";     default: return NULL;
  }
}

/* ---- errors ---- */

/* fail(...) is always false; the macro lets the compiler see that through the variadic call. */
static void report(U *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define fail(...) (report(__VA_ARGS__), false)
static void report(U *u, const char *fmt, ...) {
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  const char *name = op_name(u->op);
  if (u->err && u->errlen) {
    if (u->pos >= u->len && u->op_pos == u->len) snprintf(u->err, u->errlen, "pickle byte %zu: %s", u->op_pos, msg);
    else if (name) snprintf(u->err, u->errlen, "pickle byte %zu (%s): %s", u->op_pos, name, msg);
    else snprintf(u->err, u->errlen, "pickle byte %zu (opcode 0x%02x): %s", u->op_pos, u->op, msg);
  }
}

/* Copies up to 100 bytes of s into out (121 bytes) with non-printable bytes shown as '?'. */
static void printable(char *out, const char *s, size_t n) {
  size_t k = 0;
  for (size_t i = 0; i < n && k < 100; i++) out[k++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
  if (n > 100) memcpy(out + k, "...", 4);
  else out[k] = 0;
}

/* ---- memory ---- */

static bool reserve(void **arr, size_t *cap, size_t need, size_t elsize) {
  if (need <= *cap) return true;
  size_t ncap = *cap ? *cap : 8;
  while (ncap < need) ncap *= 2;
  void *p = realloc(*arr, ncap * elsize);
  if (!p) return false;
  *arr = p;
  *cap = ncap;
  return true;
}

static PVal *new_val(U *u, PType type) {
  Pickle *pk = u->pk;
  if (!reserve((void **)&pk->all, &pk->capall, pk->nall + 1, sizeof(PVal *))) return NULL;
  PVal *v = calloc(1, sizeof *v);
  if (!v) return NULL;
  v->type = type;
  pk->all[pk->nall++] = v;
  return v;
}

static bool add_item(U *u, PVal *c, PVal *item) {
  if (!reserve((void **)&c->items, &c->cap, c->n + 1, sizeof(PVal *))) return fail(u, "out of memory");
  c->items[c->n++] = item;
  return true;
}

void pickle_free(Pickle *p) {
  if (!p) return;
  for (size_t i = 0; i < p->nall; i++) {
    free(p->all[i]->items);
    free(p->all[i]->s);
    free(p->all[i]);
  }
  free(p->all);
  free(p);
}

PVal *pickle_root(const Pickle *p) { return p ? p->root : NULL; }

/* ---- stack ---- */

static size_t fence(const U *u) { return u->nmarks ? u->marks[u->nmarks - 1] : 0; }

static bool push(U *u, PVal *v) {
  if (!v) return fail(u, "out of memory");
  if (!reserve((void **)&u->stack, &u->scap, u->sp + 1, sizeof(PVal *))) return fail(u, "out of memory");
  u->stack[u->sp++] = v;
  return true;
}

static bool pop(U *u, PVal **v) {
  if (u->sp <= fence(u)) return fail(u, "stack underflow");
  *v = u->stack[--u->sp];
  return true;
}

static bool top(U *u, PVal **v) {
  if (u->sp <= fence(u)) return fail(u, "stack underflow");
  *v = u->stack[u->sp - 1];
  return true;
}

/* Pops the innermost mark; *start = first stack index above it. */
static bool pop_mark(U *u, size_t *start) {
  if (!u->nmarks) return fail(u, "no MARK on the stack");
  *start = u->marks[--u->nmarks];
  return true;
}

/* ---- input ---- */

static bool take(U *u, size_t n, const unsigned char **out) {
  if (n > u->len - u->pos)
    return fail(u, "truncated: needs %zu bytes, only %zu left", n, u->len - u->pos);
  *out = u->p + u->pos;
  u->pos += n;
  return true;
}

static uint64_t le(const unsigned char *b, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; i--) v = (v << 8) | b[i];
  return v;
}

static bool take_uint(U *u, int n, uint64_t *v) {
  const unsigned char *b = NULL;
  if (!take(u, (size_t)n, &b)) return false;
  *v = le(b, n);
  return true;
}

static bool valid_utf8(const unsigned char *s, size_t n) {
  for (size_t i = 0; i < n;) {
    unsigned c = s[i];
    size_t k = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
    if (!k || k > n - i || (k == 2 && c < 0xc2) || (k == 4 && c > 0xf4)) return false;
    for (size_t j = 1; j < k; j++)
      if ((s[i + j] & 0xc0) != 0x80) return false;
    if (k == 3 && c == 0xe0 && s[i + 1] < 0xa0) return false; /* overlong */
    if (k == 4 && ((c == 0xf0 && s[i + 1] < 0x90) || (c == 0xf4 && s[i + 1] > 0x8f))) return false;
    i += k;
  }
  return true;
}

/* ---- opcodes ---- */

static bool op_proto(U *u) {
  uint64_t v = 0;
  if (!take_uint(u, 1, &v)) return false;
  return v <= 5 ? true : fail(u, "unsupported pickle protocol %u", (unsigned)v);
}

static bool op_frame(U *u) {
  uint64_t n = 0;
  if (!take_uint(u, 8, &n)) return false;
  return n <= u->len - u->pos ? true : fail(u, "frame of %llu bytes runs past the end", (unsigned long long)n);
}

static bool op_mark(U *u) {
  if (!reserve((void **)&u->marks, &u->mcap, u->nmarks + 1, sizeof(size_t))) return fail(u, "out of memory");
  u->marks[u->nmarks++] = u->sp;
  return true;
}

/* Moves stack[start..sp) into a new tuple or list. */
static bool collect(U *u, size_t start, PType type) {
  PVal *c = new_val(u, type);
  if (!c) return fail(u, "out of memory");
  size_t n = u->sp - start;
  if (n && !reserve((void **)&c->items, &c->cap, n, sizeof(PVal *))) return fail(u, "out of memory");
  if (n) memcpy(c->items, u->stack + start, n * sizeof(PVal *));
  c->n = n;
  u->sp = start;
  return push(u, c);
}

static bool op_collect_mark(U *u, PType type) {
  size_t start = 0;
  return pop_mark(u, &start) && collect(u, start, type);
}

static bool op_tuple_n(U *u, size_t n) {
  if (u->sp - fence(u) < n) return fail(u, "stack underflow");
  return collect(u, u->sp - n, PV_TUPLE);
}

static bool op_append(U *u) {
  PVal *v = NULL, *list = NULL;
  if (!pop(u, &v) || !top(u, &list)) return false;
  if (list->type != PV_LIST) return fail(u, "APPEND to a %s", pval_type_name(list));
  return add_item(u, list, v);
}

/* The value just below the mark that was popped (the list or dict of APPENDS/SETITEMS). */
static bool below_mark(U *u, size_t start, PVal **v) {
  if (start <= fence(u)) return fail(u, "stack underflow");
  *v = u->stack[start - 1];
  return true;
}

static bool op_appends(U *u) {
  size_t start = 0;
  PVal *list = NULL;
  if (!pop_mark(u, &start) || !below_mark(u, start, &list)) return false;
  if (list->type != PV_LIST) return fail(u, "APPENDS to a %s", pval_type_name(list));
  for (size_t i = start; i < u->sp; i++)
    if (!add_item(u, list, u->stack[i])) return false;
  u->sp = start;
  return true;
}

static bool set_item(U *u, PVal *dict, PVal *k, PVal *v) {
  if (dict->type != PV_DICT) return fail(u, "SETITEM on a %s", pval_type_name(dict));
  if (k->type == PV_LIST || k->type == PV_DICT) return fail(u, "unhashable dict key (%s)", pval_type_name(k));
  return add_item(u, dict, k) && add_item(u, dict, v);
}

static bool op_setitem(U *u) {
  PVal *k = NULL, *v = NULL, *dict = NULL;
  return pop(u, &v) && pop(u, &k) && top(u, &dict) && set_item(u, dict, k, v);
}

static bool op_setitems(U *u) {
  size_t start = 0;
  PVal *dict = NULL;
  if (!pop_mark(u, &start) || !below_mark(u, start, &dict)) return false;
  if ((u->sp - start) % 2) return fail(u, "odd number of items (%zu) for a dict", u->sp - start);
  for (size_t i = start; i < u->sp; i += 2)
    if (!set_item(u, dict, u->stack[i], u->stack[i + 1])) return false;
  u->sp = start;
  return true;
}

/* A string whose length field has lenbytes bytes (4 for BINSTRING is signed). */
static bool op_string(U *u, int lenbytes, bool signed32) {
  uint64_t n = 0;
  const unsigned char *b = NULL;
  if (!take_uint(u, lenbytes, &n)) return false;
  if (signed32 && n >= 0x80000000u) return fail(u, "negative string length");
  if (n > u->len - u->pos) return fail(u, "truncated: string of %llu bytes, only %zu left", (unsigned long long)n, u->len - u->pos);
  if (!take(u, (size_t)n, &b)) return false;
  if (!valid_utf8(b, (size_t)n)) return fail(u, "string is not valid UTF-8");
  PVal *v = new_val(u, PV_STR);
  if (!v || !(v->s = malloc((size_t)n + 1))) return fail(u, "out of memory");
  memcpy(v->s, b, (size_t)n);
  v->s[n] = 0;
  v->slen = (size_t)n;
  return push(u, v);
}

static bool push_int(U *u, int64_t i) {
  PVal *v = new_val(u, PV_INT);
  if (v) v->i = i;
  return push(u, v);
}

static bool op_int(U *u, int nbytes) {
  uint64_t v = 0;
  if (!take_uint(u, nbytes, &v)) return false;
  return push_int(u, nbytes == 4 ? (int64_t)(int32_t)(uint32_t)v : (int64_t)v);
}

static bool op_long1(U *u) {
  uint64_t n = 0;
  const unsigned char *b = NULL;
  if (!take_uint(u, 1, &n) || !take(u, (size_t)n, &b)) return false;
  if (n <= 8) {
    uint64_t v = n ? le(b, (int)n) : 0;
    if (n && n < 8 && (b[n - 1] & 0x80)) v |= ~0ull << (8 * n); /* sign-extend */
    return push_int(u, (int64_t)v);
  }
  PVal *v = new_val(u, PV_BIGINT);
  if (!v || !(v->s = malloc((size_t)n))) return fail(u, "out of memory");
  memcpy(v->s, b, (size_t)n);
  v->slen = (size_t)n;
  return push(u, v);
}

static bool op_binfloat(U *u) {
  const unsigned char *b = NULL;
  if (!take(u, 8, &b)) return false;
  uint64_t bits = 0;
  for (int i = 0; i < 8; i++) bits = (bits << 8) | b[i]; /* big-endian */
  PVal *v = new_val(u, PV_FLOAT);
  if (v) memcpy(&v->f, &bits, sizeof bits);
  return push(u, v);
}

static bool op_const(U *u, PType type, int64_t i) {
  PVal *v = new_val(u, type);
  if (v) v->i = i;
  return push(u, v);
}

static bool memo_put(U *u, uint64_t idx) {
  PVal *v = NULL;
  if (!top(u, &v)) return false;
  if (idx >= u->len) return fail(u, "memo index %llu is out of range", (unsigned long long)idx);
  size_t old = u->memo_cap;
  if (!reserve((void **)&u->memo, &u->memo_cap, (size_t)idx + 1, sizeof(PVal *))) return fail(u, "out of memory");
  if (u->memo_cap > old) memset(u->memo + old, 0, (u->memo_cap - old) * sizeof(PVal *));
  u->memo_count += !u->memo[idx];
  u->memo[idx] = v;
  return true;
}

static bool op_put(U *u, int nbytes) {
  uint64_t idx = 0;
  return take_uint(u, nbytes, &idx) && memo_put(u, idx);
}

static bool op_memoize(U *u) { return memo_put(u, u->memo_count); /* at len(memo) */ }

static bool op_get(U *u, int nbytes) {
  uint64_t idx = 0;
  if (!take_uint(u, nbytes, &idx)) return false;
  if (idx >= u->memo_cap || !u->memo[idx]) return fail(u, "memo key %llu is not defined", (unsigned long long)idx);
  return push(u, u->memo[idx]);
}

static bool push_global(U *u, const char *mod, size_t modlen, const char *name, size_t namelen) {
  for (int g = 0; g < PG__COUNT; g++)
    if (strlen(allowed[g].module) == modlen && !memcmp(allowed[g].module, mod, modlen) &&
        strlen(allowed[g].name) == namelen && !memcmp(allowed[g].name, name, namelen))
      return op_const(u, PV_GLOBAL, g);
  char m[128], n[128];
  printable(m, mod, modlen);
  printable(n, name, namelen);
  return fail(u, "unsupported pickle global '%s.%s'", m, n);
}

/* One "text\n" line of GLOBAL's argument: printable ASCII, at most 256 bytes. */
static bool global_line(U *u, const char **s, size_t *n) {
  size_t max = u->len - u->pos < 257 ? u->len - u->pos : 257;
  const unsigned char *b = u->p + u->pos;
  const unsigned char *nl = memchr(b, '\n', max);
  if (!nl) return fail(u, "truncated or overlong GLOBAL name");
  for (const unsigned char *c = b; c < nl; c++)
    if (*c < 0x20 || *c >= 0x7f) return fail(u, "GLOBAL name has a non-printable byte");
  *s = (const char *)b;
  *n = (size_t)(nl - b);
  u->pos += *n + 1;
  return true;
}

static bool op_global(U *u) {
  const char *mod, *name;
  size_t ml, nl;
  return global_line(u, &mod, &ml) && global_line(u, &name, &nl) && push_global(u, mod, ml, name, nl);
}

static bool op_stack_global(U *u) {
  PVal *mod = NULL, *name = NULL;
  if (!pop(u, &name) || !pop(u, &mod)) return false;
  if (mod->type != PV_STR || name->type != PV_STR) return fail(u, "STACK_GLOBAL needs two strings");
  return push_global(u, mod->s, mod->slen, name->s, name->slen);
}

/* callable(*args) for REDUCE (newobj false) and cls.__new__(cls, *args) for NEWOBJ. */
static bool call(U *u, bool newobj) {
  PVal *args = NULL, *fn = NULL;
  if (!pop(u, &args) || !pop(u, &fn)) return false;
  if (args->type != PV_TUPLE) return fail(u, "arguments are a %s, not a tuple", pval_type_name(args));
  if (fn->type != PV_GLOBAL) return fail(u, "cannot call a %s", pval_type_name(fn));
  if (fn->i == PG_ORDERED_DICT) {
    if (args->n) return fail(u, "OrderedDict with constructor arguments is not supported");
    return op_const(u, PV_DICT, 0);
  }
  bool rebuild = fn->i == PG_REBUILD_TENSOR_V2 || fn->i == PG_REBUILD_TENSOR || fn->i == PG_REBUILD_PARAMETER;
  if (newobj || !rebuild) return fail(u, "calling '%s' is not supported", pickle_global_name((PGlobal)fn->i));
  PVal *c = new_val(u, PV_CALL);
  if (!c) return fail(u, "out of memory");
  c->i = fn->i;
  return add_item(u, c, args) && push(u, c);
}

static bool dict_or_none(const PVal *v) { return v->type == PV_DICT || v->type == PV_NONE; }

/* BUILD: only attribute state on a dict (an OrderedDict's _metadata), which is ignored. */
static bool op_build(U *u) {
  PVal *state = NULL, *inst = NULL;
  if (!pop(u, &state) || !top(u, &inst)) return false;
  if (inst->type != PV_DICT) return fail(u, "BUILD on a %s is not supported", pval_type_name(inst));
  bool ok = dict_or_none(state) ||
            (state->type == PV_TUPLE && state->n == 2 && dict_or_none(state->items[0]) && dict_or_none(state->items[1]));
  return ok ? true : fail(u, "BUILD state is a %s, not a dict", pval_type_name(state));
}

static bool op_persid(U *u) {
  PVal *pid = NULL;
  if (!pop(u, &pid)) return false;
  PVal *v = new_val(u, PV_PERSID);
  if (!v) return fail(u, "out of memory");
  return add_item(u, v, pid) && push(u, v);
}

static bool step(U *u) {
  switch (u->op) {
  case 0x80: return op_proto(u);
  case 0x95: return op_frame(u);
  case '(': return op_mark(u);
  case '}': return op_const(u, PV_DICT, 0);
  case ']': return op_const(u, PV_LIST, 0);
  case ')': return op_const(u, PV_TUPLE, 0);
  case 't': return op_collect_mark(u, PV_TUPLE);
  case 'l': return op_collect_mark(u, PV_LIST);
  case 0x85: case 0x86: case 0x87: return op_tuple_n(u, (size_t)(u->op - 0x84));
  case 'a': return op_append(u);
  case 'e': return op_appends(u);
  case 's': return op_setitem(u);
  case 'u': return op_setitems(u);
  case 'X': return op_string(u, 4, false);
  case 0x8c: return op_string(u, 1, false);
  case 0x8d: return op_string(u, 8, false);
  case 'T': return op_string(u, 4, true);
  case 'U': return op_string(u, 1, false);
  case 'J': return op_int(u, 4);
  case 'K': return op_int(u, 1);
  case 'M': return op_int(u, 2);
  case 0x8a: return op_long1(u);
  case 'G': return op_binfloat(u);
  case 'N': return op_const(u, PV_NONE, 0);
  case 0x88: return op_const(u, PV_BOOL, 1);
  case 0x89: return op_const(u, PV_BOOL, 0);
  case 'q': return op_put(u, 1);
  case 'r': return op_put(u, 4);
  case 0x94: return op_memoize(u);
  case 'h': return op_get(u, 1);
  case 'j': return op_get(u, 4);
  case 'c': return op_global(u);
  case 0x93: return op_stack_global(u);
  case 'R': return call(u, false);
  case 0x81: return call(u, true);
  case 'b': return op_build(u);
  case 'Q': return op_persid(u);
  default:
    if (u->op >= 0x20 && u->op < 0x7f) return fail(u, "unsupported pickle opcode '%c'", u->op);
    return fail(u, "unsupported pickle opcode");
  }
}

static bool run(U *u, size_t *consumed) {
  while (u->pos < u->len) {
    u->op_pos = u->pos;
    u->op = u->p[u->pos++];
    if (u->op != '.') {
      if (!step(u)) return false;
      continue;
    }
    if (u->nmarks) return fail(u, "STOP inside an open MARK");
    if (u->sp != 1) return fail(u, "STOP with %zu values on the stack (expected 1)", u->sp);
    u->pk->root = u->stack[0];
    *consumed = u->pos;
    return true;
  }
  u->op_pos = u->pos;
  return fail(u, "truncated: the pickle ends without STOP");
}

Pickle *pickle_load(const unsigned char *buf, size_t len, size_t *consumed, char *err, size_t errlen) {
  U u = {.p = buf, .len = len, .err = err, .errlen = errlen};
  u.pk = calloc(1, sizeof *u.pk);
  size_t used = 0;
  bool ok = u.pk && run(&u, &used);
  if (!u.pk && err && errlen) snprintf(err, errlen, "out of memory");
  free(u.stack);
  free(u.marks);
  free(u.memo);
  if (!ok) {
    pickle_free(u.pk);
    return NULL;
  }
  if (consumed) *consumed = used;
  return u.pk;
}
