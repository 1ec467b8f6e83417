/* hints.c - the "did you mean" and "what it takes" hints of unknown names, shared by name resolution,
   evaluation and the space builder so that an unknown parameter, op or block reads the same wherever it
   is found: a suggestion only when it is plausible (diag_closest), and otherwise what would be accepted. */
#include <string.h>
#include "elab.h"

/* "a, b, c": names joined for a hint (cut with ", ..." when long). */
const char *hint_join(Elab *e, const char *const *names, int n) {
  char buf[480];
  int k = 0;
  for (int i = 0; i < n && k < (int)sizeof buf - 8; i++)
    k += snprintf(buf + k, sizeof buf - (size_t)k, "%s%s", i ? ", " : "", names[i]);
  if (k >= (int)sizeof buf - 8) strcpy(buf + sizeof buf - 8, ", ...");
  return arena_printf(e->a, "%s", buf);
}

const char *hint_unknown_param(Elab *e, const char *callee, const char *word, const char *const *names, int n) {
  const char *best = diag_closest(word, names, n);
  const char *takes = n ? arena_printf(e->a, "`%s` takes %s", callee, hint_join(e, names, n))
                        : arena_printf(e->a, "`%s` takes no named arguments", callee);
  return best ? arena_printf(e->a, "did you mean `%s`? %s", best, takes) : takes;
}

const char *hint_unknown_callee(Elab *e, const char *word, bool blocks_only) {
  int nb;
  const char *const *bn = builtin_names(&nb);
  const char *cands[256];
  int nc = 0;
  for (int i = 0; i < nb && !blocks_only && nc < 128; i++) cands[nc++] = bn[i];
  for (int i = 0; i < e->ndecls && nc < 256; i++)
    if (e->decls[i]->kind == DECL_BLOCK) cands[nc++] = e->decls[i]->name;
  const char *best = diag_closest(word, cands, nc);
  if (best) return arena_printf(e->a, "did you mean `%s`?", best);
  if (blocks_only && builtin_is_op(word)) return "primitive ops need an explicit input: wrap them in a block";
  return arena_printf(e->a, "no block of that name is defined or imported here, and it is not one of the builtins (%s); "
                            "define it with `block NAME(...) { ... }` where blocks can express it",
                      hint_join(e, bn, nb));
}
