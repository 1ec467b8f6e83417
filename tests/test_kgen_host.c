/* test_kgen_host.c - the generated kernels (compiler/kgen*.c), compiled for this machine through LLVM's JIT
   (the same IR the GPU gets, less the grid-stride wrapper), run through the void** argument ABI exactly as
   a launcher would and compared with the CPU kernels (runtime/cpu_*.c) on seeded random inputs with odd
   shapes. `test_kgen_host kernels` runs every kernel of kernel_library_specs() plus DWCONV variants and
   fails if one was not run; `test_kgen_host targets` checks target-name handling. This file: the harness
   and the elementwise families (ACT, ACT_BWD, BINARY, AFFINE, SGD); test_kgen_host_mix.c and
   test_kgen_host_spatial.c hold the rest. Tolerances are relative (to max(1, |want|)) and stated per call. */
#include <stdio.h>
#include <string.h>
#include "kgen_test_util.h"
#include "test_util.h"

uint64_t kt_rng = 0x9e3779b97f4a7c15ull;
static KgenHost *host;

void kt_check(int ok, const char *expr, const char *file, int line) {
  if (ok) t_passed++;
  else t_failed++, fprintf(stderr, "%s:%d: check failed: %s\n", file, line, expr);
}

/* ---- scratch memory ---- */
static void **allocs;
static size_t nallocs, allocs_cap;
void *kt_alloc(size_t bytes) {
  if (nallocs == allocs_cap) {
    allocs_cap = allocs_cap ? 2 * allocs_cap : 1024;
    if (!(allocs = realloc(allocs, allocs_cap * sizeof *allocs))) abort();
  }
  void *p = calloc(1, bytes ? bytes : 1);
  if (!p) abort();
  return allocs[nallocs++] = p;
}
void kt_free_all(void) {
  while (nallocs) free(allocs[--nallocs]);
  free(allocs);
  allocs = NULL, allocs_cap = 0;
}
float *kt_rand(size_t n, float lo, float hi) {
  float *p = kt_zeros(n);
  for (size_t i = 0; i < n; i++) p[i] = kt_uniform(lo, hi);
  return p;
}
float *kt_copy(const float *x, size_t n) {
  float *p = kt_zeros(n);
  memcpy(p, x, n * sizeof(float));
  return p;
}

/* ---- running and comparing ---- */
static char ran[128][SQN_KERNEL_NAME_MAX];
static int nran;
static struct { char what[64]; double err, tol; } results[256];
static int nresults;

void kt_run(const KernelSpec *spec, KtArgs *A) {
  char name[SQN_KERNEL_NAME_MAX];
  kernel_spec_name(spec, name, sizeof name);
  KgenHostFn fn = kgen_host_lookup(host, name);
  CHECK(fn != NULL);
  CHECK_EQ_I64(A->n, kernel_family_nparams(spec->family));
  if (!fn || A->n != kernel_family_nparams(spec->family)) return fprintf(stderr, "  (kernel %s)\n", name), (void)0;
  fn(A->a);
  int k = 0;
  while (k < nran && strcmp(ran[k], name)) k++;
  if (k == nran && nran < 128) snprintf(ran[nran++], SQN_KERNEL_NAME_MAX, "%s", name);
}

double kt_compare(const char *what, const float *got, const float *want, size_t n, double tol) {
  double worst = 0.0;
  size_t bad = 0, first = 0;
  for (size_t i = 0; i < n; i++) {
    double e = isnan(want[i]) || isnan(got[i]) ? (isnan(want[i]) && isnan(got[i]) ? 0.0 : INFINITY)
               : want[i] == got[i]               ? 0.0 /* equal infinities */
                                                 : fabs((double)got[i] - want[i]) / fmax(1.0, fabs((double)want[i]));
    if (e > tol && !bad++) first = i;
    worst = fmax(worst, e);
  }
  CHECK(bad == 0);
  if (bad)
    fprintf(stderr, "  %s: %zu of %zu outside tolerance %.3g; first at %zu: got %.9g want %.9g\n", what, bad, n, tol,
            first, got[first], want[first]);
  int k = 0;
  while (k < nresults && strcmp(results[k].what, what)) k++;
  if (k == nresults && nresults < 256) snprintf(results[nresults++].what, sizeof results[0].what, "%s", what);
  if (k < 256) results[k].err = fmax(results[k].err, worst), results[k].tol = fmax(results[k].tol, tol);
  return worst;
}

