#!/usr/bin/python3
"""tests/export_pth_check.py - `sqnrun --export-pth` checked with PyTorch itself: the file is a zip-format
state_dict as torch.save writes it (records, version, byteorder, stored and 64-byte aligned storages), torch.load
reads it, load_state_dict(strict=True) accepts it into bench/squeezenas_torch.py's model, every tensor equals
the input weights bit for bit, and `sqnrun --infer` gives bit-identical logits from it and from the input.

  export_pth_check.py published SQNC SQNRUN REPO WORK SHARED NET...   the published networks: weights from
                      SHARED/reference/weights/NET.pth where it has them, else squeezenas_torch's seeded ones
  export_pth_check.py trained SQNC SQNRUN REPO WORK           a training run's last.safetensors (tiny synthetic)
  export_pth_check.py search SQNC SQNRUN REPO WORK            a tiny search's last.safetensors (the supernet)
  export_pth_check.py supernet SQNC SQNRUN REPO WORK SHARED   upstream's supernet_small.init.pth

Exit 0: all checks passed; 1: one failed; 77: skipped (no torch, or SHARED/reference absent where needed).
"""
import collections
import json
import os
import struct
import subprocess
import sys
import zipfile

try:
    import torch
except ImportError:
    print("SKIP: python3-torch not installed")
    sys.exit(77)

INPUT = "3x64x128"
SYNTH = ["--data", "synthetic", "--synthetic-size", "64x128", "--synthetic-train", "2", "--synthetic-val", "1",
         "--batch", "2", "--crop", "64x128", "--seed", "3", "--threads", "2"]


class Fail(Exception):
    pass


