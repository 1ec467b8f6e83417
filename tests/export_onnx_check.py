#!/usr/bin/python3
"""tests/export_onnx_check.py - checks `sqnrun --export-onnx` on one fixed network (tests/export_onnx.cmake).

  export_onnx_check.py --sqnrun BIN --plan NET.plan --weights W|torch|random --work DIR
                       [--input CxHxW] [--opset N] [--batch B] [--tol T]

Exports the network twice (BN folded, the default, and --keep-bn), and for each file checks that
  - ONNX's checker accepts it (onnx.checker.check_model(full_check=True)) and strict shape inference
    runs (onnx.shape_inference.infer_shapes(strict_mode=True));
  - the graph has the input "input" (batch x C x H x W, batch symbolic) and the output "logits"
    (batch x classes x H x W), and every initializer is named as a tensor of the weights file (the
    plan's parameter names) or is one of the exporter's own constants ("sqn.*", "NODE/...");
  - OpenCV's DNN module (cv2.dnn.readNetFromONNX) computes the logits sqnrun computes
    (`sqnrun --infer IN.npy --logits OUT.npy`) on the same seeded random input, batch B (default 2, so
    the symbolic batch is exercised).

Tolerance: max |opencv - sqnrun| <= T * max(1, max |sqnrun logits|), T = 1e-4 by default. Both run float32
through 50 to 70 layers with different summation orders (OpenCV's own GEMM and depthwise kernels vs
sqnrun's OpenBLAS/AVX2 ones; BN folded in both, or applied as an affine by OpenCV with --keep-bn), so
the results agree to a few float32 ulps of the logits' magnitude per layer: measured 1e-6 .. 1e-5
relative (docs/deploy.md), 10x below the tolerance, while an export bug (a wrong pad, resize mode, BN
epsilon or weight) shows up as 1e-2 or more.

Weights for networks without published ones here: --weights torch (a published network) has
bench/squeezenas_torch.py make seeded random weights with BN statistics calibrated to the network's own
activations (needs PyTorch; without it, as random); --weights random has sqnrun make them (its reference
initialization and one training step on synthetic data, which writes a safetensors checkpoint), then sets
every BN's statistics and affine parameters to seeded random values, so folding is tested on non-trivial
BNs. Missing reference weights, python3-onnx, python3-opencv or numpy: exit 77 with "SKIP: ...".
"""
import argparse
import json
import os
import pickle
import struct
import subprocess
import sys
import zipfile

SKIP = 77


def skip(msg):
    print("SKIP: " + msg)
    sys.exit(SKIP)


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


try:
    import numpy as np
except ImportError:
    skip("python3-numpy not installed")
try:
    import onnx
    import onnx.numpy_helper
    import onnx.helper
except ImportError:
    skip("python3-onnx not installed")
try:
    import cv2
except ImportError:
    skip("python3-opencv not installed")


def run(cmd, expect=0):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
    if p.returncode != expect:
        fail("%s exited %d (expected %d):\n%s" % (" ".join(cmd), p.returncode, expect, p.stdout))
    return p.stdout


# ---- weights files: names (both kinds), and reading/writing safetensors -----------------------------

