#!/usr/bin/python3
"""search_budget_e2e.py SQNC SQNRUN TEST_INHERIT REPO WORKDIR - budgets, the skip limit, a searchable depth and a
decoder choice from the command line.

One space with `objective macs target 20%`, `skip_limit 25%`, `costs relative`, a stage of searchable depth
(`repeat 1 -> 3`: its last two superblocks may skip) and `decoder choose` over two decoders (LR-ASPP and
depthwise ASPP), compiled at two input sizes (64x128 and 128x256) and searched with the
same settings: at both sizes the run line states the budget in GMACs at that size, the budget's multiplier
rises while the expected cost is over it, the expected cost (as a fraction of the cost range) falls towards
the target, and the derived network is within the budget whenever a scored architecture is. The derived
network (its decoder chosen by the search) compiles, fine-tunes from the supernet's weights, and with them
computes the supernet's logits under one-hot mixing (test_inherit), for either decoder. A search stopped
after one epoch and resumed ends with the uninterrupted search's bytes (the multipliers are in the
checkpoint). Exit 0 when all hold."""
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_util import check, lines, run  # noqa: E402

SPACE = """import "squeezenas.sqn"

space budget_test {
  input 3x64x128
  classes 19
  stem conv_bn_relu(cout=16, k=3, stride=2)
  stage 16 repeat 2 stride 2 choose squeezenas13
  stage 24 repeat 2 stride 2 choose squeezenas13
  stage 32 repeat 1 -> 3 stride 2 choose [ir(k=3, e=3), ir(k=5, e=6)]
  head conv_bn_relu(cout=64)
  decoder choose [lr_aspp(low=tap(3), mid=32, pool_fit=true), aspp(low=tap(1), mid=32, r1=2, r2=4, r3=6)]
  residual (stride == 1 && cin == cout)
  search {
    objective macs target 20%
    costs relative
    skip_limit 25%
    budget_lr 2.0
    arch_lr 0.2 -> 0.05
    temperature 5.0 -> 1.0
    warmup 0
    epochs 3
  }
  train { lr 0.05; batch 2; crop 64x128 }
}
"""





def search_at(sqnc, sqnrun, repo, work, size, out, *extra):
    plan = os.path.join(work, f"budget_{size}.plan")
    run(sqnc, os.path.join(work, "budget.sqn"), "-I", os.path.join(repo, "spaces"), "--input", f"3x{size}", "-q", "-o", plan)
    h, w = size.split("x")
    data = ["--data", "synthetic", "--synthetic-size", size, "--synthetic-train", "8", "--synthetic-val", "2",
            "--batch", "2", "--crop", size, "--seed", "5", "--samples", "6", "--derive-val", "2", "--max-steps", "4"]
    return run(sqnrun, plan, "--search", *data, "--overwrite", "--out", os.path.join(work, out), *extra)


def inherit(sqnc, sqnrun, test_inherit, repo, work, size, run_dir):
    """The derived network, and the same with the other decoder: compile, fine-tune a step from the supernet's
    weights, and match the supernet's logits."""
    with open(os.path.join(run_dir, "derived.sqn")) as f:
        text = f.read()
    lines_ = text.splitlines()
    dec = [i for i, l in enumerate(lines_) if "// the decoder:" in l]
    check(len(dec) == 1, f"{size}: derived.sqn chooses the decoder: {lines_[dec[0]].strip() if dec else '(none)'}")
    chosen = lines_[dec[0]].split(",")[0].strip()
    with open(os.path.join(work, f"budget_{size}.info.json"), "w") as f:
        f.write(run(sqnrun, os.path.join(work, f"budget_{size}.plan"), "--info", "--json"))
    with open(os.path.join(work, f"budget_{size}.info.json")) as f:
        info = json.load(f)
    names = [c["name"] for c in info["superblocks"][-1]["candidates"]]
    check(info["superblocks"][-1]["decoder"] and len(names) == 2, f"{size}: the space's last superblock chooses between {names}")
    other = [n for n in names if n != chosen][0]
    lines_[dec[0]] = lines_[dec[0]].replace(chosen + ",", other + ",", 1)
    variants = {"derived": text, "other_decoder": "\n".join(lines_) + "\n"}
    for name, src in variants.items():
        path = os.path.join(run_dir, f"{name}.sqn")
        with open(path, "w") as f:
            f.write(src)
        plan = os.path.join(work, f"{name}_{size}.plan")
        run(sqnc, path, "-I", os.path.join(repo, "spaces"), "-q", "-o", plan)
        run(sqnrun, plan, "--train", "--data", "synthetic", "--synthetic-size", size, "--synthetic-train", "2",
            "--synthetic-val", "2", "--batch", "2", "--crop", size, "--epochs", "1", "--max-steps", "1",
            "--weights", os.path.join(run_dir, "last.safetensors"), "--overwrite", "--out", os.path.join(work, f"ft_{name}_{size}"))
        out = run(test_inherit, os.path.join(work, f"budget_{size}.plan"), plan, os.path.join(run_dir, "last.safetensors"))
        check("max |diff| 0 " in out, f"{size}: {name} network with inherited weights = supernet one-hot ({out.splitlines()[0]})")


