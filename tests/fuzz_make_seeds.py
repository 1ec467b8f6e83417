#!/usr/bin/env python3
"""tests/fuzz_make_seeds.py - writes the generated seed files of the fuzzers (standard library only):

  tests/fuzz_corpus/long_*.sqn          long .sqn inputs for fuzz_frontend (a 300-plus-character line,
                                        long list literals, thousands of short lines, tokens at and
                                        past the lexer's length limits)
  tests/fuzz_corpus_readers/image/      PNGs of every color type and bit depth, interlaced or not,
                                        with ancillary chunks (the JPEGs there, jpeg_*.jpg, were written
                                        with libjpeg-turbo's compressor and are kept as they are)
  tests/fuzz_corpus_readers/npy/        .npy arrays (versions 1.0, 2.0, 3.0; every dtype npy.c reads)
  tests/fuzz_corpus_readers/lut/        latency tables for the plan fuzz_lut checks against
  tests/fuzz_corpus_readers/checkpoint/ training checkpoints, and bare __metadata__ objects
  tests/fuzz_corpus_readers/safetensors/ small safetensors files
  tests/fuzz_corpus_readers/dataset/    dataset trees in fuzz_dataset's input format
  tests/fuzz_corpus_readers/pth/        PyTorch state_dicts, zip and legacy formats (pickled here with
                                        stand-in torch globals, as torch.save lays them out)

The outputs are committed; run this again after changing it (python3 tests/fuzz_make_seeds.py).
Regression seeds (regress_*) are reproducers of fixed bugs and are not written here."""
import collections
import io
import json
import os
import pickle
import struct
import sys
import types
import zipfile
import zlib

TESTS = os.path.dirname(os.path.abspath(__file__))
READERS = os.path.join(TESTS, "fuzz_corpus_readers")