void kt_report(void) {
  printf("%-44s %-12s %s\n", "kernel / case", "max error", "tolerance (relative to max(1,|ref|))");
  for (int k = 0; k < nresults; k++) printf("%-44s %-12.3g %.3g\n", results[k].what, results[k].err, results[k].tol);
}

/* ---- ACT and ACT_BWD ---- */

static const float specials[] = {0.0f, -0.0f, NAN, INFINITY, -INFINITY, 6.0f, -3.0f, 3.0f, 100.0f, -100.0f, 1e-30f};

/* the activation inputs: random over [-8, 8] plus special values */
static float *act_input(size_t n) {
  float *x = kt_rand(n, -8.0f, 8.0f);
  for (size_t i = 0; i < sizeof specials / sizeof *specials && i < n; i++) x[i * 7 % n] = specials[i];
  return x;
}

void kt_cpu_act(int act, const float *x, size_t n, float *y) {
  switch (act) {
  case KACT_RELU: cpu_relu(x, n, y); break;
  case KACT_RELU6: cpu_relu6(x, n, y); break;
  case KACT_SIGMOID: cpu_sigmoid(x, n, y); break;
  case KACT_HSWISH: cpu_hswish(x, n, y); break;
  case KACT_SILU: cpu_silu(x, n, y); break;
  case KACT_HSIGMOID: cpu_hsigmoid(x, n, y); break;
  case KACT_TANH: cpu_tanh(x, n, y); break;
  default: memcpy(y, x, n * sizeof(float)); break;
  }
}

static void test_act(int act) {
  const size_t n = 2 * 3 * 7 * 5;
  float *x = act_input(n), *y = kt_zeros(n), *want = kt_zeros(n);
  KernelSpec s = {.family = KFAM_ACT, .act = act};
  KtArgs A = {0};
  kt_l(&A, (int64_t)n), kt_p(&A, y), kt_p(&A, x), kt_l(&A, (int64_t)n);
  kt_run(&s, &A);
  kt_cpu_act(act, x, n, want);
  char what[64];
  snprintf(what, sizeof what, "act_%s", kernel_act_name(act));
  /* sigmoid, silu, tanh: kgen's exp vs libm's expf (tanhf), a few ulp */
  double tol = act == KACT_SIGMOID || act == KACT_SILU || act == KACT_TANH ? 4e-7 : 0.0;
  kt_compare(what, y, want, n, tol);
  float *xi = kt_copy(x, n); /* in place: y == x */
  A = (KtArgs){0};
  kt_l(&A, (int64_t)n), kt_p(&A, xi), kt_p(&A, xi), kt_l(&A, (int64_t)n);
  kt_run(&s, &A);
  snprintf(what, sizeof what, "act_%s in place", kernel_act_name(act));
  kt_compare(what, xi, want, n, tol);
}

/* exp's accuracy through sigmoid: ulps from the correctly rounded 1/(1+exp(-x)) (double reference) over
   x in [-87, 17] (exp arguments from -17 to 87), kgen's against libm's expf-based cpu_sigmoid */
