#!/usr/bin/python3
"""search_width_e2e.py SQNC SQNRUN TEST_INHERIT REPO WORKDIR - width, depth, stem, head and decoder choices from the
command line.

Two spaces with width choices (`stage [W1, W2] ...`), a searchable depth (`repeat 1 -> 2`) and `decoder choose`
(the first also `stem choose` and `head choose`):
- `exact`: candidates whose inner widths do not follow their input's (a fixed hidden width), so that a network
  with the leading channels of the supernet's tensors computes exactly what the supernet computes with its
  channels masked. Searched, derived (derived.sqn states the widths), compiled, fine-tuned from the supernet,
  equal to the supernet under one-hot mixing (test_inherit), and the search's predicted MACs of the derived
  architecture equal the compiled network's. Every width of the space also compiles as a network.
- `squeeze`: the SqueezeNAS candidates (inverted residuals whose hidden width follows their input's): searched,
  derived and fine-tuned from the supernet's sliced weights (an approximation there: docs/search.md), with the
  predicted MACs again equal to the compiled network's.
Exit 0 when all hold."""
import json
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_util import check, run  # noqa: E402

EXACT = """import "squeezenas.sqn"

// An inverted residual with a fixed hidden width: no layer's width follows its input's.
block mbh(k: int = 3, hidden: int = 24) {
  x = conv(in, hidden, k=1) -> bn -> relu
  x = conv(x, hidden, k=k, stride=stride, groups=hidden) -> bn -> relu
  out = conv(x, cout, k=1) -> bn
}

space width_exact {
  input 3x64x128
  classes 19
  stem choose [conv_bn_relu(cout=16, k=3, stride=2), conv_bn_relu(cout=16, k=5, stride=2)]
  stage [16, 24] repeat 2 stride 2 choose [mbh(k=3), mbh(k=5, hidden=32)]
  stage [24, 40] repeat 1 -> 2 stride 2 choose [mbh(k=3), mbh(k=5, hidden=48)]
  stage [48, 64] repeat 1 stride 2 choose [mbh(k=3, hidden=64), mbh(k=5, hidden=96)]
  head choose [conv_bn_relu(cout=64), conv_bn_relu(cout=64, k=3)]
  decoder choose [lr_aspp(low=tap(2), mid=32, pool_fit=true), aspp(low=tap(1), mid=32, r1=2, r2=4, r3=6)]
  residual (stride == 1 && cin == cout)
  search {
    objective macs
    costs relative
    alpha 0.5
    arch_lr 0.2
    warmup 0
    epochs 2
  }
  train { lr 0.05; batch 2; crop 64x128 }
}
"""

SQUEEZE = """import "squeezenas.sqn"

space width_squeeze {
  input 3x64x128
  classes 19
  stem conv_bn_relu(cout=16, k=3, stride=2)
  stage [16, 24] repeat 2 stride 2 choose squeezenas13
  stage [32, 40] repeat 1 -> 2 stride 2 choose squeezenas13
  stage [48, 64] repeat 1 stride 2 choose squeezenas13
  head conv_bn_relu(cout=64)
  decoder lr_aspp(low=tap(2), mid=32, pool_fit=true)
  residual (stride == 1 && cin == cout)
  search {
    objective macs target 40%
    warmup 0
    epochs 1
  }
  train { lr 0.05; batch 2; crop 64x128 }
}
"""




def info(sqnrun, plan):
    return json.loads(run(sqnrun, plan, "--info", "--json"))


def macs_of(sqnrun, plan):
    m = re.search(r"MACs\s+[\d.]+ \w+ \(([\d,]+)\)", run(sqnrun, plan, "--info"))
    return int(m.group(1).replace(",", ""))


DATA = ["--data", "synthetic", "--synthetic-size", "64x128", "--synthetic-train", "8", "--synthetic-val", "2",
        "--batch", "2", "--crop", "64x128", "--seed", "3"]


def check_costs(sqnc, sqnrun, repo, work, name, space, archs):
    """Every scored architecture, compiled as a network: its MACs are the search's prediction."""
    worst = 0.0
    for i, a in enumerate(archs):
        blocks = [c for c in a["candidates"] if not re.fullmatch(r"w\d+", c)]
        widths = [c[1:] for c in a["candidates"] if re.fullmatch(r"w\d+", c)]
        path = os.path.join(work, f"{name}_arch{i}.sqn")
        with open(path, "w") as f:
            f.write(f'import "{name}.sqn"\nnetwork arch{i} = {space} [{", ".join(blocks)}] {{ widths {" ".join(widths)} }}\n')
        plan = os.path.join(work, f"{name}_arch{i}.plan")
        run(sqnc, path, "-I", os.path.join(repo, "spaces"), "-q", "-o", plan)
        actual = macs_of(sqnrun, plan)
        worst = max(worst, abs(a["gmacs"] * 1e9 - actual) / actual)
    check(worst <= 1e-3, f"{name}: the MACs predicted for each of the {len(archs)} scored architectures are the compiled "
                         f"network's (worst relative difference {worst:.2g}, from the 4 decimals of pareto.json)")


