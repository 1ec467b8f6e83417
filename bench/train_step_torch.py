#!/usr/bin/python3
"""bench/train_step_torch.py - the PyTorch CPU side of bench/train_cpu.sh: the time of one training step
(zero_grad, training-mode forward, cross-entropy loss, backward, SGD step) of a published SqueezeNAS net.

  /usr/bin/python3 bench/train_step_torch.py NET --input HxW [--batch 2] [--threads 2] [--iters 5]
                   [--warmup 2] [--seed 0] [--json]

The network is bench/squeezenas_torch.py's SqueezeNASNet with constructor-random weights (seeded). For the
LR-ASPP nets (small, large) the decoder's AvgPool2d(49, stride (16, 20), count_include_pad=False) becomes the
"fitted" window (min(49, H16), min(49, W16)) of tests/train_ref/make_sgd_ref.py (fitted_lraspp_forward), which
sqnrun's trainer uses too; the published op needs an OS16 map of at least 49 x 49 (inputs >= 784 x 784).
The xlarge nets (ASPP decoder) are unchanged.

Data: input randn(B, 3, H, W); labels uniform in 0..18 with ~5 % set to 255 (ignored). Loss
F.cross_entropy(logits, labels, ignore_index=255); torch.optim.SGD(lr=1e-4, momentum=0.9, weight_decay=1e-5),
as `sqnrun --bench --train`. Prints min/median/max step time, images/s and the process's peak RSS
(resource.getrusage ru_maxrss / 1024, MiB).
"""
import argparse
import json
import os
import resource
import sys
import time
import types

import torch
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


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("net", choices=sqn.NETS)
    ap.add_argument("--input", default="256x512", help="HxW (default 256x512)")
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true", help="one JSON line")
    a = ap.parse_args()
    if a.iters < 1:
        ap.error("--iters must be at least 1")
    torch.set_num_threads(a.threads)
    h, w = sqn.parse_hw(a.input)
    torch.manual_seed(a.seed)

    model = sqn.SqueezeNASNet(a.net)
    if model.kind == "lr_aspp":
        model.decoder.forward = types.MethodType(fitted_lraspp_forward, model.decoder)
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)

    g = torch.Generator().manual_seed(a.seed + 1000)
    x = torch.randn((a.batch, 3, h, w), generator=g)
    labels = torch.randint(0, CLASSES, (a.batch, h, w), generator=g)
    labels[torch.rand((a.batch, h, w), generator=g) < IGNORE_FRACTION] = IGNORE

    times, losses = [], []
    for i in range(a.warmup + a.iters):
        t0 = time.perf_counter()
        opt.zero_grad()
        logits = model(x)
        loss = F.cross_entropy(logits, labels, ignore_index=IGNORE)
        loss.backward()
        opt.step()
        dt = time.perf_counter() - t0
        losses.append(loss.item())
        if i >= a.warmup:
            times.append(dt)
    times.sort()
    n = len(times)
    med = times[n // 2] if n % 2 else 0.5 * (times[n // 2 - 1] + times[n // 2])
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    if a.json:
        print(json.dumps({"network": a.net, "mode": "train_step", "input": [a.batch, 3, h, w],
                          "threads": torch.get_num_threads(), "iters": a.iters, "min_ms": times[0] * 1e3,
                          "median_ms": med * 1e3, "max_ms": times[-1] * 1e3, "images_per_s": a.batch / med,
                          "peak_rss_mib": rss, "loss_first": losses[0], "loss_last": losses[-1],
                          "torch": torch.__version__}))
    else:
        print("%s %dx3x%dx%d threads %d: training step median %.1f ms, min %.1f ms, max %.1f ms (%d steps), "
              "%.2f images/s, peak RSS %.1f MiB" % (a.net, a.batch, h, w, torch.get_num_threads(), med * 1e3,
                                                    times[0] * 1e3, times[-1] * 1e3, n, a.batch / med, rss))
    return 0


if __name__ == "__main__":
    sys.exit(main())
