#!/usr/bin/python3
"""bench/supernet_torch.py - the PyTorch CPU side of bench/search_step.sh: the time of one search step of the
SqueezeNAS Small supernet (every candidate of every superblock runs, mixed by per-sample weights).

  /usr/bin/python3 bench/supernet_torch.py [--input 784x784] [--batch 2] [--threads 2] [--iters 3]
                   [--warmup 1] [--seed 0] [--json]
  /usr/bin/python3 bench/supernet_torch.py --golden /work/shared/reference [--threads 2]
  /usr/bin/python3 bench/supernet_torch.py --count-params

An independent implementation of the Small supernet as /work/shared/reference/README.md (sections 3 and 5,
"Supernet (Small) facts") describes it, built from bench/squeezenas_torch.py's modules (no upstream code):
- stem 3x3 conv stride 2 (3 -> 16) + BN + ReLU;
- stages (16,4,2), (24,4,2), (40,4,2), (48,4,1), (96,4,1): 20 superblocks, each holding the 13 candidates in
  upstream's order (inverse_residual k3/k5 x e1 g1, e1 g2, e3, e6, then the k3 d2 ones, then residual_skipish =
  Zero (stride 1, same channels) / FactorizedReduce (stride 2) / ReLU-conv-BN (otherwise));
- superblock output sum_k w[k, b] * op_k(x) (a Python sum from 0 over the candidates in order, as upstream's
  MixedModule), plus x when stride 1 and cin == cout;
- last_conv 1x1 96 -> 256 + BN + ReLU; LR-ASPP decoder (mid 128, 19 classes) with low = superblock 7's output;
  bilinear x8 (align_corners=True). The decoder's AvgPool2d(49, stride (16, 20), count_include_pad=False) has
  the fitted window (min(49, H16), min(49, W16)) of tests/train_ref/make_sgd_ref.py (fitted_lraspp_forward),
  which is upstream's op exactly at inputs of at least 784 x 784 and what spaces/small.sqn's pool_fit does.

One step (timed as a whole): zero_grad; mixing weights w = softmax over the 13 candidates of Gumbel noise
-log(-log(u)), independently per superblock and sample, as a leaf tensor requiring grad (so backward computes
d loss / d w as in a search step); train-mode forward; F.cross_entropy(ignore_index=255); backward;
torch.optim.SGD(lr=1e-4, momentum=0.9, weight_decay=1e-5) step over the network weights. Input randn(B, 3, H, W),
labels uniform in 0..18 with ~5 % set to 255. Weights: PyTorch constructor init (seeded).
Prints min/median/max step time, images/s and the process's peak RSS (resource.getrusage ru_maxrss / 1024, MiB).

--golden checks the implementation itself: the reference's supernet_small.init.pth (state_dict names are
upstream's), input, labels and fixed mixing weights, one train-mode forward and backward, compared with upstream's
loss (3.76913643), d loss / d mixing weights and a few parameter gradients. --count-params: 3,668,366, the
reference's 3,668,626 less the 20 x 13 gumble_arch_params.
"""
import argparse
import json
import os
import resource
import sys
import time
import types

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "train_ref"))
import squeezenas_torch as sqn  # noqa: E402
from make_sgd_ref import fitted_lraspp_forward  # noqa: E402

CLASSES, IGNORE = 19, 255
IGNORE_FRACTION = 0.05
LR, MOMENTUM, WEIGHT_DECAY = 1e-4, 0.9, 1e-5

# Upstream's SQUEEZENAS_SEARCH_SPACE order (reference README section 5, op table).
CANDIDATES = ["inverse_residual_" + s for s in (
    "k3_e1_g1", "k3_e1_g2", "k3_e3_g1", "k3_e6_g1", "k5_e1_g1", "k5_e1_g2", "k5_e3_g1", "k5_e6_g1",
    "k3_e1_g1_d2", "k3_e1_g2_d2", "k3_e3_g1_d2", "k3_e6_g1_d2")] + ["residual_skipish"]
assert all(c in sqn.OPS for c in CANDIDATES[:-1])


