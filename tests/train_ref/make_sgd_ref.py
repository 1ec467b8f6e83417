#!/usr/bin/python3
"""tests/train_ref/make_sgd_ref.py - the PyTorch reference for two SGD training steps of lat_small,
for the golden test of the C trainer. See tests/train_ref/README.md for the exact procedure.

  /usr/bin/python3 tests/train_ref/make_sgd_ref.py [--out tests/data/sgd_step]
        [--weights /work/shared/reference/weights/lat_small.pth]

Writes OUT/input.npy (float32 2x3x128x256, normalized), OUT/labels.npy (uint8 2x128x256, train ids,
255 = ignore), OUT/loss.npy (float64 [2], the float64 run's loss at steps 1 and 2), OUT/ref.pth (a
zip-format torch.save of a flat dict of float32 tensors from the float64 run: "grad1.<param>" and
"after2.<state_dict entry>") and OUT/tolerances.json (how far a float32 run drifts from the float64
one). Uses bench/squeezenas_torch.py for the network; only the LR-ASPP pooling window is changed
(fitted to the OS16 map, see fitted_lraspp_forward).
"""
import argparse
import json
import math
import os
import sys
import types

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "bench"))
import squeezenas_torch as sqn  # noqa: E402

NET = "lat_small"
BATCH, H, W = 2, 128, 256
CLASSES, IGNORE = 19, 255
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
LR, MOMENTUM, WEIGHT_DECAY = 0.05, 0.9, 1e-5
STEPS = 2
IGNORE_FRACTION = 0.05


# --------------------------------------------------------------------------------------------------
# The "fitted" LR-ASPP pooling window

def fitted_lraspp_forward(self, os16, os8):
    """sqn.LRASPP.forward with AvgPool2d(49, stride (16, 20), count_include_pad=False) replaced by
    kernel (min(49, H16), min(49, W16)), the same stride, padding 0, count_include_pad=False (the
    published op for OS16 maps of at least 49 x 49, i.e. inputs of at least 784 x 784). Everything
    else is sqn.LRASPP.forward verbatim."""
    kh, kw = min(49, os16.shape[2]), min(49, os16.shape[3])
    t1 = self._1x1_TL(os16)
    p = F.avg_pool2d(os16, kernel_size=(kh, kw), stride=(16, 20), padding=0, ceil_mode=False,
                     count_include_pad=False)
    t2 = torch.sigmoid(self._1x1_BL(p))
    t2 = F.interpolate(t2, size=t1.shape[2:], mode="bilinear", align_corners=False)
    t3 = F.interpolate(t1 * t2, size=os8.shape[2:], mode="bilinear", align_corners=False)
    t3 = self._1x1_TR(t3)
    t4 = self._1x1_BR(os8)
    return t3 + t4


def build_model(weights):
    model = sqn.SqueezeNASNet(NET)
    assert model.kind == "lr_aspp"
    model.load_state_dict(torch.load(weights, map_location="cpu"))
    model.decoder.forward = types.MethodType(fitted_lraspp_forward, model.decoder)
    return model


# --------------------------------------------------------------------------------------------------
# Data: structured uint8 images and label maps from torch.manual_seed(0)

def smooth_field(n, h, w, cells_h, cells_w):
    """n smooth random fields of size h x w: N(0, 1) on a coarse grid, bilinearly upsampled."""
    coarse = torch.randn(n, 1, cells_h, cells_w, dtype=torch.float64)
    return F.interpolate(coarse, size=(h, w), mode="bilinear", align_corners=True)[:, 0]


