/* test_gpu_kernels.c - every kernel of a plan's PTX module, launched on the GPU the way the CUDA backend
   launches them (cuda_kernels.h), against the CPU kernels (cpu_ops.h, cpu_grad.h) or, where the CPU has
   no single kernel for it (AFFINE, the mixing adjoints, SGD), a few lines of reference arithmetic. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cpu_grad.h"
#include "cpu_ops.h"
#include "cuda_kernels.h"
#include "test_gpu.h"

static CudaKernels *K;
static void *owned[64];
static int nowned;

static void *dev_bytes(const void *h, size_t bytes) {
  void *d = NULL;
  if (cudaMalloc(&d, bytes + 4) != cudaSuccess || nowned == 64) abort();
  if (h) cudaMemcpy(d, h, bytes, cudaMemcpyHostToDevice);
  else cudaMemset(d, 0, bytes + 4);
  return owned[nowned++] = d;
}

static float *dev_of(const float *h, size_t n) { return dev_bytes(h, n * sizeof *h); }
static void host_of(float *h, const float *d, size_t n) { cudaMemcpy(h, d, n * sizeof *h, cudaMemcpyDeviceToHost); }

static void free_all(void) {
  while (nowned) cudaFree(owned[--nowned]);
}

/* Launches the spec's kernel on the default stream and waits; a failed check names the kernel. */
static bool run(KernelSpec s, KArgs *a) {
  char name[SQN_KERNEL_NAME_MAX], err[1024] = "", what[1200];
  kernel_spec_name(&s, name, sizeof name);
  CUfunction fn = cuda_kernels_get(K, &s, err, sizeof err);
  bool ok = a->n == kernel_family_nparams(s.family) && fn && cuda_kernels_launch(K, fn, NULL, a, err, sizeof err);
  cudaError_t e = ok ? cudaDeviceSynchronize() : cudaSuccess;
  if (e != cudaSuccess) snprintf(err, sizeof err, "%s", cudaGetErrorString(e)), ok = false;
  snprintf(what, sizeof what, "%s runs (%d args, %s)", name, a->n, err[0] ? err : "ok");
  gpu_check(ok, what);
  return ok;
}

static void compare(KernelSpec s, const char *what, const float *got, const float *ref, size_t n, double tol) {
  char name[SQN_KERNEL_NAME_MAX], label[256];
  kernel_spec_name(&s, name, sizeof name);
  snprintf(label, sizeof label, "%s %s", name, what);
  gpu_compare(label, got, ref, n, tol);
}

enum { NB = 2, NC = 3, NH = 5, NW = 7, NUM = NB * NC * NH * NW };
static const Shape S0 = {NB, NC, NH, NW};

static void act_ref(int act, const float *x, size_t n, float *y) {
  if (act == KACT_RELU) cpu_relu(x, n, y);
  else if (act == KACT_RELU6) cpu_relu6(x, n, y);
  else if (act == KACT_SIGMOID) cpu_sigmoid(x, n, y);
  else if (act == KACT_HSWISH) cpu_hswish(x, n, y);
  else memmove(y, x, n * sizeof *y);
}

static void act_bwd_ref(int act, const float *v, const float *dy, size_t n, float *dx, bool acc) {
  if (act == KACT_RELU) cpu_relu_backward(v, dy, n, dx, acc);
  else if (act == KACT_RELU6) cpu_relu6_backward(v, dy, n, dx, acc);
  else if (act == KACT_SIGMOID) cpu_sigmoid_backward(v, dy, n, dx, acc);
  else cpu_hswish_backward(v, dy, n, dx, acc);
}

