#!/usr/bin/python3
"""bench/squeezenas_torch.py - an independent PyTorch implementation of the six published SqueezeNAS
networks (mac/lat x small/large/xlarge), written from the architecture description in
/work/shared/reference/README.md section 5 (no upstream code). Module names are chosen so that
model.state_dict() has upstream's parameter names (encoder.conv1.0.weight, encoder.residuals.N.op.K.weight,
decoder._1x1_TL.conv.weight, lowlevel1x1.weight, ...), i.e. the saved file loads into `sqnrun --weights`.

Uses torch only (numpy is optional): .npy files are read and written by the small helpers below.

  squeezenas_torch.py NET --input HxW [--seed S] [--save-weights W.pth] [--save-input IN.npy]
                      [--save-logits OUT.npy] [--load-weights W.pth] [--load-input IN.npy] [--threads N]
  squeezenas_torch.py NET --input HxW --bench [--threads N] [--iters K] [--warmup W] [--json]
  squeezenas_torch.py NET --list-params          (name and shape of every state_dict entry)

Random weights (--seed): convs Kaiming-normal (fan_in, ReLU gain), conv biases U(-0.1, 0.1); BN running
statistics are first calibrated to the network's own activations (one train-mode pass on a seeded random
input, momentum 1) and then perturbed at random (mean shift, variance scale), BN affine weight U(0.5, 1.5),
bias N(0, 0.1). So every BN has non-trivial random statistics, while activations stay O(1) and every layer
contributes to the logits.

Debug: SQN_TORCH_DUMP=DIR writes every intermediate tensor of the forward pass (stem, each block, skip,
encoder output, decoder pieces) to DIR/<name>.npy.
"""
import argparse
import ctypes
import json
import os
import struct
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

# --------------------------------------------------------------------------------------------------
# Architecture tables (README section 5)

# op name -> (depthwise kernel, expansion, 1x1 groups, dilation); padding = dilation * (k - 1) / 2
OPS = {}
for _k in (3, 5):
    for _e in (1, 3, 6):
        for _g in ((1, 2) if _e == 1 else (1,)):
            OPS["inverse_residual_k%d_e%d_g%d" % (_k, _e, _g)] = (_k, _e, _g, 1)
for _e in (1, 3, 6):
    for _g in ((1, 2) if _e == 1 else (1,)):
        OPS["inverse_residual_k3_e%d_g%d_d2" % (_e, _g)] = (3, _e, _g, 2)

HYPER = {
    # init_channels, blocks (channels, repeats, first stride), skip index, mid, last_channels, decoder
    "small": dict(init=16, blocks=[(16, 4, 2), (24, 4, 2), (40, 4, 2), (48, 4, 1), (96, 4, 1)],
                  skip=7, mid=128, last=256, decoder="lr_aspp"),
    "large": dict(init=16, blocks=[(16, 1, 1), (24, 4, 2), (32, 4, 2), (64, 4, 2), (96, 4, 1), (160, 4, 1),
                                   (160, 1, 1)], skip=8, mid=128, last=None, decoder="lr_aspp"),
    "xlarge": dict(init=48, blocks=[(24, 1, 1), (32, 4, 2), (48, 4, 2), (96, 4, 2), (144, 4, 1), (240, 4, 1),
                                    (320, 1, 1)], skip=4, mid=160, last=None, decoder="aspp"),
}
NUM_CLASSES = 19