def run(*cmd):
    r = subprocess.run([str(c) for c in cmd], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        raise Fail("%s exited %d:\n%s" % (" ".join(map(str, cmd)), r.returncode, r.stdout))
    return r.stdout


def same_bits(a, b):
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    return torch.equal(a.reshape(-1).view(torch.uint8), b.reshape(-1).view(torch.uint8))


def check_archive(path):
    """The records torch.save writes, data stored and 64-byte aligned, version 3, little-endian."""
    with zipfile.ZipFile(path) as z, open(path, "rb") as f:
        raw = f.read()
        infos = z.infolist()
        prefix = infos[0].filename.split("/")[0] + "/"
        if infos[0].filename != prefix + "data.pkl":
            raise Fail("%s: first record is %s, not data.pkl" % (path, infos[0].filename))
        if z.read(prefix + "version") != b"3\n" or z.read(prefix + "byteorder") != b"little":
            raise Fail("%s: version or byteorder record wrong" % path)
        for i in infos:
            nl, el = struct.unpack("<HH", raw[i.header_offset + 26:i.header_offset + 30])
            start = i.header_offset + 30 + nl + el
            if i.compress_type != zipfile.ZIP_STORED:
                raise Fail("%s: record %s is compressed" % (path, i.filename))
            if i.filename.startswith(prefix + "data/") and start % 64:
                raise Fail("%s: record %s starts at %d, not 64-byte aligned" % (path, i.filename, start))


def load_export(path):
    check_archive(path)
    sd = torch.load(path, weights_only=True)  # the restricted unpickler of torch >= 1.13 (the default from 2.6)
    if not isinstance(sd, collections.OrderedDict):
        raise Fail("%s: torch.load gives a %s, not an OrderedDict" % (path, type(sd).__name__))
    return sd


def compare(what, want, got, defaults=None):
    """Every tensor of `want` in `got` bit for bit; keys only in `got` must be in `defaults` (name -> value)."""
    defaults = defaults or {}
    missing = [k for k in want if k not in got]
    extra = [k for k in got if k not in want and k not in defaults]
    if missing or extra:
        raise Fail("%s: missing %s, unexpected %s" % (what, missing[:5], extra[:5]))
    bad = [k for k in want if not same_bits(want[k], got[k])]
    bad += [k for k in got if k not in want and not same_bits(defaults[k], got[k])]
    if bad:
        raise Fail("%s: %d tensors differ, e.g. %s" % (what, len(bad), bad[:5]))


def infer_same(sqnrun, plan, w_in, w_out, work, name):
    """sqnrun --infer on one random input: the logits files from both weights are identical."""
    import squeezenas_torch as sqt
    x = os.path.join(work, name + ".in.npy")
    sqt.npy_write(x, torch.randn((1, 3, 64, 128), generator=torch.Generator().manual_seed(7)))
    outs = []
    for tag, w in (("in", w_in), ("out", w_out)):
        outs.append(os.path.join(work, "%s.logits_%s.npy" % (name, tag)))
        run(sqnrun, plan, "--weights", w, "--infer", x, "--logits", outs[-1], "--threads", "2")
    with open(outs[0], "rb") as a, open(outs[1], "rb") as b:
        if a.read() != b.read():
            raise Fail("%s: logits differ between %s and %s" % (name, w_in, w_out))


def published(sqnc, sqnrun, repo, work, shared, nets):
    import squeezenas_torch as sqt
    for seed, net in enumerate(nets, 1):
        plan, out = os.path.join(work, net + ".plan"), os.path.join(work, net + ".pth")
        ref = os.path.join(shared, "reference", "weights", net + ".pth")
        if net in ("mac_small", "lat_small"):
            if not os.path.isfile(ref):
                print("SKIP: %s not found (published %s weights)" % (ref, net))
                return 77
            w = ref
        else:
            w = os.path.join(work, net + ".seed%d.pth" % seed)
            torch.save(sqt.randomize(sqt.SqueezeNASNet(net), seed, (784, 784)).state_dict(), w)  # LR-ASPP pools 49x49 at OS16
        run(sqnc, os.path.join(repo, "examples", net + ".sqn"), "--input", INPUT, "-q", "-o", plan)
        run(sqnrun, plan, "--weights", w, "--export-pth", out)
        sd = load_export(out)
        model = sqt.SqueezeNASNet(net)
        model.load_state_dict(sd, strict=True)
        compare(net, torch.load(w), sd)
        compare(net + " (loaded model)", sd, model.state_dict())
        infer_same(sqnrun, plan, w, out, work, net)
        print("%s: %d tensors, strict load ok, bit-identical tensors and logits" % (net, len(sd)))
    return 0


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header, body = json.loads(raw[8:8 + n]), raw[8 + n:]
    dt = {"F32": torch.float32, "I64": torch.int64, "F64": torch.float64, "I32": torch.int32, "U8": torch.uint8}
    out = collections.OrderedDict()
    for k, v in header.items():
        if k == "__metadata__":
            continue
        b, e = v["data_offsets"]
        data = bytearray(body[b:e])
        t = torch.frombuffer(data, dtype=dt[v["dtype"]]) if data else torch.empty(0, dtype=dt[v["dtype"]])
        out[k] = t.reshape(v["shape"])
    return out


def write_safetensors(path, tensors):
    names = {torch.float32: "F32", torch.int64: "I64"}
    header, body = {}, b""
    for k, t in tensors.items():
        data = t.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b""
        header[k] = {"dtype": names[t.dtype], "shape": list(t.shape), "data_offsets": [len(body), len(body) + len(data)]}
        body += data
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + body)


def is_optimizer(name):
    return name.startswith(("momentum.", "adam_m.", "adam_v."))


