#!/usr/bin/env python3
"""Sums meson test logs into one line "N passed, N failed".

A TAP test counts each of its "ok"/"not ok" lines ("ok ... # SKIP" as
skipped); a test that failed without a "not ok" (a crash, a timeout, a
bail-out) counts one failure more.
Any other test counts once. Exits 1 when anything failed."""
import json
import re
import sys

passed = failed = skipped = 0
for path in sys.argv[1:]:
    if path.startswith("build-failed:"):
        print(f"summarize: the {path.split(':', 1)[1]} pass did not build", file=sys.stderr)
        failed += 1
        continue
    try:
        lines = open(path, encoding="utf-8").read().splitlines()
    except OSError:
        print(f"summarize: no log {path}", file=sys.stderr)
        failed += 1
        continue
    for line in lines:
        try:
            t = json.loads(line)
        except ValueError:
            print(f"summarize: {path}: an unreadable line counts as a failure", file=sys.stderr)
            failed += 1
            continue
        out = t.get("stdout") or ""
        ok = len(re.findall(r"^ok \d+", out, re.M))
        skip = len(re.findall(r"^ok \d+[^\n]*# SKIP", out, re.M | re.I))
        ok -= skip
        skipped += skip
        bad = len(re.findall(r"^not ok \d+", out, re.M))
        result = t.get("result")
        if result == "SKIP":
            skipped += 1
            continue
        if t.get("protocol") == "tap" or ok + bad:
            passed += ok
            failed += bad
            if result not in ("OK", "EXPECTEDFAIL") and bad == 0:
                failed += 1
        elif result in ("OK", "EXPECTEDFAIL"):
            passed += 1
        else:
            failed += 1
line = f"{passed} passed, {failed} failed"
if skipped:
    line += f", {skipped} skipped"
print(line)
sys.exit(1 if failed else 0)