class SuperBlock(nn.Module):
    """All 13 candidates of one searched position; output sum_k w[k, b] op_k(x) (+ x when residual)."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.residual = stride == 1 and cin == cout
        ops = {}
        for name in CANDIDATES:
            # sqn.Block builds the same op a fixed network uses at this position (Zero / FactorizedReduce /
            # ReLU-conv-BN for residual_skipish); only its .op is kept, the residual add is done here.
            ops[name] = sqn.Block(name, cin, cout, stride).op
        self.ops = nn.ModuleDict(ops)

    def forward(self, x, w):
        # w: [13, B]; a Python sum from 0 in candidate order, as upstream's MixedModule.
        y = sum(w[k].view(-1, 1, 1, 1) * op(x) for k, op in enumerate(self.ops.values()))
        return x + y if self.residual else y


class SmallSupernet(nn.Module):
    def __init__(self):
        super().__init__()
        hp = sqn.HYPER["small"]
        enc = nn.Module()
        enc.conv1 = sqn.conv_bn_relu_seq(3, hp["init"], 3, 2)
        blocks, cin = [], hp["init"]
        for ch, rep, first_stride in hp["blocks"]:
            for r in range(rep):
                blocks.append(SuperBlock(cin, ch, first_stride if r == 0 else 1))
                cin = ch
        enc.residuals = nn.ModuleList(blocks)
        enc.last_conv = sqn.conv_bn_relu_seq(cin, hp["last"], 1, 1)
        self.encoder = enc
        self.skip_index = hp["skip"]
        skip_ch = [b for b in hp["blocks"] for _ in range(b[1])][hp["skip"]][0]
        self.decoder = sqn.LRASPP(hp["last"], skip_ch, hp["mid"], CLASSES)
        self.decoder.forward = types.MethodType(fitted_lraspp_forward, self.decoder)

    def forward(self, x, mix):
        x = self.encoder.conv1(x)
        skip = None
        for i, b in enumerate(self.encoder.residuals):
            x = b(x, mix[i])
            if i == self.skip_index:
                skip = x
        x = self.encoder.last_conv(x)
        y = self.decoder(x, skip)
        return F.interpolate(y, scale_factor=8, mode="bilinear", align_corners=True)


def gumbel_mix(nsb, ncand, batch, g):
    u = torch.rand((nsb, ncand, batch), generator=g).clamp_(1e-10, 1.0 - 1e-7)
    return torch.softmax(-torch.log(-torch.log(u)), dim=1).requires_grad_()


def golden(model, d):
    """One train-mode forward/backward on the reference's supernet_small.* files; prints relative errors."""
    f = lambda n: os.path.join(d, "supernet_small." + n)  # noqa: E731
    sd = {k: v for k, v in torch.load(f("init.pth")).items()
          if not k.endswith(("gumble_arch_params", "ops_cost", "gumbel_temperature"))}
    model.load_state_dict(sd, strict=True)
    model.train()
    x, labels = sqn.npy_read(f("input.npy")), sqn.npy_read(f("labels.npy")).long()
    mix = sqn.npy_read(f("mix_weights.npy")).clone().requires_grad_()
    loss = F.cross_entropy(model(x, mix), labels, ignore_index=IGNORE)
    loss.backward()
    rel = lambda a, b: ((a - b).norm() / b.norm()).item()  # noqa: E731
    ref = sqn.npy_read(f("loss.npy")).reshape(())
    out = {"loss": loss.item(), "loss_ref": ref.item(), "loss_rel": abs(loss.item() / ref.item() - 1),
           "mix_grad_rel_l2": rel(mix.grad, sqn.npy_read(f("grad.mix_weights.npy")))}
    params = dict(model.named_parameters())
    for name in ("decoder._1x1_TR.weight", "encoder.conv1.0.weight",
                 "encoder.residuals.10.ops.inverse_residual_k5_e6_g1.3.weight"):
        out["grad_rel_l2 " + name] = rel(params[name].grad, sqn.npy_read(f("grad." + name + ".npy")))
    print(json.dumps(out))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--input", default="784x784", help="HxW (default 784x784)")
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--iters", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true", help="one JSON line")
    ap.add_argument("--device", default="cpu", help="cpu or cuda (steps timed with torch.cuda.synchronize)")
    ap.add_argument("--count-params", action="store_true", help="print the parameter count and exit")
    ap.add_argument("--golden", metavar="DIR",
                    help="instead of timing: one step from DIR/supernet_small.* (the reference's init weights, "
                         "input, labels and fixed mixing weights) compared with upstream's loss and gradients")
    a = ap.parse_args()
    if a.iters < 1:
        ap.error("--iters must be at least 1")
    torch.set_num_threads(a.threads)
    h, w = sqn.parse_hw(a.input)
    torch.manual_seed(a.seed)

    model = SmallSupernet()
    if a.count_params:
        print(sum(p.numel() for p in model.parameters()))
        return 0
    if a.golden:
        return golden(model, a.golden)
    dev = torch.device(a.device)
    model = model.to(dev)
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    nsb = len(model.encoder.residuals)

    g = torch.Generator().manual_seed(a.seed + 1000)
    x = torch.randn((a.batch, 3, h, w), generator=g)
    labels = torch.randint(0, CLASSES, (a.batch, h, w), generator=g)
    labels[torch.rand((a.batch, h, w), generator=g) < IGNORE_FRACTION] = IGNORE
    x, labels = x.to(dev), labels.to(dev)

    times, losses = [], []
    mix_grad_norm = 0.0
    for i in range(a.warmup + a.iters):
        sync()
        t0 = time.perf_counter()
        opt.zero_grad()
        mix = gumbel_mix(nsb, len(CANDIDATES), a.batch, g).detach().to(dev).requires_grad_()
        logits = model(x, mix)
        loss = F.cross_entropy(logits, labels, ignore_index=IGNORE)
        loss.backward()
        opt.step()
        sync()
        dt = time.perf_counter() - t0
        losses.append(loss.item())
        mix_grad_norm = mix.grad.norm().item()
        if i >= a.warmup:
            times.append(dt)
    times.sort()
    n = len(times)
    med = times[n // 2] if n % 2 else 0.5 * (times[n // 2 - 1] + times[n // 2])
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    if a.json:
        print(json.dumps({"network": "small_supernet", "mode": "search_step", "input": [a.batch, 3, h, w],
                          "threads": torch.get_num_threads(), "iters": a.iters, "min_ms": times[0] * 1e3,
                          "median_ms": med * 1e3, "max_ms": times[-1] * 1e3, "images_per_s": a.batch / med,
                          "peak_rss_mib": rss, "loss_first": losses[0], "loss_last": losses[-1],
                          "mix_grad_norm": mix_grad_norm, "torch": torch.__version__}))
    else:
        print("small supernet %dx3x%dx%d threads %d: search step median %.1f ms, min %.1f ms, max %.1f ms (%d steps), "
              "%.2f images/s, peak RSS %.1f MiB" % (a.batch, h, w, torch.get_num_threads(), med * 1e3, times[0] * 1e3,
                                                    times[-1] * 1e3, n, a.batch / med, rss))
    return 0


if __name__ == "__main__":
    sys.exit(main())