static void test_act(void) {
  float x[NUM], y[NUM], ref[NUM], dy[NUM], v[NUM], dx[NUM];
  rnd_fill(x, NUM, -8, 8), rnd_fill(dy, NUM, -1, 1);
  for (int act = KACT_RELU; act < KACT__COUNT; act++) {
    KernelSpec s = {.family = KFAM_ACT, .act = act};
    float *dxp = dev_of(x, NUM), *dyp = dev_of(NULL, NUM);
    KArgs k;
    ka_init(&k, NUM), ka_ptr(&k, dyp), ka_ptr(&k, dxp), ka_i64(&k, NUM);
    act_ref(act, x, NUM, ref);
    if (run(s, &k)) host_of(y, dyp, NUM), compare(s, "", y, ref, NUM, 1e-5);
    if (act == KACT_HSWISH) memcpy(v, x, sizeof v); /* hswish's backward takes the input, the others the output */
    else memcpy(v, ref, sizeof v);
    for (int acc = 0; acc < 2; acc++) {
      KernelSpec b = {.family = KFAM_ACT_BWD, .act = act};
      rnd_fill(dx, NUM, -1, 1);
      float *ddx = dev_of(dx, NUM);
      act_bwd_ref(act, v, dy, NUM, dx, acc);
      ka_init(&k, NUM), ka_ptr(&k, ddx), ka_ptr(&k, dev_of(dy, NUM)), ka_ptr(&k, dev_of(v, NUM)), ka_i64(&k, NUM);
      ka_i64(&k, acc);
      if (run(b, &k)) host_of(y, ddx, NUM), compare(b, acc ? "acc" : "", y, dx, NUM, 1e-5);
    }
    free_all();
  }
}

static void push_strides(KArgs *k, Shape s) {
  int64_t hw = (int64_t)s.h * s.w;
  ka_i64(k, s.n == 1 ? 0 : s.c * hw), ka_i64(k, s.c == 1 ? 0 : hw), ka_i64(k, s.h == 1 ? 0 : s.w), ka_i64(k, s.w == 1 ? 0 : 1);
}

static void test_binary(void) {
  const Shape pairs[][2] = {{S0, S0}, {S0, {NB, NC, 1, 1}}, {{NB, 1, NH, NW}, S0}, {{1, NC, NH, 1}, {NB, 1, 1, NW}}};
  float a[NUM], b[NUM], y[NUM], ref[NUM];
  for (size_t t = 0; t < sizeof pairs / sizeof *pairs; t++)
    for (int op = 0; op < KBIN__COUNT; op++) {
      Shape as = pairs[t][0], bs = pairs[t][1];
      Shape ys = {as.n > bs.n ? as.n : bs.n, as.c > bs.c ? as.c : bs.c, as.h > bs.h ? as.h : bs.h, as.w > bs.w ? as.w : bs.w};
      rnd_fill(a, NUM, -2, 2), rnd_fill(b, NUM, -2, 2);
      (op == KBIN_MUL ? cpu_mul : cpu_add)(a, as, b, bs, ref, ys);
      KernelSpec s = {.family = KFAM_BINARY, .op = op};
      float *yp = dev_of(NULL, NUM);
      KArgs k;
      ka_init(&k, (int64_t)shape_numel(ys)), ka_ptr(&k, yp), ka_ptr(&k, dev_of(a, NUM)), ka_ptr(&k, dev_of(b, NUM));
      ka_i64(&k, ys.n), ka_i64(&k, ys.c), ka_i64(&k, ys.h), ka_i64(&k, ys.w);
      push_strides(&k, as), push_strides(&k, bs);
      char what[64];
      snprintf(what, sizeof what, "broadcast case %zu", t);
      if (run(s, &k)) host_of(y, yp, shape_numel(ys)), compare(s, what, y, ref, shape_numel(ys), 1e-6);
      free_all();
    }
}

static void test_affine(void) {
  float x[NUM], y[NUM], ref[NUM], sc[NC], sh[NC];
  for (int act = KACT_NONE; act < KACT__COUNT; act++)
    for (int plain = 0; plain < 2; plain++) { /* plain: scale and shift NULL */
      rnd_fill(x, NUM, -4, 4), rnd_fill(sc, NC, 0.5f, 2), rnd_fill(sh, NC, -1, 1);
      for (int i = 0; i < NUM; i++) ref[i] = plain ? x[i] : x[i] * sc[(i / (NH * NW)) % NC] + sh[(i / (NH * NW)) % NC];
      act_ref(act, ref, NUM, ref);
      KernelSpec s = {.family = KFAM_AFFINE, .act = act};
      float *yp = dev_of(NULL, NUM);
      KArgs k;
      ka_init(&k, NUM), ka_ptr(&k, yp), ka_ptr(&k, dev_of(x, NUM));
      ka_ptr(&k, plain ? NULL : dev_of(sc, NC)), ka_ptr(&k, plain ? NULL : dev_of(sh, NC));
      ka_i64(&k, NH * NW), ka_i64(&k, NC);
      if (run(s, &k)) host_of(y, yp, NUM), compare(s, plain ? "NULL scale/shift" : "", y, ref, NUM, 1e-5);
      free_all();
    }
}

