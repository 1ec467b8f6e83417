/* cpu_fused_ir.c - cpu_fused_ir: a whole inverted residual (1x1 expand -> depthwise kxk -> 1x1 project
 * [+ input], BN folded, relu/relu6 epilogues) in one pass over the output rows, so the expanded tensor
 * (hidden channels at the input's resolution, the largest of the block) never goes to memory.
 *
 * Each task owns a band of output rows of one sample and walks it in batches of BO rows:
 *  1. expand the input rows the batch needs and not yet computed, with sgemm straight from the input
 *     planes (ldb = H*W), into a ring of R rows per hidden channel (E[hid][R][Wp], row r in slot r % R; stride 1:
 *     each ring row carries the depthwise conv's zero padding columns, so the depthwise rows have no edges);
 *  2. depthwise over the ring's rows into D[hid][BO*OW] (the same tap order as cpu_conv2d's direct path);
 *  3. project D with sgemm into the output rows (ldc = OH*OW), then bias and the residual add.
 * Only the first rows of a band are expanded twice (by its task and the one before). A residual block may write its
 * output over its input (the executor's in-place add): each band first copies the input rows it reads outside its
 * own rows (its halo), and every output row is written after the same input row was expanded and added. */
#include "cpu_ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "cpu_conv_internal.h"
#include "cpu_simd.h"
#include "omp_pragma.h"


static inline int imin(int a, int b) { return a < b ? a : b; }
static inline int imax(int a, int b) { return a > b ? a : b; }

typedef struct IrGeom {
  int N, cin, H, W, hid, cout, OH, OW;
  int Wp, pl;      /* ring row length and the zero columns before the row in it (stride 1: the padding; else 0) */
  int BO;          /* output rows per batch */
  int R;           /* ring rows: what one batch's taps span */
  int rows, nb;    /* output rows per band, bands per sample */
  int hrows;       /* the most input rows a band reads outside its own rows (in place: kept in its halo copy) */
  size_t per_task; /* floats of scratch per thread: the ring, D, (residual) the projected rows, one input row */
  size_t halo;     /* floats of one band's halo copy (residual blocks) */
} IrGeom;

static size_t round16(size_t n) { return (n + 15) & ~(size_t)15; }

static IrGeom geometry(const FusedIr *f, Shape xs, Shape ys) {
  IrGeom g = {xs.n, xs.c, xs.h, xs.w, f->hidden, ys.c, ys.h, ys.w, xs.w, 0, 1, 1, 1, 1, 0, 0, 0};
  if (f->sw == 1) { /* the columns the taps read: [-pw, OW - 1 + (kw - 1) * dw - pw] */
    g.pl = f->pw;
    g.Wp = imax(g.pl + g.W, g.OW + (f->kw - 1) * f->dw);
  }
  g.BO = imax(1, imin(g.OH, (256 + g.OW - 1) / imax(1, g.OW))); /* project gemms at least ~256 columns wide */
  g.R = (g.BO - 1) * f->sh + (f->kh - 1) * f->dh + 1;
  const int T = cpu_conv_threads();
  const int want = imax(1, (2 * T + g.N - 1) / g.N); /* bands per sample: two per thread */
  g.rows = imax((g.OH + want - 1) / want, imin(g.OH, 8));
  g.rows = (g.rows + g.BO - 1) / g.BO * g.BO;
  g.nb = (g.OH + g.rows - 1) / g.rows;
  g.hrows = (f->kh - 1) * f->dh;
  g.per_task = round16((size_t)g.hid * g.R * g.Wp) + round16((size_t)g.hid * g.BO * g.OW) +
               (f->residual ? round16((size_t)g.cout * g.BO * g.OW) : 0) +
               round16((size_t)(f->sw == 2 ? g.cin * g.R : 1) * g.W);
  g.halo = f->residual ? round16((size_t)g.cin * g.hrows * g.W) : 0;
  return g;
}

size_t cpu_fused_ir_scratch(const FusedIr *f, Shape xs, Shape ys) {
  const IrGeom g = geometry(f, xs, ys);
  return g.per_task * (size_t)cpu_conv_threads() + g.halo * (size_t)g.N * g.nb;
}

/* One task: output rows [oa, ob) of sample n, reading input rows [lo, hi). In place (y == x, a residual block),
   the rows outside [oa, ob) belong to other tasks, which overwrite them: they are read from `halo`, a copy taken
   before any task writes ([cin][hrows][W]: rows [lo, oa), then [ob, hi)). */
typedef struct Band {
  int n, oa, ob, lo, hi;
  const float *x;
  float *halo; /* NULL: not in place */
} Band;

static Band band_of(const FusedIr *f, const IrGeom *g, const float *x, long t, float *halos, bool in_place) {
  Band b = {(int)(t / g->nb), (int)(t % g->nb) * g->rows, 0, 0, 0, x, NULL};
  b.ob = imin(g->OH, b.oa + g->rows);
  b.lo = imax(0, b.oa * f->sh - f->ph);
  b.hi = imin(g->H, (b.ob - 1) * f->sh - f->ph + (f->kh - 1) * f->dh + 1);
  if (in_place) b.halo = halos + g->halo * (size_t)t;
  return b;
}