static void test_exp_accuracy(void) {
  enum { N = 40000 };
  float *x = kt_zeros(N), *y = kt_zeros(N), *ref = kt_zeros(N);
  for (int i = 0; i < N; i++) x[i] = -87.0f + 104.0f * (float)i / N;
  KernelSpec s = {.family = KFAM_ACT, .act = KACT_SIGMOID};
  KtArgs A = {0};
  kt_l(&A, N), kt_p(&A, y), kt_p(&A, x), kt_l(&A, N);
  kt_run(&s, &A);
  cpu_sigmoid(x, N, ref);
  double worst = 0.0, worst_libm = 0.0;
  for (int i = 0; i < N; i++) {
    float want = (float)(1.0 / (1.0 + exp(-(double)x[i])));
    double ulp = nextafterf(want, INFINITY) - want;
    worst = fmax(worst, fabs((double)y[i] - want) / ulp);
    worst_libm = fmax(worst_libm, fabs((double)ref[i] - want) / ulp);
  }
  printf("sigmoid accuracy, x in [-87, 17]: kgen max %.2f ulp, libm-based cpu_sigmoid max %.2f ulp\n", worst,
         worst_libm);
  CHECK(worst <= 3.0);
}

static void test_act_bwd(int act, int acc) {
  const size_t n = 2 * 3 * 7 * 5;
  float *v = act_input(n), *dy = kt_rand(n, -2.0f, 2.0f), *dx0 = kt_rand(n, -1.0f, 1.0f);
  if (act == KACT_SIGMOID || act == KACT_TANH) kt_cpu_act(act, v, n, v); /* v is the forward output y */
  if (act == KACT_RELU || act == KACT_RELU6) kt_cpu_act(act, v, n, v), v[3] = NAN, v[5] = 6.0f;
  float *dx = kt_copy(dx0, n), *want = kt_copy(dx0, n);
  KernelSpec s = {.family = KFAM_ACT_BWD, .act = act};
  KtArgs A = {0};
  kt_l(&A, (int64_t)n), kt_p(&A, dx), kt_p(&A, dy), kt_p(&A, v), kt_l(&A, (int64_t)n), kt_l(&A, acc);
  kt_run(&s, &A);
  switch (act) {
  case KACT_RELU: cpu_relu_backward(v, dy, n, want, acc); break;
  case KACT_RELU6: cpu_relu6_backward(v, dy, n, want, acc); break;
  case KACT_SIGMOID: cpu_sigmoid_backward(v, dy, n, want, acc); break;
  case KACT_TANH: cpu_tanh_backward(v, dy, n, want, acc); break;
  case KACT_SILU: cpu_silu_backward(v, dy, n, want, acc); break;
  case KACT_HSIGMOID: cpu_hsigmoid_backward(v, dy, n, want, acc); break;
  default: cpu_hswish_backward(v, dy, n, want, acc); break;
  }
  char what[64];
  snprintf(what, sizeof what, "act_bwd_%s acc=%d", kernel_act_name(act), acc);
  /* the CPU may contract dx + a*b into an fma; silu's exp: kgen's vs libm's */
  kt_compare(what, dx, want, n, act == KACT_SILU ? 6e-7 : 2e-7);
}

/* ---- BINARY ---- */

static void strides(Shape s, Shape y, int64_t st[4]) {
  st[0] = s.n == 1 && y.n != 1 ? 0 : (int64_t)s.c * s.h * s.w;
  st[1] = s.c == 1 && y.c != 1 ? 0 : (int64_t)s.h * s.w;
  st[2] = s.h == 1 && y.h != 1 ? 0 : s.w;
  st[3] = s.w == 1 && y.w != 1 ? 0 : 1;
}

static void test_binary_case(int op, Shape as, Shape bs) {
  Shape ys = {2, 3, 7, 5};
  size_t n = shape_numel(ys);
  float *a = kt_rand(shape_numel(as), -3, 3), *b = kt_rand(shape_numel(bs), -3, 3);
  float *y = kt_zeros(n), *want = kt_zeros(n);
  int64_t sa[4], sb[4];
  strides(as, ys, sa), strides(bs, ys, sb);
  KernelSpec s = {.family = KFAM_BINARY, .op = op};
  KtArgs A = {0};
  kt_l(&A, (int64_t)n), kt_p(&A, y), kt_p(&A, a), kt_p(&A, b);
  kt_l(&A, ys.n), kt_l(&A, ys.c), kt_l(&A, ys.h), kt_l(&A, ys.w);
  for (int d = 0; d < 4; d++) kt_l(&A, sa[d]);
  for (int d = 0; d < 4; d++) kt_l(&A, sb[d]);
  kt_run(&s, &A);
  (op == KBIN_MUL ? cpu_mul : op == KBIN_SUB ? cpu_sub : cpu_add)(a, as, b, bs, want, ys);
  char what[64];
  kernel_spec_name(&s, what, sizeof what);
  kt_compare(strcat(what, " (broadcasts)"), y, want, n, 0.0);
}

