#!/usr/bin/env python3
"""Prints the figures the reliability tests measured ("# figure: ..." TAP
comments) from a meson test log, one line per figure, test name first: the
file docs/reliability.md quotes from (docs/figures/reliability.txt).
  test_figures.py [build/meson-logs/testlog.json]"""
import json
import sys

path = sys.argv[1] if len(sys.argv) > 1 else "build/meson-logs/testlog.json"
with open(path, encoding="utf-8") as f:
    for line in f:
        t = json.loads(line)
        for out in (t.get("stdout") or "").splitlines():
            if out.startswith("# figure: "):
                print("%s: %s" % (t["name"], out[len("# figure: "):]))