/* In place: the band's rows outside [oa, ob) into its halo. */
static void copy_halo(const IrGeom *g, const Band *b) {
  const size_t HW = (size_t)g->H * g->W, W = (size_t)g->W;
  const int top = imax(0, b->oa - b->lo), bottom = imax(0, b->hi - b->ob);
  for (int c = 0; c < g->cin; c++) {
    const float *xc = b->x + ((size_t)b->n * g->cin + c) * HW;
    float *h = b->halo + (size_t)c * g->hrows * W;
    if (top) memcpy(h, xc + (size_t)b->lo * W, (size_t)top * W * sizeof *h);
    if (bottom) memcpy(h + (size_t)top * W, xc + (size_t)b->ob * W, (size_t)bottom * W * sizeof *h);
  }
}

/* Where input rows from r0 on are read: the first row's address for channel 0 and the stride between channels (as
   sgemm's ldb); *r1 is cut where that source ends. */
static const float *source_rows(const IrGeom *g, const Band *b, int r0, int *r1, int *ldb) {
  const size_t HW = (size_t)g->H * g->W;
  if (!b->halo || (r0 >= b->oa && r0 < b->ob)) {
    if (b->halo) *r1 = imin(*r1, b->ob);
    *ldb = (int)HW;
    return b->x + (size_t)b->n * g->cin * HW + (size_t)r0 * g->W;
  }
  const int top = imax(0, b->oa - b->lo);
  if (r0 < b->oa) *r1 = imin(*r1, b->oa);
  *ldb = g->hrows * g->W;
  return b->halo + (size_t)(r0 < b->oa ? r0 - b->lo : top + r0 - b->ob) * g->W;
}

/* Step 1: input rows [r0, r1) (not wrapping around the ring; from one source) expanded into the ring. For a
   stride-2 depthwise conv the ring rows are stored deinterleaved: the 1x1 expand acts on each pixel alone, so the
   input rows are deinterleaved into tmp ([cin][r1 - r0][W]) first, which moves cin rather than hid channels. */
static void expand_rows(const FusedIr *f, const IrGeom *g, const float *src, int ldb, int r0, int r1, float *E,
                        float *tmp) {
  const int M = g->hid / f->g1, K = g->cin / f->g1, L = (r1 - r0) * g->W;
  const size_t ring = (size_t)g->R * g->Wp;
  if (f->sw == 2) {
    for (int c = 0; c < g->cin; c++)
      for (int r = 0; r < r1 - r0; r++)
        cpu_deinterleave(src + (size_t)c * ldb + (size_t)r * g->W, g->W, tmp + ((size_t)c * (r1 - r0) + r) * g->W);
    src = tmp, ldb = L;
  }
  const bool padded = g->Wp != g->W; /* ring rows apart: one gemm per row */
  for (int gr = 0; gr < f->g1; gr++) {
    float *C = E + (size_t)gr * M * ring + (size_t)(r0 % g->R) * g->Wp + g->pl;
    const float *A = f->w1 + (size_t)gr * M * K, *B = src + (size_t)gr * K * ldb;
    for (int r = 0; r < (padded ? r1 - r0 : 1); r++)
      cpu_gemm_bias_act(M, padded ? g->W : L, K, A, K, B + (size_t)r * g->W, ldb, C + (size_t)r * g->Wp, (int)ring,
                        f->b1 ? f->b1 + gr * M : NULL, f->act1);
  }
}

/* Stride 1: the padding columns of every ring row are zero (the expand writes only [pl, pl + W)). */
static void zero_ring_pads(const IrGeom *g, float *E) {
  if (g->Wp == g->W) return;
  for (size_t row = 0; row < (size_t)g->hid * g->R; row++) {
    float *r = E + row * g->Wp;
    memset(r, 0, (size_t)g->pl * sizeof *r);
    memset(r + g->pl + g->W, 0, (size_t)(g->Wp - g->pl - g->W) * sizeof *r);
  }
}

/* Step 2: depthwise output rows [o0, o1) of every hidden channel from the ring into D. */
static void depthwise_rows(const FusedIr *f, const IrGeom *g, const float *E, int o0, int o1, const CpuDwCols *dc,
                           float *D) {
  const size_t ring = (size_t)g->R * g->Wp;
  const float *rows[CPU_FUSED_IR_MAX_K];
  for (int c = 0; c < g->hid; c++) {
    for (int oy = o0; oy < o1; oy++) {
      for (int ky = 0; ky < f->kh; ky++) {
        const int iy = oy * f->sh - f->ph + ky * f->dh;
        rows[ky] = iy < 0 || iy >= g->H ? NULL : E + (size_t)c * ring + (size_t)(iy % g->R) * g->Wp;
      }
      float *yr = D + ((size_t)c * g->BO + (oy - o0)) * g->OW;
      cpu_dw_row(yr, rows, f->wd + (size_t)c * f->kh * f->kw, f->kh, f->kw, g->OW, dc, f->bd ? f->bd + c : NULL,
                 f->act2);
    }
  }
}