def make_data():
    torch.manual_seed(0)
    # Labels: a Voronoi partition into 24 regions per image (random seed points, random classes),
    # then ~5% ignore where a smooth random field is above its 95th percentile (a few blobs).
    nseeds = 24
    ys = torch.arange(H, dtype=torch.float64).view(1, H, 1, 1)
    xs = torch.arange(W, dtype=torch.float64).view(1, 1, W, 1)
    pts = torch.rand(BATCH, 1, 1, nseeds, 2, dtype=torch.float64) * torch.tensor([H, W], dtype=torch.float64)
    cls = torch.randint(0, CLASSES, (BATCH, nseeds))
    d2 = (ys - pts[..., 0]) ** 2 + (xs - pts[..., 1]) ** 2          # B x H x W x nseeds
    nearest = d2.argmin(dim=-1)                                       # B x H x W
    labels = torch.gather(cls, 1, nearest.view(BATCH, -1)).view(BATCH, H, W)
    field = smooth_field(BATCH, H, W, 5, 9)
    for b in range(BATCH):
        thr = torch.quantile(field[b].flatten(), 1.0 - IGNORE_FRACTION)
        labels[b][field[b] > thr] = IGNORE
    labels = labels.to(torch.uint8)

    # Images: a color per class (a region's color), smooth shading, uniform noise, all in uint8.
    colors = torch.randint(30, 226, (CLASSES + 1, 3)).to(torch.float64)   # row CLASSES: the ignore blobs
    idx = torch.where(labels == IGNORE, torch.full_like(labels, CLASSES), labels).long()
    img = colors[idx].permute(0, 3, 1, 2)                                  # B x 3 x H x W
    img = img + 40.0 * smooth_field(BATCH * 3, H, W, 4, 6).view(BATCH, 3, H, W)
    img = img + torch.randint(-25, 26, (BATCH, 3, H, W)).to(torch.float64)
    img_u8 = img.round().clamp(0, 255).to(torch.uint8)

    mean = torch.tensor(MEAN, dtype=torch.float64).view(1, 3, 1, 1)
    std = torch.tensor(STD, dtype=torch.float64).view(1, 3, 1, 1)
    x = ((img_u8.to(torch.float64) / 255.0 - mean) / std).to(torch.float32)
    return x, labels


# --------------------------------------------------------------------------------------------------
# Training

def train(dtype, x32, labels, weights):
    """Two SGD steps on the same batch; returns (losses, grads of step 1, state_dict after step 2,
    initial state_dict), all tensors in dtype."""
    model = build_model(weights).to(dtype)
    model.train()
    init = {k: v.detach().clone() for k, v in model.state_dict().items()}
    params = [p for p in model.parameters() if p.requires_grad]
    names = [n for n, p in model.named_parameters() if p.requires_grad]
    opt = torch.optim.SGD(params, lr=LR, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)
    x = x32.to(dtype)
    target = labels.long()
    losses, grad1 = [], None
    for step in range(STEPS):
        opt.zero_grad()
        logits = model(x)
        assert logits.shape[2:] == target.shape[1:], logits.shape
        loss = F.cross_entropy(logits, target, ignore_index=IGNORE)
        loss.backward()
        if step == 0:
            grad1 = {n: p.grad.detach().clone() for n, p in zip(names, params)}
        opt.step()
        losses.append(loss.item())
    after = {k: v.detach().clone() for k, v in model.state_dict().items()}
    return losses, grad1, after, init


def rel_l2(a, b):
    """||a - b|| / ||b|| in float64 (0 when both are 0)."""
    a, b = a.double(), b.double()
    nb = b.norm().item()
    nd = (a - b).norm().item()
    if nb == 0:
        return 0.0 if nd == 0 else math.inf
    return nd / nb


NEAR_ZERO = 1e-6