static void test_binary(void) {
  const Shape full = {2, 3, 7, 5};
  const Shape others[] = {{2, 3, 7, 5}, {1, 3, 1, 1}, {2, 1, 7, 5}, {1, 1, 1, 5}, {2, 3, 7, 1}, {1, 1, 1, 1}};
  for (int op = 0; op < KBIN__COUNT; op++)
    for (size_t k = 0; k < sizeof others / sizeof *others; k++) {
      test_binary_case(op, full, others[k]);
      test_binary_case(op, others[k], full);
    }
}

/* ---- AFFINE ---- */

/* scale/shift as cpu_batchnorm_infer computes alpha and b (either NULL when use_* is 0) */
static void test_affine_case(int act, bool use_scale, bool use_shift) {
  Shape s = {2, 3, 7, 5};
  size_t n = shape_numel(s), hw = (size_t)s.h * s.w;
  float *x = kt_rand(n, -4, 4), *y = kt_zeros(n), *want = kt_zeros(n);
  float *gamma = kt_rand(3, 0.5f, 2), *beta = kt_rand(3, -1, 1), *mean = kt_rand(3, -1, 1), *var = kt_rand(3, 0.1f, 3);
  float *scale = kt_zeros(3), *shift = kt_zeros(3);
  for (int c = 0; c < 3; c++) {
    float invstd = 1.0f / sqrtf(var[c] + 1e-5f), alpha = invstd * gamma[c];
    scale[c] = use_scale ? alpha : 1.0f;
    shift[c] = use_shift ? beta[c] - mean[c] * scale[c] : beta[c];
  }
  if (use_scale && use_shift) cpu_batchnorm_infer(x, s, gamma, beta, mean, var, 1e-5f, want);
  else
    for (size_t i = 0; i < n; i++) {
      size_t c = i / hw % 3;
      want[i] = use_scale ? x[i] * scale[c] : use_shift ? x[i] + shift[c] : x[i];
    }
  kt_cpu_act(act, want, n, want);
  KernelSpec sp = {.family = KFAM_AFFINE, .act = act};
  KtArgs A = {0};
  kt_l(&A, (int64_t)n), kt_p(&A, y), kt_p(&A, x), kt_p(&A, use_scale ? scale : NULL);
  kt_p(&A, use_shift ? shift : NULL), kt_l(&A, (int64_t)hw), kt_l(&A, s.c);
  kt_run(&sp, &A);
  char what[64];
  snprintf(what, sizeof what, "affine_%s%s%s", kernel_act_name(act), use_scale ? "" : " scale=NULL",
           use_shift ? "" : " shift=NULL");
  /* x*scale+shift as one fma here, maybe two roundings on the CPU (an unoptimized or non-FMA build); hswish's
     x*relu6(x+3)/6 then carries that one rounding difference through two more operations: a few ulps */
  const double tol = act == KACT_SIGMOID ? 4e-7 : act == KACT_HSWISH || act == KACT_SILU || act == KACT_TANH ? 6e-7 : 2e-7;
  kt_compare(what, y, want, n, tol);
  A.v[1].p = x; /* in place */
  kt_run(&sp, &A);
  kt_compare(what, x, want, n, tol);
}

/* ---- SCALE (affine forward and backward) and LEAKY (leaky_relu forward and backward) ---- */