def read_safetensors(path):
    with open(path, "rb") as f:
        blob = f.read()
    (hlen,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + hlen])
    data = blob[8 + hlen:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", (name, info["dtype"])
        a, b = info["data_offsets"]
        out[name] = np.frombuffer(data[a:b], dtype="<f4").reshape(info["shape"]).copy()
    return out


def write_safetensors(path, tensors):
    header, chunks, off = {}, [], 0
    for name, t in tensors.items():
        b = np.ascontiguousarray(t, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        chunks.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(chunks))


class _Any:
    def __init__(self, *a, **k):
        pass

    def __call__(self, *a, **k):
        return _Any()

    def __setstate__(self, state):
        pass


class _NamesOnly(pickle.Unpickler):
    """Unpickles a torch state_dict's data.pkl without torch: tensors become placeholders."""

    def find_class(self, module, name):
        if module == "collections" and name == "OrderedDict":
            import collections
            return collections.OrderedDict
        return _Any

    def persistent_load(self, pid):
        return None


def weight_names(path):
    if path.endswith(".safetensors"):
        return set(read_safetensors(path))
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            pkl = [n for n in z.namelist() if n.endswith("/data.pkl") or n == "data.pkl"]
            return set(_NamesOnly(z.open(pkl[0])).load().keys())
    with open(path, "rb") as f:  # legacy serialization: magic, protocol, sys_info, then the state_dict
        u = _NamesOnly(f)
        for _ in range(3):
            u.load()
        return set(u.load().keys())


def random_weights(sqnrun, plan, work, seed=7):
    """sqnrun's own initialization after one training step, BN statistics and affines randomized."""
    run_dir = os.path.join(work, "init-run")
    run([sqnrun, plan, "--train", "--data", "synthetic", "--synthetic-size", "64x128", "--synthetic-train", "2",
         "--synthetic-val", "1", "--batch", "2", "--crop", "64x128", "--epochs", "1", "--seed", str(seed),
         "--overwrite", "--out", run_dir])
    t = {k: v for k, v in read_safetensors(os.path.join(run_dir, "last.safetensors")).items()
         if not k.startswith(("momentum.", "adam_"))}
    rng = np.random.RandomState(seed)
    for name, v in t.items():
        stem = name.rsplit(".", 1)[0]
        if name.endswith(".running_var"):
            t[name] = rng.uniform(0.5, 2.0, v.shape).astype(np.float32)
        elif name.endswith(".running_mean"):
            t[name] = rng.normal(0.0, 0.2, v.shape).astype(np.float32)
        elif stem + ".running_var" in t and name.endswith(".weight"):
            t[name] = rng.uniform(0.5, 1.5, v.shape).astype(np.float32)
        elif name.endswith(".bias"):
            t[name] = rng.normal(0.0, 0.1, v.shape).astype(np.float32)
    path = os.path.join(work, "random.safetensors")
    write_safetensors(path, t)
    return path


def torch_weights(net, work, seed=1):
    """bench/squeezenas_torch.py's random weights (BN calibrated on a 784x784 input, the smallest the
    LR-ASPP networks take there); None without PyTorch."""
    import importlib.util
    if importlib.util.find_spec("torch") is None:
        return None
    path = os.path.join(work, "torch.pth")
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench", "squeezenas_torch.py")
    run([sys.executable, script, net, "--input", "784x784", "--seed", str(seed), "--save-weights", path,
         "--threads", "1"])
    return path


# ---- the checks ------------------------------------------------------------------------------------

def dims_of(value_info):
    return [d.dim_param if d.dim_param else d.dim_value for d in value_info.type.tensor_type.shape.dim]


def check_model(path, names, c, h, w, classes):
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    onnx.shape_inference.infer_shapes(model, strict_mode=True)
    g = model.graph
    if [i.name for i in g.input] != ["input"] or [o.name for o in g.output] != ["logits"]:
        fail("%s: graph inputs %s, outputs %s" % (path, [i.name for i in g.input], [o.name for o in g.output]))
    if dims_of(g.input[0]) != ["batch", c, h, w] or dims_of(g.output[0]) != ["batch", classes, h, w]:
        fail("%s: input %s, output %s" % (path, dims_of(g.input[0]), dims_of(g.output[0])))
    own = [i.name for i in g.initializer if i.name not in names]
    strange = [n for n in own if not n.startswith("sqn.") and "/" not in n]
    if strange:
        fail("%s: initializers not named as the weights: %s" % (path, strange[:5]))
    return model


def for_opencv(model):
    """The same computation in the form OpenCV 4.6's importer reads correctly. It knows Clip only as
    opset 6 wrote it (bounds as attributes, not inputs as in opset >= 11), and it ignores AveragePool's
    count_include_pad (it includes the padding only for models whose producer is "pytorch"): a pool
    that counts its padding is fed to it as an explicit zero Pad followed by an unpadded AveragePool."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    consts = {t.name: onnx.numpy_helper.to_array(t) for t in m.graph.initializer}
    nodes = []
    for node in m.graph.node:
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        if node.op_type == "Clip" and len(node.input) == 3:
            lo, hi = float(consts[node.input[1]]), float(consts[node.input[2]])
            del node.input[1:]
            node.attribute.extend([onnx.helper.make_attribute("min", lo), onnx.helper.make_attribute("max", hi)])
        elif node.op_type == "AveragePool" and attrs.get("count_include_pad") == 1 and any(attrs.get("pads", [])):
            p = list(attrs["pads"])  # [top, left, bottom, right] -> Pad's [n, c, top, left, n, c, bottom, right]
            pads = node.name + "/opencv_pads"
            m.graph.initializer.append(onnx.numpy_helper.from_array(
                np.array([0, 0, p[0], p[1], 0, 0, p[2], p[3]], np.int64), pads))
            padded = node.name + "/opencv_padded"
            nodes.append(onnx.helper.make_node("Pad", [node.input[0], pads], [padded], name=padded))
            node.input[0] = padded
            for a in node.attribute:
                if a.name == "pads":
                    a.ints[:] = [0, 0, 0, 0]
        nodes.append(node)
    del m.graph.node[:]
    m.graph.node.extend(nodes)
    return m.SerializeToString()


def opencv_logits(model, x):
    net = cv2.dnn.readNetFromONNX(for_opencv(model))
    net.setInput(x)
    return net.forward()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sqnrun", required=True)
    ap.add_argument("--plan", required=True)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--input")
    ap.add_argument("--opset", type=int)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--checker-only", action="store_true",
                    help="onnx.checker and strict shape inference only: for graphs OpenCV's DNN cannot import")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    if a.weights not in ("random", "torch") and not os.path.isfile(a.weights):
        skip("reference weights %s not found" % a.weights)
    info = json.loads(run([a.sqnrun, a.plan, "--info", "--json"]))
    net, classes = info["name"], info["classes"]
    c, h, w = [int(v) for v in a.input.split("x")] if a.input else info["input"]
    weights = a.weights
    if weights == "torch":
        weights = torch_weights(net, a.work)
        if weights is None:
            print("note: no PyTorch here; %s gets sqnrun's random weights" % net)
    if weights in ("random", None):
        weights = random_weights(a.sqnrun, a.plan, a.work)
    names = weight_names(weights)

    x = np.random.RandomState(1).normal(0, 1, (a.batch, c, h, w)).astype(np.float32)
    np.save(os.path.join(a.work, "input.npy"), x)
    ref_path = os.path.join(a.work, "sqnrun_logits.npy")
    run([a.sqnrun, a.plan, "--weights", weights, "--infer", os.path.join(a.work, "input.npy"), "--logits", ref_path])
    ref = np.load(ref_path)
    scale = max(1.0, float(np.abs(ref).max()))

    extra = (["--input", a.input] if a.input else []) + (["--opset", str(a.opset)] if a.opset else [])
    outs = {}
    for variant, flags in (("bn-folded", []), ("keep-bn", ["--keep-bn"])):
        path = os.path.join(a.work, "%s.%s.onnx" % (net, variant))
        if os.path.exists(path):
            os.remove(path)
        run([a.sqnrun, a.plan, "--weights", weights, "--export-onnx", path] + extra + flags)
        model = check_model(path, names, c, h, w, classes)
        if a.checker_only:
            print("%s [%s]: onnx.checker and shape inference passed (OpenCV not run: --checker-only)" % (net, variant))
            continue
        y = opencv_logits(model, x)
        if y.shape != ref.shape:
            fail("%s: OpenCV gives %s, sqnrun %s" % (variant, y.shape, ref.shape))
        diff = float(np.abs(y - ref).max())
        ops = sorted({n.op_type for n in model.graph.node})
        print("%s [%s, opset %d]: %d nodes (%s); max |opencv - sqnrun| = %.3g, logits scale %.3g, relative %.3g "
              "(tolerance %.0e)" % (net, variant, model.opset_import[0].version, len(model.graph.node), " ".join(ops),
                                    diff, scale, diff / scale, a.tol))
        if not diff <= a.tol * scale:
            fail("%s [%s]: OpenCV's logits differ from sqnrun's by %.3g (> %.3g)" % (net, variant, diff, a.tol * scale))
        outs[variant] = y
    leftovers = [f for f in os.listdir(a.work) if ".tmp." in f]
    if leftovers:
        fail("temporary files left behind: %s" % leftovers)
    if a.checker_only:
        return print("%s: ok (checker only)" % net)
    d = float(np.abs(outs["bn-folded"] - outs["keep-bn"]).max())
    if not d <= a.tol * scale:
        fail("--keep-bn changes the logits by %.3g" % d)
    print("%s: ok (BN folded vs kept: %.3g)" % (net, d))


if __name__ == "__main__":
    main()
