/* kernel_abi.c - names and parameter counts of the generated kernels (kernel_abi.h), shared by sqnc's
   generator and the launchers so both spell every variant the same way. */
#include "kernel_abi.h"
#include <stdio.h>

static const char *const act_names[KACT__COUNT] = {"none",  "relu",  "relu6",    "sigmoid",
                                                          "hswish", "silu", "hsigmoid", "tanh"};
static const char *const bin_names[KBIN__COUNT] = {"add", "mul", "sub"};

const char *kernel_act_name(int act) { return act >= 0 && act < KACT__COUNT ? act_names[act] : "?"; }

void kernel_spec_name(const KernelSpec *k, char *buf, size_t n) {
  const char *act = kernel_act_name(k->act);
  switch (k->family) {
  case KFAM_ACT: snprintf(buf, n, "sqn_act_%s", act); break;
  case KFAM_ACT_BWD: snprintf(buf, n, "sqn_act_bwd_%s", act); break;
  case KFAM_BINARY: snprintf(buf, n, "sqn_binary_%s", k->op >= 0 && k->op < KBIN__COUNT ? bin_names[k->op] : "?"); break;
  case KFAM_AFFINE: snprintf(buf, n, "sqn_affine_%s", act); break;
  case KFAM_DWCONV:
    snprintf(buf, n, "sqn_dwconv_k%dx%d_s%dx%d_d%dx%d_%s", k->kh, k->kw, k->sh, k->sw, k->dh, k->dw, act);
    break;
  case KFAM_MIX_FWD: snprintf(buf, n, "sqn_mix_fwd"); break;
  case KFAM_MIX_BWD_DX: snprintf(buf, n, "sqn_mix_bwd_dx"); break;
  case KFAM_MIX_BWD_DW: snprintf(buf, n, "sqn_mix_bwd_dw"); break;
  case KFAM_XENT: snprintf(buf, n, "sqn_xent"); break;
  case KFAM_BILINEAR: snprintf(buf, n, "sqn_bilinear_ac%d", k->flag ? 1 : 0); break;
  case KFAM_BILINEAR_BWD: snprintf(buf, n, "sqn_bilinear_bwd_ac%d", k->flag ? 1 : 0); break;
  case KFAM_NEAREST: snprintf(buf, n, "sqn_nearest"); break;
  case KFAM_NEAREST_BWD: snprintf(buf, n, "sqn_nearest_bwd"); break;
  case KFAM_AVGPOOL: snprintf(buf, n, "sqn_avgpool_cip%d", k->flag ? 1 : 0); break;
  case KFAM_GAP: snprintf(buf, n, "sqn_gap"); break;
  case KFAM_SGD: snprintf(buf, n, "sqn_sgd"); break;
  case KFAM_SCALE: snprintf(buf, n, "sqn_scale"); break;
  case KFAM_LEAKY: snprintf(buf, n, "sqn_leaky"); break;
  case KFAM_MAXPOOL: snprintf(buf, n, "sqn_maxpool"); break;
  case KFAM_MAXPOOL_BWD: snprintf(buf, n, "sqn_maxpool_bwd"); break;
  case KFAM_SOFTMAX: snprintf(buf, n, "sqn_softmax"); break;
  case KFAM_SOFTMAX_BWD: snprintf(buf, n, "sqn_softmax_bwd"); break;
  case KFAM_PAD: snprintf(buf, n, "sqn_pad"); break;
  case KFAM_CHANNELS: snprintf(buf, n, "sqn_channels"); break;
  default: snprintf(buf, n, "sqn_unknown_%d", (int)k->family); break;
  }
}

int kernel_family_nparams(KernelFamily f) {
  static const int counts[KFAM__COUNT] = {
      [KFAM_ACT] = 4,         [KFAM_ACT_BWD] = 6,  [KFAM_BINARY] = 16,      [KFAM_AFFINE] = 7,
      [KFAM_DWCONV] = 13,     [KFAM_MIX_FWD] = 7,  [KFAM_MIX_BWD_DX] = 8,   [KFAM_MIX_BWD_DW] = 8,
      [KFAM_XENT] = 10,       [KFAM_BILINEAR] = 8, [KFAM_BILINEAR_BWD] = 8, [KFAM_NEAREST] = 8,
      [KFAM_NEAREST_BWD] = 8, [KFAM_AVGPOOL] = 14, [KFAM_GAP] = 5,          [KFAM_SGD] = 9,
      [KFAM_SCALE] = 7,       [KFAM_LEAKY] = 7,
      [KFAM_MAXPOOL] = 15,    [KFAM_MAXPOOL_BWD] = 16, [KFAM_SOFTMAX] = 5,   [KFAM_SOFTMAX_BWD] = 7,
      [KFAM_PAD] = 11,        [KFAM_CHANNELS] = 9,
  };
  return f >= 0 && f < KFAM__COUNT ? counts[f] : 0;
}

static int push(KernelSpec *out, int cap, int n, KernelSpec k) {
  if (n < cap) out[n] = k;
  return n + 1;
}

int kernel_library_specs(KernelSpec *out, int cap) {
  int n = 0;
  for (int a = KACT_RELU; a < KACT__COUNT; a++) {
    n = push(out, cap, n, (KernelSpec){.family = KFAM_ACT, .act = a});
    n = push(out, cap, n, (KernelSpec){.family = KFAM_ACT_BWD, .act = a});
  }
  for (int a = KACT_NONE; a < KACT__COUNT; a++) n = push(out, cap, n, (KernelSpec){.family = KFAM_AFFINE, .act = a});
  for (int op = 0; op < KBIN__COUNT; op++) n = push(out, cap, n, (KernelSpec){.family = KFAM_BINARY, .op = op});
  const KernelFamily plain[] = {KFAM_MIX_FWD, KFAM_MIX_BWD_DX, KFAM_MIX_BWD_DW, KFAM_XENT,
                                KFAM_NEAREST, KFAM_NEAREST_BWD, KFAM_GAP,        KFAM_SGD,
                                KFAM_SCALE,   KFAM_LEAKY,       KFAM_MAXPOOL,    KFAM_MAXPOOL_BWD,
                                KFAM_SOFTMAX, KFAM_SOFTMAX_BWD, KFAM_PAD,        KFAM_CHANNELS};
  for (size_t i = 0; i < sizeof plain / sizeof *plain; i++) n = push(out, cap, n, (KernelSpec){.family = plain[i]});
  for (int f = 0; f < 2; f++) {
    n = push(out, cap, n, (KernelSpec){.family = KFAM_BILINEAR, .flag = f});
    n = push(out, cap, n, (KernelSpec){.family = KFAM_BILINEAR_BWD, .flag = f});
    n = push(out, cap, n, (KernelSpec){.family = KFAM_AVGPOOL, .flag = f});
  }
  return n;
}

bool kernel_spec_equal(const KernelSpec *a, const KernelSpec *b) {
  return a->family == b->family && a->act == b->act && a->op == b->op && a->flag == b->flag && a->kh == b->kh &&
         a->kw == b->kw && a->sh == b->sh && a->sw == b->sw && a->dh == b->dh && a->dw == b->dw;
}
