#!/usr/bin/python3
"""search_experiment.py - does the search work? (issue 5, item 8; written up in docs/search.md)

On the synthetic street scenes, with a CPU latency table measured on this machine:
  (a) the network derived by a latency-objective search against 20 random architectures of the same
      space whose predicted latency is within +-5% of the derived one's, all trained with one recipe;
  (b) a latency-objective search against a MAC-objective search with matched pressure (alpha scaled
      by the uniform distribution's expected cost, so both resource losses start equal), their
      derived networks trained with the same recipe and timed.

Phases (each skips work whose output exists, so the script can be stopped and rerun):
  prepare  compile the space, measure the latency table, run both searches, pick random archs, compile
  train    train every network (20 random, both derived ones with three seeds each)
  measure  time every network with --bench (run it on an idle machine)
  report   print the tables (markdown)

--phase preset (issue 18; its own folder DIR/preset, not part of `all`): the spaces' shipped presets (relative costs,
skip limit, annealed arch_lr and temperature), MAC objective:
  (c) the network spaces/small_quick.sqn's preset derives, trained with three seeds, against --random architectures
      of the same space whose MACs are within +-5% of it, trained with seed 1;
  (d) the same preset on spaces/small_quick_widths.sqn (a width choice per stage): its derived network, trained with
      three seeds;
  (e) the preset with a budget (`target 25%` of the cost range instead of alpha), derived and trained with three seeds.

usage: bench/search_experiment.py --bin BUILD --out DIR [--phase all|prepare|train|measure|report|preset]
       [--epochs 20] [--random 20] [--threads 2]
"""
import argparse
import csv
import json
import os
import random
import statistics
import subprocess
import sys

SPACE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "spaces", "small_quick.sqn")
SEEDS = (1, 2, 3)


def run(cmd, log=None):
    print("+", " ".join(cmd), flush=True)
    if log:
        os.makedirs(os.path.dirname(log), exist_ok=True)
        with open(log, "w") as f:
            subprocess.run(cmd, check=True, stdout=f, stderr=subprocess.STDOUT)
    else:
        subprocess.run(cmd, check=True)