/* One depthwise variant: C = 4 channels of 11 x 13, "same" padding for its geometry. */
static void dwconv_case(KernelSpec s, bool bias) {
  enum { C = 4, H = 11, W = 13 };
  int ph = s.dh * (s.kh - 1) / 2, pw = s.dw * (s.kw - 1) / 2;
  int oh = (H + 2 * ph - s.dh * (s.kh - 1) - 1) / s.sh + 1, ow = (W + 2 * pw - s.dw * (s.kw - 1) - 1) / s.sw + 1;
  size_t nx = (size_t)NB * C * H * W, ny = (size_t)NB * C * oh * ow, nw = (size_t)C * s.kh * s.kw;
  float *x = malloc(nx * 4), *w = malloc(nw * 4), b[C], *y = malloc(ny * 4), *ref = malloc(ny * 4);
  rnd_fill(x, nx, -2, 2), rnd_fill(w, nw, -1, 1), rnd_fill(b, C, -1, 1);
  ConvParams cp = {s.kh, s.kw, s.sh, s.sw, ph, pw, s.dh, s.dw, C, s.act};
  cpu_conv2d(x, (Shape){NB, C, H, W}, w, bias ? b : NULL, &cp, ref, (Shape){NB, C, oh, ow});
  float *yp = dev_of(NULL, ny);
  KArgs k;
  ka_init(&k, (int64_t)ny), ka_ptr(&k, yp), ka_ptr(&k, dev_of(x, nx)), ka_ptr(&k, dev_of(w, nw));
  ka_ptr(&k, bias ? dev_of(b, C) : NULL);
  ka_i64(&k, NB), ka_i64(&k, C), ka_i64(&k, H), ka_i64(&k, W), ka_i64(&k, oh), ka_i64(&k, ow), ka_i64(&k, ph), ka_i64(&k, pw);
  if (run(s, &k)) host_of(y, yp, ny), compare(s, bias ? "with bias" : "no bias", y, ref, ny, 1e-5);
  free_all();
  free(x), free(w), free(y), free(ref);
}

/* The plan's depthwise geometries (the variants sqnc emitted), each with every epilogue. */
static void test_dwconv(const Plan *p) {
  int tested = 0;
  for (int i = 0; i < p->nnodes; i++) {
    const PlanNode *nd = &p->nodes[i];
    if (nd->kind != OP_CONV || nd->groups <= 1 || nd->groups != nd->out.c || nd->groups != p->nodes[nd->inputs[0]].out.c)
      continue;
    bool seen = false;
    for (int j = 0; j < i && !seen; j++) {
      const PlanNode *o = &p->nodes[j];
      seen = o->kind == OP_CONV && o->groups > 1 && o->groups == o->out.c && o->kh == nd->kh && o->kw == nd->kw &&
             o->sh == nd->sh && o->sw == nd->sw && o->dh == nd->dh && o->dw == nd->dw &&
             o->groups == p->nodes[o->inputs[0]].out.c;
    }
    for (int act = KACT_NONE; !seen && act <= KACT_RELU6; act++) {
      KernelSpec s = {.family = KFAM_DWCONV, .act = act, .kh = nd->kh, .kw = nd->kw, .sh = nd->sh, .sw = nd->sw,
                      .dh = nd->dh, .dw = nd->dw};
      dwconv_case(s, true), tested++;
      if (act == KACT_NONE) dwconv_case(s, false);
    }
  }
  printf("DWCONV: %d variants of the plan tested\n", tested);
}

