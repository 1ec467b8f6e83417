"""e2e_util.py - what the command-line end-to-end scripts (tests/search_*_e2e.py) share: running a tool, checking a
fact (printed as `ok: ...`, or exit 1 with `FAILED: ...`) and reading log lines."""
import json
import subprocess
import sys


def run(*args):
    """The tool's stdout and stderr; exits with both when it fails."""
    p = subprocess.run(args, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"FAILED ({p.returncode}): {' '.join(args)}\n{p.stdout}\n{p.stderr}")
    return p.stdout + p.stderr


def lines(path, kind):
    """The records of a log.jsonl with this type."""
    with open(path) as f:
        return [j for j in map(json.loads, f) if j.get("type") == kind]


def check(cond, what):
    if not cond:
        sys.exit(f"FAILED: {what}")
    print(f"ok: {what}")