def info_of(sqnrun, work, size):
    with open(os.path.join(work, f"budget_{size}.info.json")) as f:
        return json.load(f)


def main():
    sqnc, sqnrun, test_inherit, repo, work = sys.argv[1:6]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    with open(os.path.join(work, "budget.sqn"), "w") as f:
        f.write(SPACE)
    budgets = {}
    for size in ("64x128", "128x256"):
        out = f"search_{size}"
        text = search_at(sqnc, sqnrun, repo, work, size, out)
        check("budget" in text and "20% of the range" in text and "skips <= 25%" in text,
              f"{size}: the start line states the budget and the skip limit")
        log = os.path.join(work, out, "log.jsonl")
        r = lines(log, "run")[0]
        check(r["costs"] == "relative" and r["cost_min"] < r["budget"] < r["cost_max"],
              f"{size}: budget {r['budget']:.4g} GMACs between the cheapest {r['cost_min']:.4g} and the dearest {r['cost_max']:.4g}")
        check(abs((r["budget"] - r["cost_min"]) / (r["cost_max"] - r["cost_min"]) - 0.2) < 1e-6, f"{size}: budget = 20% of the range")
        budgets[size] = r["budget"]
        steps = lines(log, "step")
        first, last = steps[0], steps[-1]
        check(first["relative_cost"] > 0.3, f"{size}: the uniform start is over budget ({first['relative_cost']:.3f} of the range)")
        check(last["lambda"] > 0, f"{size}: the budget's multiplier rose to {last['lambda']:.3g}")
        check(last["relative_cost"] < first["relative_cost"] - 0.05,
              f"{size}: expected cost fell from {first['relative_cost']:.3f} to {last['relative_cost']:.3f} of the range")
        check(all(s["arch_lr"] <= 0.2 + 1e-12 for s in steps) and steps[-1]["arch_lr"] < 0.2, f"{size}: arch_lr anneals")
        with open(os.path.join(work, out, "pareto.json")) as f:
            archs = json.load(f)
        archs = archs["architectures"] if isinstance(archs, dict) else archs
        chosen = [a for a in archs if a["chosen"]][0]
        fits = [a for a in archs if a["gmacs"] <= r["budget"] + 1e-12]
        check(not fits or chosen["gmacs"] <= r["budget"] + 1e-12,
              f"{size}: derived network {chosen['gmacs']:.4g} GMACs within the budget ({len(fits)} of {len(archs)} scored fit)")
        inherit(sqnc, sqnrun, test_inherit, repo, work, size, os.path.join(work, out))
    ratio = budgets["128x256"] / budgets["64x128"]
    check(abs(ratio - 4) < 0.05, f"the same `target 20%` is {ratio:.3f}x as many GMACs at 4x the pixels")
    names = [[c["name"] for c in sb["candidates"]] for sb in info_of(sqnrun, work, "64x128")["superblocks"]]
    check(names[4] == names[4][:2] and "skip_depth" in names[5] and "skip_depth" in names[6] and len(names[6]) == 3,
          "the searchable depth adds skip_depth to the last two superblocks of its stage")
    # a network that skips both optional superblocks compiles and runs
    with open(os.path.join(work, "search_64x128", "derived.sqn")) as f:
        lines_ = f.read().splitlines()
    for sb in (5, 6):
        at = [i for i, l in enumerate(lines_) if f"// superblock {sb}:" in l][0]
        lines_[at] = "  skip_depth,"
    shallow = os.path.join(work, "search_64x128", "shallow.sqn")
    with open(shallow, "w") as f:
        f.write("\n".join(lines_) + "\n")
    run(sqnc, shallow, "-I", os.path.join(repo, "spaces"), "-q", "-o", os.path.join(work, "shallow.plan"))
    out = run(test_inherit, os.path.join(work, "budget_64x128.plan"), os.path.join(work, "shallow.plan"),
              os.path.join(work, "search_64x128", "last.safetensors"))
    check("max |diff| 0 " in out, "a network skipping the optional superblocks = the supernet one-hot on skip_depth")
    # resume: one epoch, then the rest, equals the uninterrupted search
    search_at(sqnc, sqnrun, repo, work, "64x128", "resumed", "--stop-after", "1")
    run(sqnrun, os.path.join(work, "budget_64x128.plan"), "--search", "--data", "synthetic", "--synthetic-size", "64x128",
        "--synthetic-train", "8", "--synthetic-val", "2", "--batch", "2", "--crop", "64x128", "--seed", "5", "--samples", "6",
        "--derive-val", "2", "--max-steps", "4", "--resume", "--out", os.path.join(work, "resumed"))
    with open(os.path.join(work, "search_64x128", "last.safetensors"), "rb") as a, \
            open(os.path.join(work, "resumed", "last.safetensors"), "rb") as b:
        check(a.read() == b.read(), "a resumed budgeted search ends with the uninterrupted one's bytes")


if __name__ == "__main__":
    main()