static void test_mix(void) {
  enum { KC = 3, PER = NC * NH * NW };
  float x0[NUM], x2[NUM], w[KC * NB], y[NUM], ref[NUM], dy[NUM], dw[KC * NB], dwr[KC * NB];
  rnd_fill(x0, NUM, -2, 2), rnd_fill(x2, NUM, -2, 2), rnd_fill(w, KC * NB, 0, 1), rnd_fill(dy, NUM, -1, 1);
  const float *hx[KC] = {x0, NULL, x2};
  const float *dx[KC] = {dev_of(x0, NUM), NULL, dev_of(x2, NUM)};
  cpu_mix(hx, KC, w, S0, ref);
  float *yp = dev_of(NULL, NUM), *wp = dev_of(w, KC * NB);
  KArgs k;
  ka_init(&k, NUM), ka_ptr(&k, yp), ka_ptr(&k, dev_bytes(dx, sizeof dx)), ka_ptr(&k, wp), ka_i64(&k, KC), ka_i64(&k, NB), ka_i64(&k, PER);
  if (run((KernelSpec){.family = KFAM_MIX_FWD}, &k)) host_of(y, yp, NUM), compare((KernelSpec){.family = KFAM_MIX_FWD}, "", y, ref, NUM, 1e-6);
  for (int acc = 0; acc < 2; acc++) { /* dx (+)= w[j*batch+b] * dy for candidate j = 2 */
    rnd_fill(ref, NUM, -1, 1);
    float *dxp = dev_of(ref, NUM);
    for (int i = 0; i < NUM; i++) ref[i] = (acc ? ref[i] : 0) + w[2 * NB + i / PER] * dy[i];
    ka_init(&k, NUM), ka_ptr(&k, dxp), ka_ptr(&k, dev_of(dy, NUM)), ka_ptr(&k, wp), ka_i64(&k, 2), ka_i64(&k, NB), ka_i64(&k, PER), ka_i64(&k, acc);
    if (run((KernelSpec){.family = KFAM_MIX_BWD_DX}, &k))
      host_of(y, dxp, NUM), compare((KernelSpec){.family = KFAM_MIX_BWD_DX}, acc ? "acc" : "", y, ref, NUM, 1e-6);
  }
  rnd_fill(dw, KC * NB, -1, 1), memcpy(dwr, dw, sizeof dw);
  float *dwp = dev_of(dw, KC * NB);
  for (int b = 0; b < NB; b++) {
    double s = 0;
    for (int i = 0; i < PER; i++) s += (double)x2[b * PER + i] * dy[b * PER + i];
    dwr[2 * NB + b] += (float)s;
  }
  const int64_t chunk = 5, nchunks = (PER + chunk - 1) / chunk; /* several partial sums per sample */
  ka_init(&k, NB * nchunks), ka_ptr(&k, dwp), ka_ptr(&k, dx[2]), ka_ptr(&k, dev_of(dy, NUM)), ka_i64(&k, 2), ka_i64(&k, NB),
      ka_i64(&k, PER), ka_i64(&k, chunk);
  if (run((KernelSpec){.family = KFAM_MIX_BWD_DW}, &k))
    host_of(dw, dwp, KC * NB), compare((KernelSpec){.family = KFAM_MIX_BWD_DW}, "", dw, dwr, KC * NB, 1e-5);
  free_all();
}

static void test_xent(void) {
  enum { C = 5, HW = NH * NW, NPIX = NB * HW };
  float z[NB * C * HW], dz[NB * C * HW], dref[NB * C * HW], loss[NPIX];
  unsigned char lab[NPIX];
  rnd_fill(z, NB * C * HW, -3, 3);
  for (int i = 0; i < NPIX; i++) lab[i] = i % 7 == 3 ? 255 : (unsigned char)((i * 5 + i / 3) % C);
  long nvalid = 0;
  double mean = cpu_softmax_xent(z, (Shape){NB, C, NH, NW}, lab, 255, dref, &nvalid);
  float *lp = dev_of(NULL, NPIX), *dzp = dev_of(NULL, NB * C * HW);
  KArgs k;
  ka_init(&k, NPIX), ka_ptr(&k, lp), ka_ptr(&k, dzp), ka_ptr(&k, dev_of(z, NB * C * HW)), ka_ptr(&k, dev_bytes(lab, NPIX));
  ka_i64(&k, NB), ka_i64(&k, C), ka_i64(&k, HW), ka_i64(&k, 255), ka_f32(&k, 1.0f / (float)nvalid);
  KernelSpec s = {.family = KFAM_XENT};
  if (run(s, &k)) {
    host_of(loss, lp, NPIX), host_of(dz, dzp, NB * C * HW);
    double sum = 0;
    for (int i = 0; i < NPIX; i++) sum += loss[i];
    float got = (float)(sum / nvalid), want = (float)mean;
    compare(s, "mean loss", &got, &want, 1, 1e-5);
    compare(s, "dlogits", dz, dref, NB * C * HW, 1e-5);
  }
  free_all();
}