def search_derive_train(sqnc, sqnrun, repo, work, name, text):
    """Compiles and searches the space, compiles derived.sqn and fine-tunes it a step from the supernet's weights."""
    src, plan, out = (os.path.join(work, f"{name}{ext}") for ext in (".sqn", ".plan", "_search"))
    with open(src, "w") as f:
        f.write(text)
    run(sqnc, src, "-I", os.path.join(repo, "spaces"), "-q", "-o", plan)
    sp = info(sqnrun, plan)
    widths = [sb for sb in sp["superblocks"] if sb["width"]]
    check(len(widths) == 3 and all(len(sb["candidates"]) == 2 for sb in widths),
          f"{name}: three width choices of two widths ({[[c['width'] for c in sb['candidates']] for sb in widths]})")
    run(sqnrun, plan, "--search", *DATA, "--samples", "10", "--derive-val", "2", "--max-steps", "4", "--overwrite", "--out", out)
    with open(os.path.join(out, "derived.sqn")) as f:
        derived = f.read()
    m = re.search(r"widths ((?:\d+ ?)+)", derived)
    check(m is not None, f"{name}: derived.sqn states the widths ({m.group(0) if m else 'none'})")
    dplan = os.path.join(work, f"{name}_derived.plan")
    run(sqnc, os.path.join(out, "derived.sqn"), "-I", os.path.join(repo, "spaces"), "-q", "-o", dplan)
    with open(os.path.join(out, "pareto.json")) as f:
        archs = json.load(f)
    archs = archs["architectures"] if isinstance(archs, dict) else archs
    chosen = [a for a in archs if a["chosen"]][0]
    check_costs(sqnc, sqnrun, repo, work, name, re.search(r"space (\w+)", text).group(1), archs)
    actual = macs_of(sqnrun, dplan)
    check(abs(chosen["gmacs"] * 1e9 - actual) <= 1e-3 * actual,
          f"{name}: predicted {chosen['gmacs']:.6g} GMACs = the derived network's {actual} MACs")
    run(sqnrun, dplan, "--train", *DATA, "--epochs", "1", "--max-steps", "1", "--weights",
        os.path.join(out, "last.safetensors"), "--overwrite", "--out", os.path.join(work, f"{name}_ft"))
    print(f"ok: {name}: the derived network fine-tunes from the supernet's weights")
    return plan, dplan, out, derived, [int(w) for w in m.group(1).split()]


def main():
    sqnc, sqnrun, test_inherit, repo, work = sys.argv[1:6]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    plan, dplan, out, derived, _ = search_derive_train(sqnc, sqnrun, repo, work, "exact", EXACT)
    parts = [line.split("// the ")[1].split(":")[0] for line in derived.splitlines() if "// the " in line]
    check(parts == ["stem", "head", "decoder"], f"exact: derived.sqn names the chosen stem, head and decoder ({parts})")
    res = run(test_inherit, plan, dplan, os.path.join(out, "last.safetensors"))
    check("max |diff|" in res, f"exact: the derived network with inherited weights = supernet one-hot ({res.splitlines()[0]})")
    # every width of each stage (the others at their narrowest) compiles and inherits exactly
    choices = [[c["width"] for c in sb["candidates"]] for sb in info(sqnrun, plan)["superblocks"] if sb["width"]]
    picks = []
    for stage, ws in enumerate(choices):
        for w in ws:
            pick = [c[0] for c in choices]
            pick[stage] = w
            if pick not in picks:
                picks.append(pick)
    for pick in picks:
        tag = "_".join(map(str, pick))
        path = os.path.join(out, f"widths_{tag}.sqn")
        with open(path, "w") as f:
            f.write(re.sub(r"widths (?:\d+ ?)+", "widths " + " ".join(map(str, pick)), derived))
        p = os.path.join(work, f"widths_{tag}.plan")
        run(sqnc, path, "-I", os.path.join(repo, "spaces"), "-q", "-o", p)
        res = run(test_inherit, plan, p, os.path.join(out, "last.safetensors"))
        check("max |diff|" in res, f"exact: widths {pick} inherit exactly ({res.splitlines()[0]})")
    search_derive_train(sqnc, sqnrun, repo, work, "squeeze", SQUEEZE)


if __name__ == "__main__":
    main()