def group_stats(pairs):
    """pairs: name -> (a32, a64). A tensor whose float64 RMS is below NEAR_ZERO x the group's RMS is
    "near zero" (e.g. the mathematically zero gradient of a BN bias whose output only feeds
    conv -> train-mode BN: its float64 value is rounding noise, ~1e-16), where a relative error means
    nothing; those are listed with their max |x32 - x64| instead. For the others: the max per-tensor
    relative L2 (with its tensor) and the max |x32 - x64|. Then the relative L2 of the whole group as
    one vector and the number of tensors."""
    sq = sum(b.double().norm().item() ** 2 for _, b in pairs.values())
    n = sum(b.numel() for _, b in pairs.values())
    group_rms = math.sqrt(sq / n) if n else 0.0
    worst, worst_name, max_abs = 0.0, None, 0.0
    near_zero, near_zero_abs = [], 0.0
    num = 0.0
    for name, (a, b) in pairs.items():
        a, b = a.double(), b.double()
        d = a - b
        num += d.norm().item() ** 2
        if b.norm().item() / math.sqrt(b.numel()) < NEAR_ZERO * group_rms:
            near_zero.append(name)
            near_zero_abs = max(near_zero_abs, d.abs().max().item())
            continue
        r = rel_l2(a, b)
        if worst_name is None or r > worst:
            worst, worst_name = r, name
        max_abs = max(max_abs, d.abs().max().item())
    return {"max_rel_l2": worst, "max_rel_l2_tensor": worst_name, "max_abs_diff": max_abs,
            "group_rel_l2": math.sqrt(num / sq) if sq else 0.0, "group_rms": group_rms,
            "tensors": len(pairs), "near_zero_tensors": near_zero, "near_zero_max_abs_diff": near_zero_abs}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "data", "sgd_step"))
    ap.add_argument("--weights", default=os.path.join(ROOT, "..", "shared", "reference", "weights", NET + ".pth"))
    a = ap.parse_args()

    torch.set_num_threads(2)
    try:
        torch.use_deterministic_algorithms(True)
    except Exception:  # noqa: BLE001 - older builds
        torch.use_deterministic_algorithms(True, warn_only=True)

    x32, labels = make_data()
    ign = (labels == IGNORE).double().mean().item()
    print("input %s float32, labels %s uint8 (%.2f%% ignore, %d classes present)" % (
        "x".join(map(str, x32.shape)), "x".join(map(str, labels.shape)), 100 * ign,
        len(set(labels.flatten().tolist()) - {IGNORE})))

    l64, g64, s64, i64 = train(torch.float64, x32, labels, a.weights)
    l32, g32, s32, i32 = train(torch.float32, x32, labels, a.weights)
    print("float64 loss: step 1 %.10f, step 2 %.10f" % tuple(l64))
    print("float32 loss: step 1 %.10f, step 2 %.10f" % tuple(l32))

    os.makedirs(a.out, exist_ok=True)
    sqn.npy_write(os.path.join(a.out, "input.npy"), x32)
    sqn.npy_write(os.path.join(a.out, "labels.npy"), labels)
    sqn.npy_write(os.path.join(a.out, "loss.npy"), torch.tensor(l64, dtype=torch.float64))
    ref = {}
    for n, g in g64.items():
        ref["grad1." + n] = g.to(torch.float32).contiguous().clone()
    for n, v in s64.items():
        if n.endswith("num_batches_tracked"):
            continue
        ref["after2." + n] = v.to(torch.float32).contiguous().clone()
    torch.save(ref, os.path.join(a.out, "ref.pth"), _use_new_zipfile_serialization=True)

    # float32 vs float64
    loss_rel = max(abs(p - q) / abs(q) for p, q in zip(l32, l64))
    dec = {n: (g32[n], g64[n]) for n in g64 if not n.startswith("encoder.")}
    enc = {n: (g32[n], g64[n]) for n in g64 if n.startswith("encoder.")}
    pnames = set(g64)
    pdelta = {n: (s32[n] - i32[n], s64[n] - i64[n]) for n in s64 if n in pnames}
    bdelta = {n: (s32[n] - i32[n], s64[n] - i64[n]) for n in s64
              if n not in pnames and not n.endswith("num_batches_tracked")}
    after = {n: (s32[n], s64[n]) for n in s64 if not n.endswith("num_batches_tracked")}
    tol = {
        "what": "float32 run vs float64 run of tests/train_ref/make_sgd_ref.py (same input, weights, "
                "procedure); rel L2 = ||x32 - x64|| / ||x64|| per tensor; "
                "near_zero_tensors (float64 RMS < %g x group RMS) are left out of max_rel_l2 and "
                "reported by their max abs diff. Deltas are after2 - initial value." % NEAR_ZERO,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "loss_float64": l64,
        "loss_float32": l32,
        "loss": {"max_rel": loss_rel},
        "grad1_decoder": group_stats(dec),
        "grad1_encoder": group_stats(enc),
        "after2_param_delta": group_stats(pdelta),
        "after2_bn_running_stats_delta": group_stats(bdelta),
        "after2_values": group_stats(after),
    }
    with open(os.path.join(a.out, "tolerances.json"), "w") as f:
        json.dump(tol, f, indent=2)
        f.write("\n")
    for k in ("loss", "grad1_decoder", "grad1_encoder", "after2_param_delta", "after2_bn_running_stats_delta",
              "after2_values"):
        v = tol[k]
        if k == "loss":
            print("%-30s max rel %.3g" % (k, v["max_rel"]))
        else:
            print("%-30s max rel L2 %.3g (%s), group rel L2 %.3g, %d tensors; %d near zero (max abs %.3g)" % (
                k, v["max_rel_l2"], v["max_rel_l2_tensor"], v["group_rel_l2"], v["tensors"],
                len(v["near_zero_tensors"]), v["near_zero_max_abs_diff"]))
    total = sum(os.path.getsize(os.path.join(a.out, f)) for f in os.listdir(a.out))
    print("wrote %s (%d entries in ref.pth, %.2f MB in all)" % (a.out, len(ref), total / 1e6))
    return 0


if __name__ == "__main__":
    sys.exit(main())
