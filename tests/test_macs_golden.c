/* test_macs_golden.c - golden test: the six published SqueezeNAS networks, compiled from examples/,
   reproduce upstream's exact MAC counts (countmacs) and parameter counts from reference/macs.json.
   usage: test_macs_golden REPO_DIR REFERENCE_DIR   (exit 77 = skipped: no reference data) */
#include <stdlib.h>
#include "compile.h"
#include "test_util.h"

static char *read_all(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  rewind(f);
  char *buf = malloc((size_t)n + 1);
  size_t got = fread(buf, 1, (size_t)n, f);
  buf[got] = 0;
  fclose(f);
  return buf;
}

/* The integer after "key": inside the object of net `net` in macs.json; -1 if absent. */
static long long json_net_int(const char *json, const char *net, const char *key) {
  char pat[128];
  snprintf(pat, sizeof pat, "\"%s\": {", net);
  const char *obj = strstr(json, pat);
  if (!obj) return -1;
  const char *end = strchr(obj, '}');
  snprintf(pat, sizeof pat, "\"%s\":", key);
  const char *k = strstr(obj, pat);
  if (!k || k > end) return -1;
  return strtoll(k + strlen(pat), NULL, 10);
}

static void check_net(const char *repo, const char *json, const char *net, int h, int w) {
  char path[1024], key[64];
  snprintf(path, sizeof path, "%s/examples/%s.sqn", repo, net);
  snprintf(key, sizeof key, "macs_exact_int_%dx%d", h, w);
  long long want_macs = json_net_int(json, net, key);
  if (want_macs < 0) return; /* this size is not in the reference for this net */
  Arena a = {0};
  Diag d;
  diag_init(&d, stderr);
  CompileOptions opt = {.has_input = true, .input = {0, 3, h, w}};
  IrGraph *g = compile_file(&a, &d, path, &opt);
  CHECK(g != NULL);
  if (g) {
    IrCostTotals t;
    ir_compute_costs(g, &t);
    printf("%-11s %5dx%-5d MACs %12lld (want %12lld)  params %8lld (want %8lld)\n", net, h, w, (long long)t.macs,
           want_macs, (long long)t.params, json_net_int(json, net, "params_total"));
    CHECK_EQ_I64(t.macs, want_macs);
    CHECK_EQ_I64(t.params, json_net_int(json, net, "params_total"));
    CHECK_EQ_I64(t.params, t.all_params);
  }
  arena_free(&a);
}

/* The Small supernet: 3,668,626 parameters upstream = conv/BN weights + 20 x 13 architecture weights. */
static void check_supernet(const char *repo) {
  char path[1024];
  snprintf(path, sizeof path, "%s/spaces/small.sqn", repo);
  Arena a = {0};
  Diag d;
  diag_init(&d, stderr);
  IrGraph *g = compile_file(&a, &d, path, NULL);
  CHECK(g != NULL);
  if (g) {
    IrCostTotals t;
    ir_compute_costs(g, &t);
    CHECK_EQ_I64(g->nsb, 20);
    CHECK_EQ_I64(t.all_params + t.arch_params, 3668626);
    CHECK_EQ_I64(t.arch_params, 260);
  }
  arena_free(&a);
}

int main(int argc, char **argv) {
  if (argc != 3) return fprintf(stderr, "usage: %s REPO_DIR REFERENCE_DIR\n", argv[0]), 2;
  char path[1024];
  snprintf(path, sizeof path, "%s/macs.json", argv[2]);
  char *json = read_all(path);
  if (!json) {
    printf("SKIPPED: %s not found (the shared reference data is not beside this checkout)\n", path);
    return 77;
  }
  static const char *nets[] = {"mac_small", "mac_large", "mac_xlarge", "lat_small", "lat_large", "lat_xlarge"};
  static const int sizes[][2] = {{1024, 2048}, {784, 1568}, {512, 1024}, {256, 512}};
  for (int i = 0; i < 6; i++)
    for (int s = 0; s < 4; s++) check_net(argv[1], json, nets[i], sizes[s][0], sizes[s][1]);
  check_supernet(argv[1]);
  free(json);
  return test_summary();
}