class Exp:
    def __init__(self, a):
        self.a = a
        self.out = os.path.abspath(a.out)
        self.sqnc = os.path.join(a.bin, "compiler", "sqnc")
        self.sqnrun = os.path.join(a.bin, "runtime", "sqnrun")
        self.th = ["--threads", str(a.threads)]
        os.makedirs(self.out, exist_ok=True)

    def p(self, *names):
        return os.path.join(self.out, *names)

    def info(self):
        text = subprocess.run([self.sqnrun, self.p("space.plan"), "--info", "--json"], check=True,
                              capture_output=True, text=True).stdout
        return json.loads(text)

    def lut(self):
        with open(self.p("lut.json")) as f:
            return json.load(f)

    # ---- prepare ----
    def prepare(self):
        if not os.path.exists(self.p("space.plan")):
            run([self.sqnc, SPACE, "-o", self.p("space.plan")])
        if not os.path.exists(self.p("lut.json")):
            run([self.sqnrun, self.p("space.plan"), "--profile", "--iters", "10", *self.th, "-o", self.p("lut.json")])
        alpha_mac, alpha_lat = self.alphas()
        for name, extra in (("mac", ["--objective", "macs", "--alpha", str(alpha_mac)]),
                            ("lat", ["--objective", "latency", "--alpha", "%.6g" % alpha_lat])):
            if not os.path.exists(self.p(name, "derived.sqn")):
                run([self.sqnrun, self.p("space.plan"), "--search", "--data", "synthetic", "--lut", self.p("lut.json"),
                     *extra, *self.th, "--overwrite", "--out", self.p(name)], log=self.p(name + ".log"))
        self.pick_random()
        for net in self.nets():
            plan = self.p("nets", net + ".plan")
            if not os.path.exists(plan):
                run([self.sqnc, self.p("nets", net + ".sqn"), "-o", plan])

    def alphas(self):
        """alpha_mac from the preset; alpha_lat so that alpha * E_uniform[cost] is the same for both."""
        info, lut = self.info(), self.lut()
        sbs = info["superblocks"]
        e_macs = (info["macs_fixed"] + sum(statistics.mean(c["macs"] for c in sb["candidates"]) for sb in sbs)) * 1e-9
        e_ms = lut["fixed_ms"] + sum(statistics.mean(c["ms"] for c in sb["candidates"]) for sb in lut["superblocks"])
        alpha_mac = info["search"]["alpha"]
        return alpha_mac, alpha_mac * e_macs / e_ms

    def arch_of(self, sqn):
        with open(sqn) as f:
            text = "\n".join(line.split("//", 1)[0] for line in f)
        body = text.split("[", 1)[1].split("]", 1)[0]
        return [n.strip() for n in body.split(",") if n.strip()]

    def predict_ms(self, arch):
        lut = self.lut()
        ms = {(i, c["name"]): c["ms"] for i, sb in enumerate(lut["superblocks"]) for c in sb["candidates"]}
        return lut["fixed_ms"] + sum(ms[(i, n)] for i, n in enumerate(arch))

    def write_net(self, name, arch):
        os.makedirs(self.p("nets"), exist_ok=True)
        path = self.p("nets", name + ".sqn")
        if os.path.exists(path):
            return
        with open(path, "w") as f:
            f.write('import "%s"\nnetwork %s = small_quick [\n%s\n]\n' % (os.path.abspath(SPACE), name, ",\n".join(arch)))

    def pick_random(self):
        for name in ("mac", "lat"):
            self.write_net(name + "_derived", self.arch_of(self.p(name, "derived.sqn")))
        target = self.predict_ms(self.arch_of(self.p("lat", "derived.sqn")))
        lut = self.lut()
        names = [[c["name"] for c in sb["candidates"]] for sb in lut["superblocks"]]
        rng = random.Random(2026)
        picked = []
        while len(picked) < self.a.random:
            arch = [rng.choice(n) for n in names]
            if abs(self.predict_ms(arch) - target) <= 0.05 * target and arch not in picked:
                picked.append(arch)
        for k, arch in enumerate(picked):
            self.write_net("random%02d" % k, arch)

    def nets(self):
        return ["lat_derived", "mac_derived"] + ["random%02d" % k for k in range(self.a.random)]

    # ---- train ----
    def runs(self):
        for net in self.nets():
            for seed in (SEEDS if net.endswith("derived") else SEEDS[:1]):
                yield net, seed

    def train(self):
        for net, seed in self.runs():
            d = self.p("train", "%s_s%d" % (net, seed))
            if os.path.exists(os.path.join(d, "last.safetensors")) and self.final(d) is not None:
                continue
            run([self.sqnrun, self.p("nets", net + ".plan"), "--train", "--data", "synthetic", "--epochs",
                 str(self.a.epochs), "--synthetic-val", "100", "--seed", str(seed), *self.th, "--overwrite", "--out", d],
                log=d + ".log")

    def final(self, d):
        """val mIoU after the last epoch (not the best epoch: no selection on the val set)."""
        last = None
        try:
            with open(os.path.join(d, "log.jsonl")) as f:
                for line in f:
                    r = json.loads(line)
                    if r.get("type") == "epoch":
                        last = r
        except FileNotFoundError:
            return None
        return last["val_miou"] if last and last["epoch"] == self.a.epochs else None

    # ---- measure ----
    def measure(self):
        res = {}
        for net in self.nets():
            text = subprocess.run([self.sqnrun, self.p("nets", net + ".plan"), "--bench", "--iters", "50", *self.th,
                                   "--json"], check=True, capture_output=True, text=True).stdout
            res[net] = json.loads(text)
            print(net, res[net]["median_ms"], flush=True)
        with open(self.p("latency.json"), "w") as f:
            json.dump(res, f, indent=1)

    # ---- report ----
    def report(self):
        info = self.info()
        macs = {}
        for i, sb in enumerate(info["superblocks"]):
            for c in sb["candidates"]:
                macs[(i, c["name"])] = c["macs"]
        with open(self.p("latency.json")) as f:
            lat = json.load(f)

        def row(net):
            arch = self.arch_of(self.p("nets", net + ".sqn"))
            g = (info["macs_fixed"] + sum(macs[(i, n)] for i, n in enumerate(arch))) * 1e-9
            seeds = SEEDS if net.endswith("derived") else SEEDS[:1]
            miou = [self.final(self.p("train", "%s_s%d" % (net, s))) for s in seeds]
            return g, self.predict_ms(arch), lat[net]["median_ms"], miou

        print("| network | GMACs | LUT ms | measured ms | val mIoU (seed 1 / 2 / 3) |\n|---|---|---|---|---|")
        rand = []
        for net in self.nets():
            g, pms, mms, miou = row(net)
            if net.startswith("random"):
                rand.append((miou[0], mms))
            print("| %s | %.4f | %.3f | %.3f | %s |" % (net, g, pms, mms, " / ".join("%.4f" % m for m in miou)))
        rm = [m for m, _ in rand]
        print("\nrandom: median mIoU %.4f (min %.4f, max %.4f), measured latency median %.3f ms (%.3f..%.3f)" %
              (statistics.median(rm), min(rm), max(rm), statistics.median(t for _, t in rand),
               min(t for _, t in rand), max(t for _, t in rand)))
        print("\n| search | expected cost, uniform -> last epoch | sampled archs: mean GMACs | mean LUT ms | derived GMACs / LUT ms |")
        print("|---|---|---|---|---|")
        for name in ("mac", "lat"):
            with open(self.p(name, "log.jsonl")) as f:
                ep = [json.loads(line) for line in f if '"type": "epoch"' in line]
            with open(self.p(name, "pareto.csv")) as f:
                rows = list(csv.DictReader(f))
            g = [float(r["gmacs"]) for r in rows]
            ms = [float(r["latency_ms"]) for r in rows]
            ch = [r for r in rows if r["chosen"] == "1"][0]
            print("| %s | %.4g -> %.4g %s | %.4f | %.3f | %.4f / %.3f |" % (
                name, ep[0]["expected_cost"], ep[-1]["expected_cost"], ep[-1]["cost_unit"], statistics.mean(g),
                statistics.mean(ms), float(ch["gmacs"]), float(ch["latency_ms"])))
        d = row("lat_derived")[3]
        print("lat_derived: seed 1 mIoU %.4f; beats %d of %d random; mean of 3 seeds %.4f (spread %.4f)" %
              (d[0], sum(d[0] > m for m in rm), len(rm), statistics.mean(d), max(d) - min(d)))


