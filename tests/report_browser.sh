#!/bin/sh
# report_browser.sh DIR: the report pages that report_unit (DIR/unit/...) and report_runs (DIR/search,
# DIR/train) wrote, loaded in headless Chromium. Each page's script writes its self-test into
# <pre id="selftest">: the errors it saw (window errors, console.error, a part that failed) and the points
# each plot drew. Here: no errors, and every count equal to what the run folder's log.jsonl, pareto.json and
# arch.svg hold (computed independently below, with the page's rule for long logs: at most 4000 points, each
# the mean of consecutive lines). Keeps DIR/browser/report-screenshot.png (the search) and
# report-screenshot-synthetic.png (the hand-made search with pruning and latencies). Opened as
# report.html#selftest, the page also hovers a curve, a heat map cell and the chosen architecture and records
# the tooltips, which must show the values (and for the architecture its mIoU, GMACs, latency, candidates).
dir=$1
command -v chromium >/dev/null 2>&1 || { echo "SKIP: chromium not installed"; exit 77; }
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 not installed"; exit 77; }
out=$dir/browser
rm -rf "$out" && mkdir -p "$out"
chrome() {
  timeout 90 chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run --disable-extensions \
    --user-data-dir="$out/profile" "$@" 2>>"$out/chromium.log"
}
status=0
for run in search train unit/search unit/train unit/long; do
  name=$(echo "$run" | tr / -)
  page=$dir/$run/report.html
  [ -s "$page" ] || { echo "report_browser.sh: no $page"; status=1; continue; }
  chrome --dump-dom "file://$page#selftest" >"$out/$name.dom" || { echo "report_browser.sh: chromium failed on $page (see $out/chromium.log)"; status=1; continue; }
  python3 - "$dir/$run" "$out/$name.dom" <<'PY' || status=1
import html, json, math, os, re, sys
run, dom_path = sys.argv[1], sys.argv[2]
def fail(msg):
    print("report_browser.sh: %s: %s" % (run, msg)); sys.exit(1)
dom = open(dom_path, encoding="utf-8").read()
m = re.search(r'<pre id="selftest"[^>]*>(.*?)</pre>', dom, re.S)
if not m: fail("no <pre id=selftest> in the page")
got = json.loads(html.unescape(m.group(1)))
if got.get("errors"): fail("script errors: %s" % got["errors"])

def fin(v): return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
lines = []
for text in open(os.path.join(run, "log.jsonl"), encoding="utf-8"):
    try: lines.append(json.loads(text))
    except ValueError: pass
steps = [l for l in lines if l.get("type") == "step"]
epochs = [l for l in lines if l.get("type") == "epoch"]
probs = [l for l in lines if l.get("type") == "probs"]
for e in epochs:
    h = [s["entropy"] for s in e.get("superblocks", []) if isinstance(s, dict) and fin(s.get("entropy"))]
    e["mean_entropy"] = sum(h) / len(h) if h else None
pareto_path = os.path.join(run, "pareto.json")
search = bool(probs) or os.path.exists(pareto_path) or any(k in l for l in lines for k in ("ce_loss", "expected_cost", "resource_loss"))

def points(rows, key, xkey):
    """Points a series draws: the rows averaged in bins (at most 4000), a point where x and y are finite."""
    n = len(rows); per = -(-n // 4000) if n > 4000 else 1
    return sum(1 for i in range(0, n, per)
               if any(fin(r.get(key)) for r in rows[i:i + per]) and any(fin(r.get(xkey)) for r in rows[i:i + per]))

want = {"lr": points(steps, "lr", "step"), "grad_norm": points(steps, "grad_norm", "step"),
        "seconds": points(epochs, "seconds", "epoch")}
if search:
    want["loss"] = points(steps, "ce_loss", "step") + points(epochs, "ce_loss", "step")
    want["cost"] = points(steps, "expected_cost", "step") + points(epochs, "expected_cost", "step")
    want["resource"] = points(steps, "resource_loss", "step")
    want["temperature"] = points(steps, "temperature", "step")
    want["entropy"] = points(epochs, "mean_entropy", "epoch")
else:
    want["loss"] = points(steps, "loss", "step") + points(epochs, "train_loss", "step")
    want["miou"] = points(epochs, "val_miou", "epoch") + points(epochs, "val_pixel_acc", "epoch")
if probs:
    every = -(-len(probs) // 400) if len(probs) > 400 else 1
    kept = [p for k, p in enumerate(probs) if k % every == 0 or k == len(probs) - 1]
    cands = [sb.get("candidates", []) for sb in kept[-1]["superblocks"]]
    want["heat"] = sum(1 for p in kept for b, names in enumerate(cands) for k in range(len(names))
                       if b < len(p["superblocks"]) and k < len(p["superblocks"][b].get("p", []))
                       and fin(p["superblocks"][b]["p"][k]))
if os.path.exists(pareto_path):
    archs = [a for a in json.load(open(pareto_path, encoding="utf-8"))["architectures"] if fin(a["gmacs"]) and fin(a["miou"])]
    want["pareto"] = len(archs)
    want["pareto_front"] = sum(1 for a in archs if a["pareto"])
    want["pareto_chosen"] = sum(1 for a in archs if a["chosen"])
svg = os.path.join(run, "arch.svg")
if os.path.exists(svg):
    want["arch"] = open(svg, encoding="utf-8").read().count("<rect")
hover = got.get("hover", {})
if want.get("loss") and not re.search(r"per step: [-0-9.e]+  \(step [0-9.e]+\)", hover.get("chart", "")):
    fail("hovering a curve showed %r" % hover.get("chart"))
if want.get("heat") and not re.match(r"superblock 0, epoch [0-9]+ \| .+ \| (p = [0-9.e-]+|pruned)$", hover.get("heat", "")):
    fail("hovering the heat map showed %r" % hover.get("heat"))
if want.get("pareto_chosen"):
    chosen = [a for a in archs if a["chosen"]][0]
    text = hover.get("pareto", "")
    for part in ["(on the front, chosen" if chosen["pareto"] else "(chosen", "mIoU ", "GMACs ", "latency ",
                 " 0  " + chosen["candidates"][0]]:
        if part not in text: fail("hovering the chosen architecture showed %r, without %r" % (text, part))
if got["points"] != want:
    fail("points drawn %s, expected %s" % (json.dumps(got["points"], sort_keys=True), json.dumps(want, sort_keys=True)))
print("%s: no script errors; points %s; hover %s" % (run, json.dumps(want, sort_keys=True), json.dumps(hover)))
PY
done
chrome --screenshot="$out/report-screenshot.png" --window-size=1400,2000 "file://$dir/search/report.html" >/dev/null
chrome --screenshot="$out/report-screenshot-synthetic.png" --window-size=1400,2000 "file://$dir/unit/search/report.html" >/dev/null
for shot in report-screenshot.png report-screenshot-synthetic.png; do
  [ -s "$out/$shot" ] || { echo "report_browser.sh: no screenshot $out/$shot"; status=1; continue; }
  echo "screenshot: $out/$shot"
done
rm -rf "$out/profile"
[ "$status" = 0 ] && echo "report pages: no script errors, every plot drew its data's points"
exit "$status"
