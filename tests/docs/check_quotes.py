#!/usr/bin/env python3
"""Checks that every figure block a page quotes from committed output is in
that output: a fenced block right after a line `<!-- quote: PATH -->`
(PATH relative to the page) must appear, byte for byte, in the file PATH.
So a quoted figure cannot drift from the run it came from. TAP, one test
per quote. Python 3 standard library only."""
import os
import re
import sys

QUOTE = re.compile(r"^<!-- quote: (\S+) -->\n```[^\n]*\n(.*?)\n```", re.M | re.S)


def main(args):
    paths = []
    for a in args:
        if os.path.isdir(a):
            for d, _, names in sorted(os.walk(a)):
                paths += [os.path.join(d, n) for n in sorted(names) if n.endswith(".md")]
        elif os.path.exists(a):
            paths.append(a)
    checks = []
    for p in paths:
        with open(p, encoding="utf-8") as f:
            text = f.read()
        for m in QUOTE.finditer(text):
            checks.append((p, m.group(1), m.group(2)))
    print("1..%d" % len(checks))
    for i, (page, src, block) in enumerate(checks, 1):
        path = os.path.normpath(os.path.join(os.path.dirname(page), src))
        try:
            with open(path, encoding="utf-8") as f:
                ok = block in f.read()
            why = "" if ok else " (not found verbatim)"
        except OSError as e:
            ok, why = False, " (%s)" % e.strerror
        print("%s %d - %s quotes %s%s" % ("ok" if ok else "not ok", i, page, src, why))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