def trained(sqnc, sqnrun, repo, work):
    import squeezenas_torch as sqt
    plan, run_dir, out = (os.path.join(work, f) for f in ("lat_small.plan", "run", "last.pth"))
    run(sqnc, os.path.join(repo, "examples", "lat_small.sqn"), "--input", INPUT, "-q", "-o", plan)
    run(sqnrun, plan, "--train", *SYNTH, "--epochs", "1", "--max-steps", "1", "--overwrite", "--out", run_dir)
    ckpt = os.path.join(run_dir, "last.safetensors")
    run(sqnrun, plan, "--weights", ckpt, "--export-pth", out)
    sd = load_export(out)
    sqt.SqueezeNASNet("lat_small").load_state_dict(sd, strict=True)
    want = collections.OrderedDict((k, v) for k, v in read_safetensors(ckpt).items() if not is_optimizer(k))
    zero = torch.tensor(0, dtype=torch.int64)
    compare("last.safetensors", want, sd, {k: zero for k in sd if k.endswith(".num_batches_tracked")})
    infer_same(sqnrun, plan, ckpt, out, work, "trained")
    # a buffer of the wrong kind is refused, naming it, and nothing is written
    bad, never = os.path.join(work, "bad_buffer.safetensors"), os.path.join(work, "never.pth")
    want["encoder.conv1.1.num_batches_tracked"] = torch.zeros(())
    write_safetensors(bad, want)
    r = subprocess.run([sqnrun, plan, "--weights", bad, "--export-pth", never], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    if r.returncode != 1 or "tensor 'encoder.conv1.1.num_batches_tracked' is F32 [], upstream's is I64 []" not in r.stdout \
            or os.path.exists(never):
        raise Fail("a float32 num_batches_tracked: exit %d, %s" % (r.returncode, r.stdout))
    print("trained lat_small: %d tensors, strict load ok, bit-identical tensors and logits" % len(sd))
    return 0


def search(sqnc, sqnrun, repo, work):
    """A search's last.safetensors: architecture weights and parameters, default buffers, no optimizer state."""
    plan, run_dir = os.path.join(work, "small_quick.plan"), os.path.join(work, "search")
    run(sqnc, os.path.join(repo, "spaces", "small_quick.sqn"), "--input", INPUT, "-q", "-o", plan)
    run(sqnrun, plan, "--search", *SYNTH, "--epochs", "1", "--warmup-epochs", "0", "--samples", "1",
        "--derive-val", "1", "--overwrite", "--out", run_dir)
    ckpt, out = os.path.join(run_dir, "last.safetensors"), os.path.join(work, "search.pth")
    run(sqnrun, plan, "--weights", ckpt, "--export-pth", out)
    sd = load_export(out)
    want = collections.OrderedDict((k, v) for k, v in read_safetensors(ckpt).items() if not is_optimizer(k))
    defaults = {}
    for k in sd:
        if k.endswith(".num_batches_tracked"):
            defaults[k] = torch.tensor(0, dtype=torch.int64)
        elif k.endswith(".ops_cost"):
            defaults[k] = torch.zeros(13)
        elif k.endswith(".gumbel_temperature"):
            defaults[k] = torch.ones(1)
    compare("search last.safetensors", want, sd, defaults)
    again = os.path.join(work, "search_again.pth")
    run(sqnrun, plan, "--weights", out, "--export-pth", again)
    with open(out, "rb") as a, open(again, "rb") as b:
        if a.read() != b.read():
            raise Fail("exporting the exported supernet again changes the file")
    print("search supernet: %d tensors, bit-identical, re-export identical" % len(sd))
    return 0


def supernet(sqnc, sqnrun, repo, work, shared):
    """Upstream's own supernet state_dict: the same keys in the same order, every tensor bit for bit."""
    init = os.path.join(shared, "reference", "supernet_small.init.pth")
    if not os.path.isfile(init):
        print("SKIP: %s not found (upstream's supernet state_dict)" % init)
        return 77
    plan, out = os.path.join(work, "small.plan"), os.path.join(work, "supernet_small.pth")
    run(sqnc, os.path.join(repo, "spaces", "small.sqn"), "--input", INPUT, "-q", "-o", plan)
    run(sqnrun, plan, "--weights", init, "--export-pth", out)
    want, sd = torch.load(init), load_export(out)
    compare("supernet_small.init.pth", want, sd)
    if list(want) != list(sd):
        raise Fail("supernet_small.init.pth: the export lists the keys in another order than upstream")
    print("upstream supernet_small: %d tensors, same keys in the same order, bit-identical" % len(sd))
    return 0


def main(argv):
    if len(argv) < 6:
        print(__doc__, file=sys.stderr)
        return 2
    kind, sqnc, sqnrun, repo, work = argv[1:6]
    os.makedirs(work, exist_ok=True)
    sys.path.insert(0, os.path.join(repo, "bench"))
    torch.set_num_threads(2)
    try:
        if kind == "published":
            return published(sqnc, sqnrun, repo, work, argv[6], argv[7:])
        if kind == "trained":
            return trained(sqnc, sqnrun, repo, work)
        if kind == "search":
            return search(sqnc, sqnrun, repo, work)
        if kind == "supernet":
            return supernet(sqnc, sqnrun, repo, work, argv[6])
    except Fail as e:
        print("FAIL:", e)
        return 1
    print("unknown check %s" % kind, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
