/* kgen_emit_test_ptx.c - `kgen_emit_test_ptx OUTDIR [PTXAS]`: emits the kernel library plus depthwise
   variants as PTX for sm_72, sm_75 and sm_90 into OUTDIR/<target>.ptx and checks each module (the .target
   the generator promises, an .entry per kernel, every body inlined, no calls). With PTXAS it then assembles
   each file with the CUDA toolkit's ptxas (-arch=sm_75 for sm_72 and sm_75: CUDA 13 has no sm_72, and
   ptxas takes PTX whose .target is older; -arch=sm_90 for sm_90); an empty or missing PTXAS skips (77). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "kgen.h"
#include "test_util.h"

static int collect(KernelSpec *v, int cap) {
  int n = kernel_library_specs(v, cap);
  const int g[][6] = {
      {3, 3, 1, 1, 1, 1}, {3, 3, 2, 2, 1, 1}, {5, 5, 1, 1, 2, 2}, {7, 7, 2, 2, 1, 1}, {1, 1, 1, 1, 1, 1}};
  for (size_t k = 0; k < sizeof g / sizeof *g; k++)
    for (int act = KACT_NONE; act < KACT__COUNT && n < cap; act++)
      v[n++] = (KernelSpec){.family = KFAM_DWCONV, .act = act, .kh = g[k][0], .kw = g[k][1], .sh = g[k][2],
                            .sw = g[k][3], .dh = g[k][4], .dw = g[k][5]};
  return n;
}

static void check_module(const char *target, const char *ptx, const KernelSpec *v, int n) {
  const char *cpu = NULL;
  char err[256], line[160];
  CHECK(kgen_target_cpu(target, &cpu, err, sizeof err));
  snprintf(line, sizeof line, "\n.target %s\n", cpu);
  CHECK(strstr(ptx, line) != NULL);
  CHECK(strstr(ptx, ".address_size 64") != NULL);
  for (int k = 0; k < n; k++) {
    char name[SQN_KERNEL_NAME_MAX];
    kernel_spec_name(&v[k], name, sizeof name);
    snprintf(line, sizeof line, ".entry %s(", name);
    if (!strstr(ptx, line)) fprintf(stderr, "%s: no %s\n", target, line);
    CHECK(strstr(ptx, line) != NULL);
  }
  CHECK(strstr(ptx, "_body") == NULL);   /* every body inlined into its kernel */
  CHECK(strstr(ptx, "\tcall") == NULL);  /* no libm or other calls */
  CHECK(strstr(ptx, "atom.global.add.f32") != NULL || strstr(ptx, "red.global.add.f32") != NULL);
  printf("%s: .target %s, %zu bytes, ld.global.nc %s\n", target, cpu, strlen(ptx),
         strstr(ptx, "ld.global.nc") ? "used" : "not used");
}

static bool write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  bool ok = f && fputs(text, f) >= 0;
  if (f) ok = fclose(f) == 0 && ok;
  return ok;
}

static int assemble(const char *ptxas, const char *dir, const char *target) {
  char cmd[4096];
  const char *arch = !strcmp(target, "sm_90") ? "sm_90" : "sm_75";
  snprintf(cmd, sizeof cmd, "'%s' -arch=%s '%s/%s.ptx' -o '%s/%s.cubin'", ptxas, arch, dir, target, dir, target);
  int rc = system(cmd);
  printf("ptxas -arch=%s %s.ptx: %s\n", arch, target, rc == 0 ? "ok" : "FAILED");
  return rc;
}

int main(int argc, char **argv) {
  if (argc < 2) return fprintf(stderr, "usage: kgen_emit_test_ptx OUTDIR [PTXAS]\n"), 2;
  const char *dir = argv[1], *ptxas = argc > 2 ? argv[2] : NULL, *targets[] = {"sm_72", "sm_75", "sm_90"};
  bool want_asm = argc > 2;
  if (want_asm && (!ptxas[0] || access(ptxas, X_OK) != 0)) {
    printf("SKIP: no ptxas (CUDA toolkit) given or found ('%s'): the emitted PTX cannot be assembled here\n", ptxas);
    return 77;
  }
  KernelSpec v[128];
  int n = collect(v, 128);
  char err[512], path[4096];
  for (int t = 0; t < 3; t++) {
    char *ptx = kgen_emit_ptx(v, n, targets[t], err, sizeof err);
    CHECK(ptx != NULL);
    if (!ptx) return fprintf(stderr, "%s: %s\n", targets[t], err), 1;
    check_module(targets[t], ptx, v, n);
    snprintf(path, sizeof path, "%s/%s.ptx", dir, targets[t]);
    CHECK(write_file(path, ptx));
    free(ptx);
    if (want_asm) CHECK(assemble(ptxas, dir, targets[t]) == 0);
  }
  return test_summary();
}