static void test_scale(float a, float b, int acc) {
  const size_t n = 1001;
  float *x = act_input(n), *y0 = kt_rand(n, -1, 1), *y = kt_copy(y0, n), *want = kt_copy(y0, n);
  if (acc) cpu_affine_backward(x, n, a, want, true); /* b is 0 in the backward */
  else cpu_affine(x, n, a, b, want);
  KernelSpec s = {.family = KFAM_SCALE};
  KtArgs A = {0};
  kt_l(&A, (int64_t)n), kt_p(&A, y), kt_p(&A, x), kt_l(&A, (int64_t)n), kt_f(&A, a), kt_f(&A, acc ? 0.0f : b);
  kt_l(&A, acc);
  kt_run(&s, &A);
  kt_compare(acc ? "scale (affine backward, acc)" : "scale (affine)", y, want, n, 2e-7);
  A.v[1].p = A.v[2].p = x; /* in place */
  if (!acc) kt_run(&s, &A), kt_compare("scale in place", x, want, n, 2e-7);
}

static void test_leaky(float slope, int backward, int acc) {
  const size_t n = 1001;
  float *x = act_input(n), *dy = kt_rand(n, -2, 2), *y0 = kt_rand(n, -1, 1), *y = kt_copy(y0, n), *want = kt_copy(y0, n);
  if (backward) cpu_leaky_relu_backward(x, dy, n, slope, want, acc);
  else cpu_leaky_relu(x, n, slope, want);
  KernelSpec s = {.family = KFAM_LEAKY};
  KtArgs A = {0};
  kt_l(&A, (int64_t)n), kt_p(&A, y), kt_p(&A, x), kt_p(&A, backward ? dy : x), kt_l(&A, (int64_t)n), kt_f(&A, slope);
  kt_l(&A, acc);
  kt_run(&s, &A);
  kt_compare(backward ? "leaky backward" : "leaky forward", y, want, n, acc ? 2e-7 : 0.0);
}

/* ---- SGD: trainer.c's sgd ---- */

static void test_sgd_case(bool with_mom, int first, float wd) {
  const size_t n = 1001;
  const float lr = 0.05f, m = 0.9f;
  float *w = kt_rand(n, -1, 1), *g = kt_rand(n, -1, 1), *mom = kt_rand(n, -1, 1);
  float *ww = kt_copy(w, n), *wm = kt_copy(mom, n);
  for (size_t k = 0; k < n; k++) {
    float d = g[k] + wd * ww[k];
    if (with_mom) wm[k] = first ? d : m * wm[k] + d, d = wm[k];
    ww[k] -= lr * d;
  }
  KernelSpec s = {.family = KFAM_SGD};
  KtArgs A = {0};
  kt_l(&A, (int64_t)n), kt_p(&A, w), kt_p(&A, g), kt_p(&A, with_mom ? mom : NULL), kt_l(&A, (int64_t)n);
  kt_f(&A, lr), kt_f(&A, m), kt_f(&A, wd), kt_l(&A, first);
  kt_run(&s, &A);
  kt_compare("sgd w", w, ww, n, 0.0);
  if (with_mom) kt_compare("sgd momentum buffer", mom, wm, n, 0.0);
}

void kt_test_eltwise(void) {
  for (int act = KACT_RELU; act < KACT__COUNT; act++) {
    test_act(act);
    for (int acc = 0; acc < 2; acc++) test_act_bwd(act, acc);
  }
  test_exp_accuracy();
  test_binary();
  for (int act = KACT_NONE; act < KACT__COUNT; act++)
    for (int k = 0; k < 4; k++) test_affine_case(act, k & 1, k & 2);
  test_scale(0.5f, 3.0f, 0), test_scale(-1.0f, 0.0f, 0), test_scale(1.0f / 6.0f, 0.5f, 0), test_scale(-0.25f, 0, 1);
  for (int k = 0; k < 3; k++) test_leaky(k ? 0.01f : 0.2f, k > 0, k == 2);
  test_sgd_case(false, 0, 0.0f);
  test_sgd_case(false, 0, 1e-4f);
  test_sgd_case(true, 1, 1e-4f);
  test_sgd_case(true, 0, 4e-5f);
}

/* ---- targets ---- */