/* A resize or pool forward (y, x, NC, H, W, OH, OW[, window]) and, for resizes, its adjoint. */
static void resize_case(KernelSpec fwd, KernelSpec bwd, Shape xs, Shape ys) {
  size_t nx = shape_numel(xs), ny = shape_numel(ys);
  float *x = malloc(nx * 4), *y = malloc(ny * 4), *ref = malloc(ny * 4), *dx = malloc(nx * 4), *dref = malloc(nx * 4);
  rnd_fill(x, nx, -2, 2);
  if (fwd.family == KFAM_BILINEAR) cpu_bilinear(x, xs, ref, ys, fwd.flag);
  else cpu_nearest(x, xs, ref, ys);
  float *yp = dev_of(NULL, ny), *xp = dev_of(x, nx);
  KArgs k;
  ka_init(&k, (int64_t)ny), ka_ptr(&k, yp), ka_ptr(&k, xp), ka_i64(&k, (int64_t)xs.n * xs.c);
  ka_i64(&k, xs.h), ka_i64(&k, xs.w), ka_i64(&k, ys.h), ka_i64(&k, ys.w);
  if (run(fwd, &k)) host_of(y, yp, ny), compare(fwd, ys.h > xs.h ? "up" : "down", y, ref, ny, 1e-5);
  rnd_fill(ref, ny, -1, 1); /* now dy */
  if (bwd.family == KFAM_BILINEAR_BWD) cpu_bilinear_backward(ref, ys, dref, xs, bwd.flag, false);
  else cpu_nearest_backward(ref, ys, dref, xs, false);
  float *dxp = dev_of(NULL, nx);
  ka_init(&k, (int64_t)ny), ka_ptr(&k, dxp), ka_ptr(&k, dev_of(ref, ny)), ka_i64(&k, (int64_t)xs.n * xs.c);
  ka_i64(&k, xs.h), ka_i64(&k, xs.w), ka_i64(&k, ys.h), ka_i64(&k, ys.w);
  if (run(bwd, &k)) host_of(dx, dxp, nx), compare(bwd, ys.h > xs.h ? "up" : "down", dx, dref, nx, 1e-5);
  free_all();
  free(x), free(y), free(ref), free(dx), free(dref);
}

static void test_resize(void) {
  const Shape up = {NB, NC, 9, 13}, down = {NB, NC, 3, 4};
  for (int ac = 0; ac < 2; ac++) {
    KernelSpec f = {.family = KFAM_BILINEAR, .flag = ac}, b = {.family = KFAM_BILINEAR_BWD, .flag = ac};
    resize_case(f, b, S0, up), resize_case(f, b, S0, down);
  }
  KernelSpec f = {.family = KFAM_NEAREST}, b = {.family = KFAM_NEAREST_BWD};
  resize_case(f, b, S0, up), resize_case(f, b, S0, down);
}

