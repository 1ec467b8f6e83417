/* lang_compile.c - compiling .sqn text in the language tests (lang_compile.h). */
#include "lang_compile.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char diag_buf[65536];

/* Compiles src; diagnostics go to diag_buf. */
IrGraph *compile_text(Arena *a, const char *src, const CompileOptions *opt) {
  memset(diag_buf, 0, sizeof diag_buf);
  FILE *f = fmemopen(diag_buf, sizeof diag_buf - 1, "w");
  Diag d;
  diag_init(&d, f);
  IrGraph *g = compile_source(a, &d, "test.sqn", src, strlen(src), opt);
  fclose(f);
  return g;
}

const char *const prelude =
    "import \"std/blocks.sqn\"\n"
    "decoder tiny(low: tensor) {\n"
    "  out = conv(in, classes, bias=true) -> bilinear(like=image)\n"
    "}\n"
    "candidates c = [ a = ir(k=3, e=1), b = ir(k=5, e=6), skip ]\n"
    "space s {\n"
    "  input 3x64x128\n"
    "  classes 5\n"
    "  stem conv_bn_relu(cout=8, k=3, stride=2)\n"
    "  stage 8 repeat 2 stride 1 choose c\n"
    "  stage 16 repeat 1 stride 2 choose c\n"
    "  decoder tiny(low=tap(0))\n"
    "}\n";

IrGraph *compile_block(Arena *a, const char *body) {
  static char src[8192];
  snprintf(src, sizeof src,
           "import \"std/blocks.sqn\"\n"
           "decoder tiny(low: tensor) { out = conv(in, classes, bias=true) -> bilinear(like=image) }\n"
           "block t(p: int = 2, f: float = 0.5) {\n%s\n}\n"
           "candidates cs = [ t ]\n"
           "space s { input 3x64x128; classes 5; stem conv_bn_relu(cout=8, k=3, stride=2)\n"
           "  stage 8 repeat 1 stride 1 choose cs; residual false; decoder tiny(low=tap(0)) }\n"
           "network n = s [ t ]\n",
           body);
  return compile_text(a, src, NULL);
}

bool run_diag_case(const DiagCase *c) {
  Arena a = {0};
  IrGraph *g;
  if (c->body[0] == '!') {
    g = compile_text(&a, c->body + 1, NULL);
  } else if (c->body[0] == '+') {
    char *src = malloc(strlen(prelude) + strlen(c->body) + 1);
    strcpy(src, prelude);
    strcat(src, c->body + 1);
    g = compile_text(&a, src, NULL);
    free(src);
  } else {
    g = compile_block(&a, c->body);
  }
  bool ok = g == NULL;
  for (int i = 0; i < 3 && c->expect[i]; i++)
    if (!strstr(diag_buf, c->expect[i])) ok = false;
  if (!ok)
    fprintf(stderr, "--- case:\n%s\n--- expected: %s | %s\n--- got (%s):\n%s\n", c->body, c->expect[0],
            c->expect[1] ? c->expect[1] : "", g ? "compiled" : "failed", diag_buf);
  arena_free(&a);
  return ok;
}