def put(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(path, "wb") as f:
        f.write(data)


# ---- long .sqn inputs ----

def long_sqn():
    out = {}
    # A valid space whose lines are long: a 400-character pipe, a 1000-character comment, a name of
    # 250 characters (the lexer's limit is 256), a long string argument and a long expression.
    name = "n" + "_abcdefghij" * 22 + "_end"  # 247 characters
    pipe = " -> ".join(["bn", "relu"] * 40)
    expr = " + ".join(str(i) for i in range(120))
    s = "// " + "long comment " * 80 + "\n"
    s += "block %s(f: float = 1.5) {\n" % name
    s += "  total = %s\n" % expr
    s += "  assert total == %d\n" % sum(range(120))
    s += "  a = conv(in, cout, k=1, name=\"%s\") -> %s\n" % ("p" * 1000, pipe)
    s += "  out = conv(a, cout, k=3, stride=stride)\n}\n\n"
    s += "candidates wide = [ %s ]\n\n" % ", ".join(["%s(f=%d.5)" % (name, i) for i in range(6)])
    s += "decoder dec() {\n  out = conv(in, classes, k=1, bias=true) -> bilinear(like=image)\n}\n\n"
    s += "space long_lines {\n  input 3x32x32\n  classes 4\n  stage 8 repeat 2 stride 2 choose wide\n  decoder dec\n}\n"
    out["long_line_space.sqn"] = s

    # Long list literals, valid: a 32-tensor concat and a 32-candidate set (the most each may have),
    # each on one long line with long elements.
    s = "// Long list literals: a concat of 32 tensors and a set of 32 candidates, one line each.\n"
    s += "block fan(k: int = 3) {\n  a = conv(in, 2, k=1)\n"
    s += "  c = concat([%s])\n" % ", ".join(["a -> relu -> relu6 -> bn" if i % 2 else "a" for i in range(32)])
    s += "  out = conv(c, cout, k=k)\n}\n\n"
    s += "candidates many = [ %s ]\n\n" % ", ".join(
        "c%02d_%s = fan(k=%d)" % (i, "x" * 40, 1 + 2 * (i % 3)) for i in range(32))
    s += "decoder dec() {\n  out = conv(in, classes, k=1) -> bilinear(like=image)\n}\n\n"
    s += "space long_lists {\n  input 3x16x16\n  classes 3\n  stage 4 repeat 1 choose many\n  decoder dec\n}\n"
    out["long_list_literals.sqn"] = s

    # Past the limits: a concat of a 3000-element list, max() of 2000 arguments, a set of 400
    # candidates (each refused with a located error, after the whole list is parsed).
    s = "// Lists past their limits: 3000 tensors, 2000 arguments, 400 candidates.\n"
    s += "block fan() {\n  a = conv(in, 2, k=1)\n"
    s += "  c = concat([%s])\n" % ", ".join(["a"] * 3000)
    s += "  m = max(%s)\n" % ", ".join(str(i % 97) for i in range(2000))
    s += "  out = conv(c, cout, k=1)\n}\n\n"
    s += "candidates many = [ %s ]\n\n" % ", ".join(["fan"] * 400)
    s += "candidates one = [ fan ]\n\n"
    s += "decoder dec() {\n  out = conv(in, classes, k=1) -> bilinear(like=image)\n}\n\n"
    s += "space long_lists {\n  input 3x16x16\n  classes 3\n  stage 4 repeat 1 choose many\n  decoder dec\n}\n"
    s += "space long_list_args {\n  input 3x16x16\n  classes 3\n  stage 4 repeat 1 choose one\n  decoder dec\n}\n"
    out["long_list_errors.sqn"] = s

    # Thousands of short lines: scalar statements, blank lines and comments in one block.
    lines = ["// Thousands of short lines.", "block tall() {", "  v0 = 1"]
    for i in range(1, 4000):
        if i % 10 == 0:
            lines.append("  // line %d" % i)
        elif i % 17 == 0:
            lines.append("")
        lines.append("  v%d = v%d + 1" % (i, i - 1))
    lines += ["  assert v3999 == 4000", "  out = conv(in, cout, k=1)", "}", "",
              "candidates t = [ tall ]", "",
              "decoder dec() {", "  out = conv(in, classes) -> bilinear(like=image)", "}", "",
              "space many_lines {", "  input 3x8x8", "  classes 2", "  stage 4 choose t", "  decoder dec", "}"]
    out["long_many_lines.sqn"] = "\n".join(lines) + "\n"

    # Tokens at and past the lexer's limits (names and numbers: 256 characters, strings: 4096):
    # every one past the limit is refused with a located error.
    s = "// Tokens at and past the lexer's length limits.\n"
    s += "block %s() {\n  out = conv(in, cout, name=\"%s\")\n}\n" % ("b" * 256, "s" * 4096)
    s += "block c() {\n  x = %s\n  y = %s\n  z = 0.%s\n" % ("i" * 257, "7" * 257, "1" * 300)
    s += "  out = conv(in, cout, name=\"%s\")\n}\n" % ("t" * 5000)
    s += "space %s {\n  input 3x8x8\n}\n" % ("q" * 50000)
    out["long_tokens_past_limits.sqn"] = s
    for k, v in out.items():
        assert len(v) < 200_000, k
        put(os.path.join(TESTS, "fuzz_corpus", k), v)


# ---- PNG ----

def chunk(tag, data):
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c


def filter_rows(rows, bpp):
    """Each row with a filter byte, cycling through the five filter types."""
    out, prev = b"", bytes(len(rows[0])) if rows else b""
    for y, row in enumerate(rows):
        ft = y % 5
        f = bytearray()
        for i, v in enumerate(row):
            a = row[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            pred = [0, a, b, (a + b) // 2, paeth(a, b, c)][ft]
            f.append((v - pred) & 255)
        out += bytes([ft]) + bytes(f)
        prev = row
    return out


def pack_row(samples, depth):
    if depth == 8:
        return bytes(samples)
    if depth == 16:
        return b"".join(struct.pack(">H", s) for s in samples)
    per = 8 // depth
    out = bytearray()
    for i in range(0, len(samples), per):
        v = 0
        for k in range(per):
            v = (v << depth) | (samples[i + k] if i + k < len(samples) else 0)
        out.append(v)
    return bytes(out)


CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def png(w, h, ctype, depth, interlace=False, extra=b"", palette=None, trns=None, idat_split=1):
    ch = CHANNELS[ctype]
    maxv = (1 << depth) - 1

    def sample(x, y, k):
        v = (x * 7 + y * 13 + k * 5) % (maxv + 1)
        if ctype == 3 and palette:
            v %= len(palette) // 3
        return v

    bpp = max(1, ch * depth // 8)

    def encode(xs, ys):
        rows = [pack_row([sample(x, y, k) for x in xs for k in range(ch)], depth) for y in ys]
        return filter_rows(rows, bpp) if rows and rows[0] else b""

    if not interlace:
        raw = encode(range(w), range(h))
    else:
        raw = b""
        for x0, y0, dx, dy in ADAM7:
            xs, ys = list(range(x0, w, dx)), list(range(y0, h, dy))
            if xs and ys:
                raw += encode(xs, ys)
    z = zlib.compress(raw, 9)
    ihdr = struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, 1 if interlace else 0)
    body = chunk(b"IHDR", ihdr) + extra
    if palette:
        body += chunk(b"PLTE", palette)
    if trns is not None:
        body += chunk(b"tRNS", trns)
    step = (len(z) + idat_split - 1) // idat_split
    for i in range(0, len(z), step):
        body += chunk(b"IDAT", z[i:i + step])
    return b"\x89PNG\r\n\x1a\n" + body + chunk(b"IEND", b"")


def cityscapes_palette(n):
    return bytes((i * 37 + k * 91) % 256 for i in range(n) for k in range(3))


def pngs():
    anc = chunk(b"gAMA", struct.pack(">I", 45455)) + chunk(b"pHYs", struct.pack(">IIB", 2835, 2835, 1)) + \
        chunk(b"tEXt", b"Comment\x00sqn fuzz seed") + chunk(b"sRGB", b"\x00")
    seeds = {
        "png_rgb8.png": png(6, 5, 2, 8),
        "png_rgb16.png": png(3, 3, 2, 16),
        "png_rgba8.png": png(4, 4, 6, 8),
        "png_rgba16_interlaced.png": png(9, 9, 6, 16, interlace=True),
        "png_gray1.png": png(13, 3, 0, 1),
        "png_gray2.png": png(5, 2, 0, 2),
        "png_gray4_interlaced.png": png(7, 7, 0, 4, interlace=True),
        "png_gray8_labels.png": png(8, 6, 0, 8),
        "png_gray16.png": png(3, 2, 0, 16),
        "png_graya8.png": png(4, 3, 4, 8),
        "png_graya16.png": png(2, 2, 4, 16),
        "png_palette1.png": png(9, 2, 3, 1, palette=cityscapes_palette(2)),
        "png_palette2_trns.png": png(5, 5, 3, 2, palette=cityscapes_palette(4), trns=b"\x00\x80"),
        "png_palette8_256.png": png(16, 4, 3, 8, palette=cityscapes_palette(256)),
        "png_palette8_interlaced.png": png(10, 10, 3, 8, interlace=True, palette=cityscapes_palette(34)),
        "png_gray8_trns.png": png(4, 4, 0, 8, trns=b"\x00\x07"),
        "png_rgb8_trns.png": png(4, 4, 2, 8, trns=b"\x00\x01\x00\x02\x00\x03"),
        "png_rgb8_chunks_split_idat.png": png(12, 8, 2, 8, extra=anc, idat_split=4),
        "png_1x1.png": png(1, 1, 2, 8),
    }
    for k, v in seeds.items():
        put(os.path.join(READERS, "image", k), v)


# ---- npy ----

def npy(descr, shape, data, version=1):
    shp = "(%s)" % (", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else ""))
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shp)
    pre = 6 + 2 + (2 if version == 1 else 4)
    total = ((pre + len(header) + 1 + 63) // 64) * 64
    header = header + " " * (total - pre - len(header) - 1) + "\n"
    size = struct.pack("<H", len(header)) if version == 1 else struct.pack("<I", len(header))
    return b"\x93NUMPY" + bytes([version, 0]) + size + header.encode("latin-1") + data


def npys():
    seeds = {
        "f4_2x3.npy": npy("<f4", (2, 3), struct.pack("<6f", *[0.5 * i for i in range(6)])),
        "f8_scalar.npy": npy("<f8", (), struct.pack("<d", 3.25)),
        "f2_4.npy": npy("<f2", (4,), struct.pack("<4e", 1.0, -2.0, 0.5, 65504.0)),
        "i8_3.npy": npy("<i8", (3,), struct.pack("<3q", -1, 0, 2 ** 62)),
        "i4_2x2.npy": npy("<i4", (2, 2), struct.pack("<4i", 1, -2, 3, -4)),
        "i2_2.npy": npy("<i2", (2,), struct.pack("<2h", 7, -7)),
        "i1_3.npy": npy("|i1", (3,), bytes([1, 255, 0])),
        "u1_2x2x2.npy": npy("|u1", (2, 2, 2), bytes(range(8))),
        "b1_4.npy": npy("|b1", (4,), bytes([1, 0, 1, 1])),
        "f4_empty.npy": npy("<f4", (0,), b""),
        "f4_1x3x2x2_v2.npy": npy("<f4", (1, 3, 2, 2), struct.pack("<12f", *range(12)), version=2),
        "u1_5_v3.npy": npy("|u1", (5,), bytes(range(5)), version=3),
    }
    for k, v in seeds.items():
        put(os.path.join(READERS, "npy", k), v)


# ---- latency tables (for the space of tests/fuzz_corpus/01_tiny_space.sqn) ----

def luts():
    cands = ["ir3", "ir5", "skip_op"]

    def table(fixed=0.3, extra_keys=True, nsb=3):
        sbs = [{"index": s, "candidates": [{"name": c, "ms": 0.1 * (s + 1) + 0.01 * k, "spread": 0.25}
                                             for k, c in enumerate(cands)]} for s in range(nsb)]
        t = {"superblocks": sbs, "fixed_ms": fixed}
        if extra_keys:
            t = {"space": "tiny_space", "backend": "cpu", "threads": 2, "input": [3, 64, 128], "unit": "ms",
                 "iters": 20, "fixed_ms": fixed, "fixed_spread": 0.1, "superblocks": sbs}
        return t

    # As sqnrun --profile writes it (runtime/cli/mode_profile.c).
    prof = ('{"space": "tiny_space", "backend": "cpu", "threads": 2, "input": [3, 64, 128], "unit": "ms",\n'
            ' "iters": 20, "fixed_ms": 0.30030, "fixed_spread": 13.6198,\n "superblocks": [\n')
    rows = []
    for s in range(3):
        rows.append('  {"index": %d, "candidates": [%s]}' % (s, ", ".join(
            '{"name": "%s", "ms": %.5f, "spread": %.4f}' % (c, 0.05 + 0.1 * k + 0.01 * s, 0.25) for k, c in enumerate(cands))))
    prof += ",\n".join(rows) + "\n]}\n"
    seeds = {
        "profile.json": prof,
        "minimal.json": json.dumps(table(extra_keys=False), separators=(",", ":")),
        "escapes_nested.json": json.dumps({"note": "caf\u00e9 \ud83d\ude00 \"q\" \\ \n", "nested": [[[{"a": [1, -0.5e-3, True, False, None]}]]],
                                           **table()}, ensure_ascii=True),
        "too_few_superblocks.json": json.dumps(table(nsb=2)),
        "wrong_candidate.json": json.dumps(table()).replace('"ir5"', '"ir7"', 1),
        "no_fixed.json": json.dumps({"superblocks": table()["superblocks"]}),
    }
    for k, v in seeds.items():
        put(os.path.join(READERS, "lut", k), v)


# ---- safetensors and checkpoints ----

def safetensors(tensors, meta=None, pad=True):
    """tensors: [(name, dtype, shape, bytes)] in data order."""
    header, off, data = {}, 0, b""
    if meta is not None:
        header["__metadata__"] = meta
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [off, off + len(raw)]}
        off += len(raw)
        data += raw
    h = json.dumps(header, separators=(",", ":")).encode()
    if pad:
        h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + data


RUN_STATE = {"format": "sqn-checkpoint-1", "epoch": "3", "step": "120", "lr": "0.025000000000000001", "seed": "42",
             "best_miou": "0.41999999999999998", "best_epoch": "2", "last_loss": "0.87", "adam_steps": "0",
             "pruned": ""}


def checkpoints():
    f4 = lambda *v: struct.pack("<%df" % len(v), *v)
    w = [("conv.weight", "F32", (2, 1, 1, 1), f4(0.5, -1.0)), ("bn.num_batches_tracked", "I64", (), struct.pack("<q", 7)),
         ("momentum.conv.weight", "F32", (2, 1, 1, 1), f4(0.0, 0.25))]
    search = dict(RUN_STATE, adam_steps="60", pruned="0:1,2:0")
    seeds = {
        "train.safetensors": safetensors(w, RUN_STATE),
        "search.safetensors": safetensors(w + [("adam_m.theta.0", "F32", (3,), f4(0, 1, 2)),
                                               ("adam_v.theta.0", "F32", (3,), f4(0, 1, 4))], search),
        "untagged.safetensors": safetensors(w, {"epoch": "1"}),
        "no_metadata.safetensors": safetensors(w),
        # Bare __metadata__ objects: fuzz_checkpoint wraps an input that starts with '{' into a checkpoint.
        "meta_train.json": json.dumps(RUN_STATE),
        "meta_search.json": json.dumps(search),
        "meta_odd_values.json": json.dumps(dict(RUN_STATE, epoch="-2147483649", step="99999999999999999999", lr="nan",
                                                seed="-1", best_miou="1e400", pruned="x" * 9000, extra="\u0000\u00e9")),
    }
    for k, v in seeds.items():
        put(os.path.join(READERS, "checkpoint", k), v)
    st = {
        "tiny.safetensors": safetensors([("a", "F32", (2,), f4(1.0, 2.0))], pad=False),
        "dtypes.safetensors": safetensors([("b", "BOOL", (3,), bytes([1, 0, 1])), ("h", "F16", (2,), struct.pack("<2e", 1, 2)),
                                           ("bf", "BF16", (1,), b"\x80\x3f"), ("i", "I32", (1, 1), struct.pack("<i", -5)),
                                           ("u", "U8", (0,), b""), ("d", "F64", (), struct.pack("<d", 2.5))]),
        "metadata.safetensors": safetensors([("x", "I8", (4,), bytes([1, 2, 3, 4]))], {"k": "v", "e": "\u00e9"}),
    }
    for k, v in st.items():
        put(os.path.join(READERS, "safetensors", k), v)


# ---- datasets (fuzz_dataset's format: parts separated by SEP, each a slot byte and the content) ----

SEP = b"\n--sqnfuzz--\n"
SLOT = {"img0.png": 0, "lbl0": 1, "img1.jpg": 2, "lbl1": 3, "img2.jpeg": 4, "lbl2": 5, "img3.png": 6,
        "lbl3_dir": 7, "readme": 8, "empty_city": 9, "gt_dir": 10, "hidden": 11, "city_file": 12, "val": 13}


def dataset(parts):
    return SEP.join(bytes([SLOT[k]]) + v for k, v in parts)


def datasets():
    jpg = open(os.path.join(READERS, "image", "jpeg_rgb420.jpg"), "rb").read()  # 16x16
    gjpg = open(os.path.join(READERS, "image", "jpeg_gray.jpg"), "rb").read()  # 9x9
    label16 = png(16, 16, 0, 8)
    pal16 = png(16, 16, 3, 4, palette=cityscapes_palette(16))
    rgb = png(16, 16, 2, 8)
    seeds = {
        "two_cities.bin": dataset([("img0.png", rgb), ("lbl0", label16), ("img1.jpg", jpg), ("lbl1", pal16),
                                   ("img2.jpeg", gjpg), ("lbl2", png(9, 9, 0, 8)), ("readme", b"not an image"),
                                   ("empty_city", b""), ("val", rgb)]),
        "one_pair.bin": dataset([("img0.png", png(4, 3, 6, 16)), ("lbl0", png(4, 3, 0, 8))]),
        "missing_label.bin": dataset([("img0.png", rgb), ("lbl0", label16), ("img3.png", rgb), ("lbl3_dir", b"")]),
        "size_mismatch.bin": dataset([("img0.png", rgb), ("lbl0", png(8, 8, 0, 8))]),
        "rgb_label.bin": dataset([("img1.jpg", jpg), ("lbl1", rgb), ("hidden", rgb), ("city_file", rgb)]),
        "labels_only.bin": dataset([("lbl0", label16), ("gt_dir", b"")]),
    }
    for k, v in seeds.items():
        assert len(v) < 8192, k
        put(os.path.join(READERS, "dataset", k), v)


# ---- PyTorch .pth ----

def pth_seeds():
    torch, utils = types.ModuleType("torch"), types.ModuleType("torch._utils")

    def _rebuild_tensor_v2(*a):
        raise AssertionError

    _rebuild_tensor_v2.__module__, _rebuild_tensor_v2.__qualname__ = "torch._utils", "_rebuild_tensor_v2"
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2
    storages = {}
    for name in ("FloatStorage", "LongStorage", "HalfStorage"):
        cls = type(name, (), {"__module__": "torch"})
        setattr(torch, name, cls)
        storages[name] = cls
    torch._utils = utils
    saved = {k: sys.modules.get(k) for k in ("torch", "torch._utils")}
    sys.modules["torch"], sys.modules["torch._utils"] = torch, utils

    class Ref:
        def __init__(self, key, kind, numel):
            self.key, self.kind, self.numel = key, kind, numel

    class Tensor:
        def __init__(self, ref, offset, size, stride):
            self.args = (ref, offset, tuple(size), tuple(stride), False, collections.OrderedDict())

        def __reduce__(self):
            return (_rebuild_tensor_v2, self.args)

    class Pickler(pickle.Pickler):
        legacy = False

        def persistent_id(self, obj):
            if not isinstance(obj, Ref):
                return None
            pid = ("storage", storages[obj.kind], obj.key, "cpu", obj.numel)
            return pid + (None,) if self.legacy else pid

    def dumps(obj, legacy=False):
        b = io.BytesIO()
        pk = Pickler(b, protocol=2)
        pk.legacy = legacy
        pk.dump(obj)
        return b.getvalue()

    try:
        w, rm = Ref("0", "FloatStorage", 6), Ref("1", "FloatStorage", 2)
        nb = Ref("2", "LongStorage", 1)
        sd = collections.OrderedDict([("conv.weight", Tensor(w, 0, (2, 3, 1, 1), (3, 1, 1, 1))),
                                      ("bn.running_mean", Tensor(rm, 0, (2,), (1,))),
                                      ("bn.running_var", Tensor(w, 4, (2,), (1,))),  # a view into storage 0
                                      ("bn.num_batches_tracked", Tensor(nb, 0, (), ()))])
        raw = {"0": struct.pack("<6f", *[0.5 * i for i in range(6)]), "1": struct.pack("<2f", 0, 1),
               "2": struct.pack("<q", 5)}

        def zipped(prefix):
            b = io.BytesIO()
            with zipfile.ZipFile(b, "w", zipfile.ZIP_STORED) as z:
                members = [("data.pkl", dumps(sd)), ("byteorder", b"little")]
                members += [("data/" + k, v) for k, v in raw.items()] + [("version", b"3\n")]
                for name, data in members:  # fixed dates: the same bytes on every run
                    z.writestr(zipfile.ZipInfo(prefix + "/" + name, date_time=(1980, 1, 1, 0, 0, 0)), data)
            return b.getvalue()

        magic = 0x1950a86a20f9469cfc6c
        legacy = b"".join([dumps(magic), dumps(1001), dumps({"protocol_version": 1001, "little_endian": True,
                                                             "type_sizes": {"short": 2, "int": 4, "long": 4}}),
                           dumps(sd, legacy=True), dumps(["0", "1", "2"])])
        legacy += b"".join(struct.pack("<q", len(raw[k]) // (8 if k == "2" else 4)) + raw[k] for k in ("0", "1", "2"))
        seeds = {"zip_state_dict.pth": zipped("archive"), "zip_other_prefix.pth": zipped("mac_small"),
                 "legacy_state_dict.pth": legacy}
    finally:
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v
    for k, v in seeds.items():
        put(os.path.join(READERS, "pth", k), v)


if __name__ == "__main__":
    long_sqn()
    pngs()
    npys()
    luts()
    checkpoints()
    datasets()
    pth_seeds()