static void pool_case(int cip, int kh, int kw, int sh, int sw, int ph, int pw) {
  enum { H = 9, W = 11 };
  Shape xs = {NB, NC, H, W}, ys = {NB, NC, (H + 2 * ph - kh) / sh + 1, (W + 2 * pw - kw) / sw + 1};
  size_t nx = shape_numel(xs), ny = shape_numel(ys);
  float x[NB * NC * H * W], y[NB * NC * H * W], ref[NB * NC * H * W];
  rnd_fill(x, nx, -2, 2);
  cpu_avgpool(x, xs, kh, kw, sh, sw, ph, pw, cip, ref, ys);
  KernelSpec s = {.family = KFAM_AVGPOOL, .flag = cip};
  float *yp = dev_of(NULL, ny);
  KArgs k;
  ka_init(&k, (int64_t)ny), ka_ptr(&k, yp), ka_ptr(&k, dev_of(x, nx)), ka_i64(&k, NB * NC), ka_i64(&k, H), ka_i64(&k, W);
  ka_i64(&k, ys.h), ka_i64(&k, ys.w), ka_i64(&k, kh), ka_i64(&k, kw), ka_i64(&k, sh), ka_i64(&k, sw), ka_i64(&k, ph), ka_i64(&k, pw);
  char what[64];
  snprintf(what, sizeof what, "k%dx%d s%dx%d p%dx%d", kh, kw, sh, sw, ph, pw);
  if (run(s, &k)) host_of(y, yp, ny), compare(s, what, y, ref, ny, 1e-5);
  free_all();
}

static void test_pools(void) {
  for (int cip = 0; cip < 2; cip++) pool_case(cip, 3, 3, 2, 2, 1, 1), pool_case(cip, 5, 4, 3, 2, 0, 2);
  float x[NUM], y[NB * NC], ref[NB * NC];
  rnd_fill(x, NUM, -2, 2);
  cpu_global_avgpool(x, S0, ref);
  float *yp = dev_of(NULL, NB * NC);
  KArgs k;
  ka_init(&k, NB * NC), ka_ptr(&k, yp), ka_ptr(&k, dev_of(x, NUM)), ka_i64(&k, NB * NC), ka_i64(&k, NH * NW);
  if (run((KernelSpec){.family = KFAM_GAP}, &k)) host_of(y, yp, NB * NC), compare((KernelSpec){.family = KFAM_GAP}, "", y, ref, NB * NC, 1e-5);
  free_all();
}

/* PyTorch SGD as trainer.c's sgd: d = g + wd*w; mom = first ? d : momentum*mom + d (no mom: d); w -= lr*mom. */
static void test_sgd(void) {
  enum { N = 100 };
  const float lr = 0.1f, momentum = 0.9f, wd = 1e-4f;
  for (int c = 0; c < 3; c++) { /* first step, later step, no momentum buffer */
    float w[N], g[N], m[N], wr[N], mr[N], got[N];
    rnd_fill(w, N, -1, 1), rnd_fill(g, N, -1, 1), rnd_fill(m, N, -1, 1);
    memcpy(wr, w, sizeof w), memcpy(mr, m, sizeof m);
    for (int i = 0; i < N; i++) {
      float d = g[i] + wd * wr[i];
      float v = c == 2 ? d : c == 0 ? d : momentum * mr[i] + d;
      if (c != 2) mr[i] = v;
      wr[i] -= lr * v;
    }
    float *wp = dev_of(w, N), *mp = c == 2 ? NULL : dev_of(m, N);
    KArgs k;
    ka_init(&k, N), ka_ptr(&k, wp), ka_ptr(&k, dev_of(g, N)), ka_ptr(&k, mp), ka_i64(&k, N);
    ka_f32(&k, lr), ka_f32(&k, momentum), ka_f32(&k, wd), ka_i64(&k, c == 0);
    KernelSpec s = {.family = KFAM_SGD};
    if (run(s, &k)) {
      host_of(got, wp, N), compare(s, c == 0 ? "first step: w" : c == 1 ? "w" : "no momentum: w", got, wr, N, 1e-6);
      if (mp) host_of(got, mp, N), compare(s, "momentum", got, mr, N, 1e-6);
    }
    free_all();
  }
}

void gpu_kernel_tests(const Plan *p, int cc) {
  char err[4096];
  K = cuda_kernels_load(p, cc, err, sizeof err);
  gpu_check(K != NULL, K ? "the plan's PTX module loads" : err);
  if (!K) return;
  printf("module %s on sm_%d\n", cuda_kernels_target(K), cc);
  test_act();
  test_binary();
  test_affine();
  test_dwconv(p);
  test_mix();
  test_xent();
  test_resize();
  test_pools();
  test_sgd();
  cuda_kernels_free(K);
}
