#!/usr/bin/env python3
"""dist_compare.py REF_DIR RUN_DIR LOSS_TOL WEIGHT_TOL: a data-parallel run (RUN_DIR) against one process (REF_DIR)
with the same global batch: every logged step loss (train "loss", search "ce_loss") within LOSS_TOL (absolute), and
every float32 tensor of last.safetensors (weights, BN running statistics, theta, momentum and Adam state) within
WEIGHT_TOL * (1 + |ref|) element-wise (WEIGHT_TOL "-": the losses only). Prints the largest differences measured.
Standard library only."""
import json
import struct
import sys
from array import array


def read_safetensors(path):
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header, data = json.loads(blob[8:8 + n]), blob[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__" or info["dtype"] != "F32":
            continue
        b, e = info["data_offsets"]
        out[name] = array("f", data[b:e])
    return out


def step_losses(run):
    losses = []
    with open(run + "/log.jsonl") as f:
        for line in f:
            rec = json.loads(line)
            if rec.get("type") == "step":
                losses.append(rec["loss"] if "loss" in rec else rec["ce_loss"])
    return losses


def main():
    ref, run, loss_tol = sys.argv[1], sys.argv[2], float(sys.argv[3])
    la, lb = step_losses(ref), step_losses(run)
    if len(la) != len(lb) or not la:
        sys.exit(f"FAIL: {len(la)} steps logged in {ref}, {len(lb)} in {run}")
    dloss = max(abs(a - b) for a, b in zip(la, lb))
    if sys.argv[4] == "-":
        print(f"{len(la)} steps: max |loss difference| {dloss:.3g}")
        if dloss > loss_tol:
            sys.exit(f"FAIL: beyond the tolerance (loss {loss_tol})")
        return
    w_tol = float(sys.argv[4])
    wa, wb = read_safetensors(ref + "/last.safetensors"), read_safetensors(run + "/last.safetensors")
    if sorted(wa) != sorted(wb):
        sys.exit(f"FAIL: the checkpoints hold different tensors ({len(wa)} and {len(wb)})")
    worst, where, dabs = 0.0, "", 0.0
    for name in wa:
        for a, b in zip(wa[name], wb[name]):
            d = abs(a - b)
            dabs = max(dabs, d)
            if d / (1 + abs(a)) > worst:
                worst, where = d / (1 + abs(a)), name
    print(f"{len(la)} steps: max |loss difference| {dloss:.3g}; {len(wa)} tensors: max |difference| {dabs:.3g}, "
          f"max |difference| / (1 + |value|) {worst:.3g}{' (' + where + ')' if where else ''}")
    if dloss > loss_tol or worst > w_tol:
        sys.exit(f"FAIL: beyond the tolerances (loss {loss_tol}, weights {w_tol})")


main()