class Preset:
    """The shipped presets: derived networks against random ones of the same MACs, with widths, with a budget."""

    SPACES = {"plain": "small_quick.sqn", "widths": "small_quick_widths.sqn", "budget": None}

    def __init__(self, e):
        self.e, self.a = e, e.a
        self.out = e.p("preset")
        os.makedirs(os.path.join(self.out, "nets"), exist_ok=True)

    def p(self, *names):
        return os.path.join(self.out, *names)

    def searches(self):
        spaces = os.path.dirname(SPACE)
        with open(SPACE) as f:  # the budget: `objective macs target 25%` in place of the preset's alpha
            text = f.read().replace("    objective macs\n", "    objective macs target 25%\n")
        with open(self.p("small_quick_budget.sqn"), "w") as f:
            f.write(text.replace("space small_quick {", "space small_quick_budget {"))
        for name, src in self.SPACES.items():
            plan = self.p(name + ".plan")
            src = self.p("small_quick_budget.sqn") if name == "budget" else os.path.join(spaces, src)
            if not os.path.exists(plan):
                run([self.e.sqnc, src, "-I", spaces, "-o", plan])
            if not os.path.exists(self.p(name, "derived.sqn")):
                run([self.e.sqnrun, plan, "--search", "--data", "synthetic", *self.e.th, *self.steps(), "--overwrite",
                     "--out", self.p(name)], log=self.p(name + ".log"))
            net = self.p("nets", name + "_derived.plan")
            if not os.path.exists(net):
                run([self.e.sqnc, self.p(name, "derived.sqn"), "-I", spaces, "-o", net])

    def steps(self):
        return ["--max-steps", str(self.a.max_steps)] if self.a.max_steps else []

    def pick_random(self):
        """Uniform architectures of the plain space whose MACs are within 5% of its derived network's."""
        info = json.loads(subprocess.run([self.e.sqnrun, self.p("plain.plan"), "--info", "--json"], check=True,
                                         capture_output=True, text=True).stdout)
        target = self.macs("plain_derived")
        sbs = [[(c["name"], c["macs"]) for c in sb["candidates"]] for sb in info["superblocks"]]
        rng, picked = random.Random(2026), []
        while len(picked) < self.a.random:
            arch = [rng.choice(c) for c in sbs]
            if abs(info["macs_fixed"] + sum(m for _, m in arch) - target) <= 0.05 * target and arch not in picked:
                picked.append(arch)
        for k, arch in enumerate(picked):
            name = "random%02d" % k
            if not os.path.exists(self.p("nets", name + ".plan")):
                with open(self.p("nets", name + ".sqn"), "w") as f:
                    f.write('import "%s"\nnetwork %s = small_quick [\n%s\n]\n' % (os.path.abspath(SPACE), name,
                                                                                 ",\n".join(n for n, _ in arch)))
                run([self.e.sqnc, self.p("nets", name + ".sqn"), "-o", self.p("nets", name + ".plan")])

    def macs(self, net):
        text = subprocess.run([self.e.sqnrun, self.p("nets", net + ".plan"), "--info", "--json"], check=True,
                              capture_output=True, text=True).stdout
        return json.loads(text)["macs_min"]  # a network: min = max

    def nets(self):
        return ["%s_derived" % n for n in self.SPACES] + ["random%02d" % k for k in range(self.a.random)]

    def train(self):
        for net in self.nets():
            for seed in (SEEDS if net.endswith("derived") else SEEDS[:1]):
                d = self.p("train", "%s_s%d" % (net, seed))
                if self.e.final(d) is not None:
                    continue
                run([self.e.sqnrun, self.p("nets", net + ".plan"), "--train", "--data", "synthetic", "--epochs",
                     str(self.a.epochs), "--synthetic-val", "100", "--seed", str(seed), *self.e.th, *self.steps(),
                     "--overwrite", "--out", d], log=d + ".log")

    def report(self):
        print("| network | GMACs | val mIoU (seed 1 / 2 / 3) | mean |\n|---|---|---|---|")
        rand = []
        for net in self.nets():
            seeds = SEEDS if net.endswith("derived") else SEEDS[:1]
            miou = [self.e.final(self.p("train", "%s_s%d" % (net, s))) for s in seeds]
            if net.startswith("random"):
                rand.append(miou[0])
            print("| %s | %.4f | %s | %.4f |" % (net, self.macs(net) * 1e-9, " / ".join("%.4f" % m for m in miou),
                                                 statistics.mean(miou)))
        print("\nrandom (%d): median mIoU %.4f (min %.4f, max %.4f)" % (len(rand), statistics.median(rand), min(rand),
                                                                         max(rand)))
        for name in self.SPACES:
            with open(self.p(name, "log.jsonl")) as f:
                ep = [json.loads(line) for line in f if '"type": "epoch"' in line]
            with open(self.p(name, "derived.sqn")) as f:
                widths = [line.strip() for line in f if line.strip().startswith("widths")]
            print("%s search: expected cost %.4g -> %.4g %s (%.0f%% of the range), skips %.0f%%, derived %s%s" % (
                name, ep[0]["expected_cost"], ep[-1]["expected_cost"], ep[-1]["cost_unit"],
                100 * ep[-1].get("relative_cost", float("nan")), 100 * ep[-1].get("skip_fraction", float("nan")),
                self.p(name, "derived.sqn"), " (" + widths[0] + ")" if widths else ""))

    def all(self):
        self.searches()
        self.pick_random()
        self.train()
        self.report()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True, help="build folder with compiler/sqnc and runtime/sqnrun")
    ap.add_argument("--out", required=True)
    ap.add_argument("--phase", default="all", choices=["all", "prepare", "train", "measure", "report", "preset"])
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--random", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-steps", type=int, default=0, help="preset: steps per search/training epoch (a quick check)")
    a = ap.parse_args()
    e = Exp(a)
    if a.phase == "preset":
        return Preset(e).all()
    for phase in ("prepare", "train", "measure", "report"):
        if a.phase in ("all", phase):
            getattr(e, phase)()


if __name__ == "__main__":
    sys.exit(main())