_IR = "inverse_residual_"
GENOTYPES = {
    "mac_small": ["k3_e1_g2", "k3_e1_g1", "k3_e1_g1", "k3_e1_g2", "k5_e6_g1", "k3_e1_g1", "k3_e1_g1",
                  "k3_e1_g2_d2", "k5_e6_g1", "k3_e6_g1_d2", "skip", "k3_e1_g2", "k5_e6_g1", "k3_e3_g1_d2",
                  "k3_e1_g1_d2", "k3_e1_g1_d2", "k3_e6_g1_d2", "k3_e1_g2_d2", "k3_e1_g2_d2", "k3_e1_g2_d2"],
    "mac_large": ["k3_e1_g2", "k3_e6_g1", "k3_e1_g2_d2", "k3_e1_g2", "k3_e1_g2", "k5_e6_g1", "k5_e6_g1",
                  "k3_e6_g1_d2", "k5_e6_g1", "k5_e6_g1", "k5_e6_g1", "k5_e1_g1", "k3_e3_g1", "k5_e6_g1",
                  "k3_e1_g1", "k5_e1_g1", "k3_e3_g1_d2", "k3_e6_g1_d2", "k3_e1_g2_d2", "k3_e1_g2_d2",
                  "k3_e1_g2_d2", "k3_e1_g1_d2"],
    "mac_xlarge": ["k3_e1_g2", "k3_e3_g1", "k3_e1_g2", "k5_e1_g1", "k3_e3_g1_d2", "k5_e6_g1", "k5_e1_g2",
                   "k3_e1_g2_d2", "k3_e3_g1", "k5_e6_g1", "k3_e3_g1", "skip", "k3_e1_g2_d2", "k5_e6_g1",
                   "k3_e1_g1", "k5_e6_g1", "skip", "k3_e6_g1_d2", "k3_e1_g2_d2", "k3_e1_g2_d2", "k3_e1_g2_d2",
                   "k3_e3_g1_d2"],
    "lat_small": ["k3_e1_g1", "skip", "skip", "skip", "k3_e6_g1", "k3_e6_g1", "skip", "skip", "k5_e6_g1",
                  "k3_e6_g1_d2", "k5_e1_g2", "k3_e1_g2", "k3_e6_g1_d2", "k3_e6_g1_d2", "k3_e6_g1_d2",
                  "k3_e1_g1_d2", "k3_e6_g1_d2", "k3_e3_g1_d2", "k3_e3_g1_d2", "k3_e3_g1_d2"],
    "lat_large": ["skip", "k3_e6_g1", "k3_e3_g1", "k3_e1_g1_d2", "k3_e3_g1", "k5_e6_g1", "k3_e6_g1",
                  "k3_e3_g1", "k3_e6_g1_d2", "k5_e6_g1", "k5_e1_g1", "k5_e1_g1", "k5_e1_g2", "k3_e6_g1_d2",
                  "k3_e6_g1_d2", "k3_e6_g1_d2", "k3_e1_g1", "k3_e6_g1_d2", "k3_e6_g1_d2", "k3_e6_g1_d2",
                  "k3_e6_g1_d2", "k3_e6_g1_d2"],
    "lat_xlarge": ["skip", "k3_e3_g1", "k3_e3_g1", "k3_e3_g1", "k3_e1_g1_d2", "k3_e6_g1", "k3_e3_g1",
                   "k5_e6_g1", "k5_e1_g2", "k5_e6_g1", "k3_e6_g1", "k3_e1_g2_d2", "k3_e6_g1", "k5_e6_g1",
                   "k3_e3_g1_d2", "k3_e1_g2_d2", "k3_e3_g1", "k3_e6_g1_d2", "k3_e3_g1_d2", "k5_e1_g1",
                   "k3_e3_g1_d2", "k3_e6_g1_d2"],
}
GENOTYPES = {n: ["residual_skipish" if s == "skip" else _IR + s for s in g] for n, g in GENOTYPES.items()}
NETS = list(GENOTYPES)


def family(net):
    return net.split("_", 1)[1]


# --------------------------------------------------------------------------------------------------
# Debug dump of intermediates

_DUMP_DIR = os.environ.get("SQN_TORCH_DUMP")


def dump(name, t):
    if _DUMP_DIR:
        os.makedirs(_DUMP_DIR, exist_ok=True)
        npy_write(os.path.join(_DUMP_DIR, name + ".npy"), t)


# --------------------------------------------------------------------------------------------------
# Modules

def inverse_residual(cin, cout, stride, k, e, g, d):
    hidden = int(round(cin * e))
    return nn.Sequential(
        nn.Conv2d(cin, hidden, 1, groups=g, bias=False),                        # 0
        nn.BatchNorm2d(hidden),                                                  # 1
        nn.ReLU(inplace=True),                                                   # 2
        nn.Conv2d(hidden, hidden, k, stride=stride, padding=d * (k - 1) // 2, dilation=d,
                  groups=hidden, bias=False),                                    # 3
        nn.BatchNorm2d(hidden),                                                  # 4
        nn.ReLU(inplace=True),                                                   # 5
        nn.Conv2d(hidden, cout, 1, groups=g, bias=False),                        # 6
        nn.BatchNorm2d(cout),                                                    # 7
    )


class ZeroOp(nn.Module):
    def forward(self, x):
        return torch.zeros_like(x)