/* Step 3: output rows [o0, o1) = project(D) + bias [+ the input rows]. With a residual the projection goes to P
   first, so that y may be x: each output element is written after its input element is read. */
static void project_rows(const FusedIr *f, const IrGeom *g, const Band *b, const float *D, float *P, int o0, int o1,
                         float *y) {
  const int M = g->cout / f->g2, K = g->hid / f->g2, L = (o1 - o0) * g->OW;
  const size_t OHW = (size_t)g->OH * g->OW, ldp = (size_t)g->BO * g->OW;
  for (int gr = 0; gr < f->g2; gr++) {
    float *out = y + ((size_t)b->n * g->cout + (size_t)gr * M) * OHW + (size_t)o0 * g->OW;
    float *C = f->residual ? P + (size_t)gr * M * ldp : out;
    const size_t ldc = f->residual ? ldp : OHW;
    const float *A = f->w2 + (size_t)gr * M * K, *B = D + (size_t)gr * K * ldp;
    cpu_gemm_bias_act(M, L, K, A, K, B, (int)ldp, C, (int)ldc, f->b2 ? f->b2 + gr * M : NULL, CONV_ACT_NONE);
    for (int c = 0; f->residual && c < M; c++) {
      const float *restrict r = C + (size_t)c * ldc;
      const float *xr = b->x + ((size_t)b->n * g->cin + (size_t)gr * M + c) * OHW + (size_t)o0 * g->OW;
      float *yr = out + (size_t)c * OHW;
      for (int j = 0; j < L; j++) yr[j] = r[j] + xr[j];
    }
  }
}

static void run_band(const FusedIr *f, const IrGeom *g, const Band *b, const CpuDwCols *dc, float *scratch, float *y) {
  float *E = scratch, *D = E + round16((size_t)g->hid * g->R * g->Wp), *P = D + round16((size_t)g->hid * g->BO * g->OW);
  float *tmp = P + (f->residual ? round16((size_t)g->cout * g->BO * g->OW) : 0);
  zero_ring_pads(g, E);
  int next = b->lo; /* the first input row not in the ring yet */
  for (int o0 = b->oa; o0 < b->ob; o0 += g->BO) {
    const int o1 = imin(b->ob, o0 + g->BO);
    const int need = imin(g->H, (o1 - 1) * f->sh - f->ph + (f->kh - 1) * f->dh + 1);
    next = imax(next, o0 * f->sh - f->ph); /* rows a stride skips over are never needed */
    while (next < need) {
      int r1 = imin(need, next + (g->R - next % g->R)), ldb;
      const float *src = source_rows(g, b, next, &r1, &ldb);
      expand_rows(f, g, src, ldb, next, r1, E, tmp);
      next = r1;
    }
    depthwise_rows(f, g, E, o0, o1, dc, D);
    project_rows(f, g, b, D, P, o0, o1, y);
  }
}

void cpu_fused_ir(const float *x, Shape xs, const FusedIr *f, float *scratch, float *y, Shape ys) {
  if (shape_numel(ys) == 0) return;
  const IrGeom g = geometry(f, xs, ys);
  CpuDwCols dc;
  if (!cpu_dw_cols(f->kw, f->sw, f->dw, f->sw == 1 ? 0 : f->pw, g.Wp, g.OW, &dc) || f->kh > CPU_FUSED_IR_MAX_K) { /* the backend never asks (backend_cpu.c fusable) */
    fprintf(stderr, "cpu_fused_ir: depthwise kernels over %d wide are not supported\n", CPU_FUSED_IR_MAX_K);
    abort();
  }
  const long tasks = (long)g.N * g.nb;
  const bool in_place = f->residual && y == x;
  float *halos = scratch + g.per_task * (size_t)cpu_conv_threads();
  cpu_blas_single_thread();
  OMP(omp parallel)
  {
#ifdef _OPENMP
    float *mine = scratch + g.per_task * (size_t)omp_get_thread_num();
#else
    float *mine = scratch;
#endif
    if (in_place) {
      OMP(omp for schedule(static))
      for (long t = 0; t < tasks; t++) {
        const Band b = band_of(f, &g, x, t, halos, true);
        copy_halo(&g, &b);
      } /* the loop's barrier: every halo is copied before any task writes */
    }
    OMP(omp for schedule(dynamic, 1))
    for (long t = 0; t < tasks; t++) {
      const Band b = band_of(f, &g, x, t, halos, in_place);
      run_band(f, &g, &b, &dc, mine, y);
    }
  }
}