static void test_targets(void) {
  const char *cpu = NULL;
  char err[256];
  const char *ok[][2] = {{"sm_72", "sm_72"}, {"sm_75", "sm_75"}, {"sm_80", "sm_80"}, {"sm_86", "sm_86"},
                         {"sm_87", "sm_86"}, {"sm_89", "sm_86"}, {"sm_90", "sm_86"}, {"sm_100", "sm_86"},
                         {"sm_52", "sm_52"}, {"sm_51", "sm_50"}};
  for (size_t k = 0; k < sizeof ok / sizeof *ok; k++) {
    CHECK(kgen_target_cpu(ok[k][0], &cpu, err, sizeof err));
    CHECK_STR(cpu, ok[k][1]);
  }
  const char *bad[] = {"sm_7", "gfx90a", "sm_", "sm_7x", "", "sm_35", "sm_075", "compute_75", "sm_1000", "SM_75"};
  for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
    err[0] = 0;
    CHECK(!kgen_target_cpu(bad[k], &cpu, err, sizeof err));
    CHECK(strstr(err, "sm_XY") != NULL && strstr(err, bad[k]) != NULL);
  }
  KernelSpec s = {.family = KFAM_ACT, .act = KACT_RELU};
  err[0] = 0;
  char *ptx = kgen_emit_ptx(&s, 1, "gfx90a", err, sizeof err);
  CHECK(ptx == NULL);
  printf("unknown target error: %s\n", err);
  CHECK(strstr(err, "unknown GPU target 'gfx90a'") != NULL);
  free(ptx);
  char *ir = kgen_emit_llvm_ir(&s, 1, "sm_75", err, sizeof err); /* textual IR, GPU and host */
  CHECK(ir && strstr(ir, "define void @sqn_act_relu(") && strstr(ir, "!nvvm.annotations") &&
        strstr(ir, "nvptx64-nvidia-cuda"));
  free(ir);
  ir = kgen_emit_llvm_ir(&s, 1, "host", err, sizeof err);
  CHECK(ir && strstr(ir, "define void @sqn_act_relu_host(i8** ") && !strstr(ir, "nvvm"));
  free(ir);
  CHECK(kgen_emit_llvm_ir(&s, 1, "sm_7", err, sizeof err) == NULL && strstr(err, "sm_XY"));
  KernelSpec bad_spec = {.family = KFAM_ACT, .act = KACT_NONE};
  CHECK(kgen_emit_ptx(&bad_spec, 1, "sm_75", err, sizeof err) == NULL);
  printf("bad spec error: %s\n", err);
}

/* every library kernel plus the DWCONV variants, compiled once */
static int run_kernels(void) {
  int nlib = kernel_library_specs(NULL, 0), ndw;
  KernelSpec *dw = kt_dwconv_specs(&ndw), *all = kt_alloc(sizeof *all * (size_t)(nlib + ndw));
  kernel_library_specs(all, nlib);
  memcpy(all + nlib, dw, sizeof *all * (size_t)ndw);
  char err[512];
  if (!(host = kgen_host_new(all, nlib + ndw, err, sizeof err))) return fprintf(stderr, "kgen_host_new: %s\n", err), 1;
  kt_test_eltwise();
  kt_test_mix_xent();
  kt_test_spatial();
  for (int k = 0; k < nlib + ndw; k++) { /* every kernel was run */
    char name[SQN_KERNEL_NAME_MAX];
    kernel_spec_name(&all[k], name, sizeof name);
    int j = 0;
    while (j < nran && strcmp(ran[j], name)) j++;
    if (j == nran) fprintf(stderr, "kernel %s was not tested\n", name);
    CHECK(j < nran);
  }
  printf("%d kernels tested (%d library, %d depthwise variants)\n", nran, nlib, ndw);
  kt_report();
  kgen_host_free(host);
  return 0;
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "kernels";
  if (!strcmp(mode, "targets")) test_targets();
  else if (run_kernels()) return 1;
  kt_free_all();
  return test_summary();
}