class FactorizedReduceOp(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        assert cout % 2 == 0
        self.conv_1 = nn.Sequential(nn.Conv2d(cin, cout // 2, 1, stride=2, bias=False), nn.BatchNorm2d(cout // 2))
        self.conv_2 = nn.Sequential(nn.Conv2d(cin, cout // 2, 1, stride=2, bias=False), nn.BatchNorm2d(cout // 2))

    def forward(self, x):
        x = F.relu(x)
        return torch.cat([self.conv_1(x), self.conv_2(x[:, :, 1:, 1:])], dim=1)


class ReLUConvBNOp(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.op = nn.Sequential(nn.ReLU(inplace=False), nn.Conv2d(cin, cout, 1, stride=stride, bias=False),
                                nn.BatchNorm2d(cout))

    def forward(self, x):
        return self.op(x)


class Block(nn.Module):
    """One searched position: output x + op(x) when stride == 1 and cin == cout, else op(x)."""

    def __init__(self, op_name, cin, cout, stride):
        super().__init__()
        self.residual = stride == 1 and cin == cout
        if op_name == "residual_skipish":
            if self.residual:
                self.op = ZeroOp()
            elif stride == 2:
                self.op = FactorizedReduceOp(cin, cout)
            else:
                self.op = ReLUConvBNOp(cin, cout, stride)
        else:
            k, e, g, d = OPS[op_name]
            self.op = inverse_residual(cin, cout, stride, k, e, g, d)

    def forward(self, x):
        y = self.op(x)
        return x + y if self.residual else y


def conv_bn_relu_seq(cin, cout, k, stride):
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class Encoder(nn.Module):
    def __init__(self, hp, genotype):
        super().__init__()
        self.conv1 = conv_bn_relu_seq(3, hp["init"], 3, 2)
        blocks = []
        cin = hp["init"]
        for ch, rep, first_stride in hp["blocks"]:
            for r in range(rep):
                blocks.append(Block(genotype[len(blocks)], cin, ch, first_stride if r == 0 else 1))
                cin = ch
        assert len(blocks) == len(genotype)
        self.residuals = nn.ModuleList(blocks)
        self.skip_index = hp["skip"]
        self.out_channels = cin
        if hp["last"]:
            self.last_conv = conv_bn_relu_seq(cin, hp["last"], 1, 1)
            self.out_channels = hp["last"]
        else:
            self.last_conv = None

    def forward(self, x):
        x = self.conv1(x)
        dump("stem", x)
        skip = None
        for i, b in enumerate(self.residuals):
            x = b(x)
            dump("block%02d" % i, x)
            if i == self.skip_index:
                skip = x
        if self.last_conv is not None:
            x = self.last_conv(x)
            dump("last_conv", x)
        return x, skip


class ConvBNReLU(nn.Module):
    """Decoder conv -> BN -> ReLU, named .conv / .bn as upstream's decoders."""

    def __init__(self, cin, cout, k=1, dilation=1, groups=1):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, padding=dilation * (k - 1) // 2, dilation=dilation, groups=groups,
                              bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.relu(self.bn(self.conv(x)))


class LRASPP(nn.Module):
    def __init__(self, os16_ch, os8_ch, mid, classes):
        super().__init__()
        self._1x1_TL = ConvBNReLU(os16_ch, mid)
        self._1x1_BL = nn.Conv2d(os16_ch, mid, 1, bias=True)
        self._1x1_TR = nn.Conv2d(mid, classes, 1, bias=True)
        self._1x1_BR = nn.Conv2d(os8_ch, classes, 1, bias=True)

    def forward(self, os16, os8):
        t1 = self._1x1_TL(os16)
        p = F.avg_pool2d(os16, kernel_size=49, stride=(16, 20), padding=0, ceil_mode=False,
                         count_include_pad=False)
        dump("dec_pool", p)
        t2 = torch.sigmoid(self._1x1_BL(p))
        t2 = F.interpolate(t2, size=t1.shape[2:], mode="bilinear", align_corners=False)
        dump("dec_gate", t2)
        t3 = F.interpolate(t1 * t2, size=os8.shape[2:], mode="bilinear", align_corners=False)
        t3 = self._1x1_TR(t3)
        t4 = self._1x1_BR(os8)
        dump("dec_t3", t3)
        dump("dec_t4", t4)
        return t3 + t4


class ASPP(nn.Module):
    def __init__(self, cin, mid):
        super().__init__()
        self._1x1_1_conv = ConvBNReLU(cin, mid)
        self._3x3_1_conv = ConvBNReLU(cin, mid, 3, dilation=6, groups=mid)
        self._3x3_2_conv = ConvBNReLU(cin, mid, 3, dilation=12, groups=mid)
        self._3x3_3_conv = ConvBNReLU(cin, mid, 3, dilation=18, groups=mid)
        self._1x1_2_conv = ConvBNReLU(4 * mid + cin, mid)

    def forward(self, x):
        b0 = self._1x1_1_conv(x)
        b1 = self._3x3_1_conv(x)
        b2 = self._3x3_2_conv(x)
        b3 = self._3x3_3_conv(x)
        pooled = F.interpolate(x.mean(dim=(2, 3), keepdim=True), size=x.shape[2:], mode="nearest")
        for n, t in (("aspp_b0", b0), ("aspp_b1", b1), ("aspp_b2", b2), ("aspp_b3", b3), ("aspp_pool", pooled)):
            dump(n, t)
        y = self._1x1_2_conv(torch.cat([b0, b1, b2, b3, pooled], dim=1))
        dump("aspp_out", y)
        return y


class SqueezeNASNet(nn.Module):
    def __init__(self, net):
        super().__init__()
        hp = HYPER[family(net)]
        self.net = net
        self.encoder = Encoder(hp, GENOTYPES[net])
        skip_ch = [b for b in hp["blocks"] for _ in range(b[1])][hp["skip"]][0]
        self.kind = hp["decoder"]
        if self.kind == "lr_aspp":
            self.decoder = LRASPP(self.encoder.out_channels, skip_ch, hp["mid"], NUM_CLASSES)
        else:
            mid = hp["mid"]
            self.decoder = ASPP(self.encoder.out_channels, mid)
            self.lowlevel1x1 = nn.Conv2d(skip_ch, skip_ch, 1, bias=True)
            self.logits2 = ConvBNReLU(mid + skip_ch, mid + skip_ch, 3, groups=mid + skip_ch)
            self.logits3 = nn.Conv2d(mid + skip_ch, NUM_CLASSES, 1, bias=True)

    def forward(self, x):
        os16, skip = self.encoder(x)
        if self.kind == "lr_aspp":
            y = self.decoder(os16, skip)
            dump("decoder_out", y)
            return F.interpolate(y, scale_factor=8, mode="bilinear", align_corners=True)
        y = self.decoder(os16)
        y = F.interpolate(y, scale_factor=4, mode="bilinear", align_corners=True)
        dump("aspp_up", y)
        low = self.lowlevel1x1(skip)
        dump("lowlevel1x1", low)
        y = self.logits2(torch.cat([y, low], dim=1))
        dump("logits2", y)
        y = self.logits3(y)
        dump("decoder_out", y)
        return F.interpolate(y, scale_factor=4, mode="bilinear", align_corners=True)


# --------------------------------------------------------------------------------------------------
# Random weights

def randomize(model, seed, input_hw):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Conv2d):
                fan_in = m.in_channels // m.groups * m.kernel_size[0] * m.kernel_size[1]
                m.weight.copy_(torch.randn(m.weight.shape, generator=g) * (2.0 / fan_in) ** 0.5)
                if m.bias is not None:
                    m.bias.copy_((torch.rand(m.bias.shape, generator=g) * 2 - 1) * 0.1)
            elif isinstance(m, nn.BatchNorm2d):
                m.weight.copy_(0.5 + torch.rand(m.weight.shape, generator=g))
                m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
        # Calibrate the running statistics to this network's activations: momentum 1 -> the batch stats.
        bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
        for m in bns:
            m.momentum = 1.0
        model.train()
        model(torch.randn((1, 3) + tuple(input_hw), generator=g))
        model.eval()
        for m in bns:
            m.momentum = 0.1
            std = m.running_var.sqrt()
            m.running_mean.add_(torch.randn(m.running_mean.shape, generator=g) * 0.2 * std)
            m.running_var.mul_(0.7 + 0.6 * torch.rand(m.running_var.shape, generator=g))
            m.num_batches_tracked.fill_(seed)
    return model


# --------------------------------------------------------------------------------------------------
# .npy I/O with torch only

_NPY_DT = {torch.float32: "<f4", torch.float64: "<f8", torch.uint8: "|u1", torch.int64: "<i8", torch.int32: "<i4"}
_NPY_DT_REV = {v: k for k, v in _NPY_DT.items()}


def npy_write(path, t):
    t = t.detach().contiguous().cpu()
    shape = tuple(t.shape)
    shp = "(" + "".join("%d, " % s for s in shape)[:-2] + ("," if len(shape) == 1 else "") + ")"
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (_NPY_DT[t.dtype], shp)
    pad = 64 - (10 + len(header) + 1) % 64
    header = header + " " * (pad % 64) + "\n"
    nbytes = t.numel() * t.element_size()
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1"))
        if nbytes:
            f.write((ctypes.c_char * nbytes).from_address(t.data_ptr()))


def npy_read(path):
    with open(path, "rb") as f:
        data = f.read()
    assert data[:6] == b"\x93NUMPY", path + ": not a .npy file"
    major = data[6]
    if major == 1:
        hl, off = struct.unpack("<H", data[8:10])[0], 10
    else:
        hl, off = struct.unpack("<I", data[8:12])[0], 12
    header = eval(data[off:off + hl].decode("latin1"))  # a Python dict literal by the format's definition
    assert not header["fortran_order"]
    dt = _NPY_DT_REV[header["descr"].replace("=", "<")]
    body = bytearray(data[off + hl:])
    t = torch.frombuffer(body, dtype=dt) if body else torch.empty(0, dtype=dt)
    return t.reshape(header["shape"])


# --------------------------------------------------------------------------------------------------

def parse_hw(s):
    h, w = s.lower().split("x")
    return int(h), int(w)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("net", choices=NETS)
    ap.add_argument("--input", default="784x1568", help="HxW (default 784x1568)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's default)")
    ap.add_argument("--save-weights")
    ap.add_argument("--save-input")
    ap.add_argument("--save-logits")
    ap.add_argument("--load-weights", help="load a state_dict instead of random weights")
    ap.add_argument("--load-input", help="use this .npy input instead of a seeded randn")
    ap.add_argument("--list-params", action="store_true")
    ap.add_argument("--double", action="store_true", help="compute the forward pass in float64 (logits saved as float32)")
    ap.add_argument("--bench", action="store_true", help="time the forward pass (median of --iters)")
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--json", action="store_true", help="with --bench: one JSON line")
    ap.add_argument("--device", default="cpu", help="with --bench: cpu or cuda (times with torch.cuda.synchronize)")
    a = ap.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    h, w = parse_hw(a.input)
    torch.manual_seed(a.seed)
    model = SqueezeNASNet(a.net)
    if a.list_params:
        for k, v in model.state_dict().items():
            print(k, "x".join(str(s) for s in v.shape) or "scalar")
        return 0

    if a.load_weights:
        model.load_state_dict(torch.load(a.load_weights))
        model.eval()
    elif a.bench:
        model.eval()  # the values do not matter for timing; constructor init
    else:
        t0 = time.time()
        randomize(model, a.seed, (h, w))
        print("random weights (seed %d, BN calibrated) in %.1f s" % (a.seed, time.time() - t0), file=sys.stderr)
    if a.save_weights:
        torch.save(model.state_dict(), a.save_weights)

    if a.load_input:
        x = npy_read(a.load_input).float()
    else:
        x = torch.randn((1, 3, h, w), generator=torch.Generator().manual_seed(a.seed + 1000))
    if a.save_input:
        npy_write(a.save_input, x)

    if a.bench and a.iters > 0:
        global _DUMP_DIR
        _DUMP_DIR = None
        times = []
        dev = torch.device(a.device)
        model, xd = model.to(dev), x.to(dev)
        sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
        with torch.no_grad():
            for i in range(a.warmup + a.iters):
                sync()
                t0 = time.perf_counter()
                model(xd)
                sync()
                dt = time.perf_counter() - t0
                if i >= a.warmup:
                    times.append(dt)
        times.sort()
        med = times[len(times) // 2] if len(times) % 2 else 0.5 * (times[len(times) // 2 - 1] + times[len(times) // 2])
        if a.json:
            import resource  # peak RSS of this process (KiB on Linux)
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
            print(json.dumps({"network": a.net, "input": [1, 3, h, w], "threads": torch.get_num_threads(),
                              "device": a.device,
                              "iters": a.iters, "min_ms": times[0] * 1e3, "median_ms": med * 1e3,
                              "peak_rss_mib": rss}))
        else:
            print("%s 1x3x%dx%d threads %d: median %.2f ms, min %.2f ms (%d runs)" % (
                a.net, h, w, torch.get_num_threads(), med * 1e3, times[0] * 1e3, a.iters))
        return 0
    if a.bench:
        return 0

    if a.save_logits or _DUMP_DIR:
        if a.double:
            model, x = model.double(), x.double()
        t0 = time.time()
        with torch.no_grad():
            y = model(x).float()
        print("%s: forward 1x3x%dx%d in %.3f s, logits %s, max|logit| %.4g" % (
            a.net, h, w, time.time() - t0, "x".join(map(str, y.shape)), y.abs().max().item()), file=sys.stderr)
        if a.save_logits:
            npy_write(a.save_logits, y)
    return 0


if __name__ == "__main__":
    sys.exit(main())
