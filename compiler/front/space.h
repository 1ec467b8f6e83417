/* space.h - elaboration of spaces and networks (macro-architecture) and of their settings. */
#ifndef SQN_SPACE_H
#define SQN_SPACE_H
#include "elab.h"

/* Builds the IR for the selected (or last) space/network of main_file; NULL on errors. */
IrGraph *space_build(Elab *e, const SourceFile *main_file);

/* settings.c */
void settings_search(Elab *e, const Setting *body, SearchSettings *out);
void settings_train(Elab *e, const Setting *body, TrainSettings *out);
bool setting_value(Elab *e, Scope *s, const Setting *st, int i, Value *out);
void setting_unknown(Elab *e, const Setting *st, const char *where, const char *const *keys, int n);
#endif
