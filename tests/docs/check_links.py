#!/usr/bin/env python3
"""Checks that every relative link in the given Markdown files points to a
file that exists (and, for #anchors into Markdown files, to a heading that
exists), so lessons cannot link to a moved or renamed page. TAP, one test per
file. Python 3 standard library only."""
import os
import re
import sys

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^(```|~~~)")


def prose(text):
    """The text outside fenced code blocks."""
    out, inside = [], False
    for line in text.split("\n"):
        if FENCE.match(line):
            inside = not inside
        elif not inside:
            out.append(line)
    return "\n".join(out)


def anchors(path):
    """GitHub-style anchors of a Markdown file's headings."""
    with open(path, encoding="utf-8") as f:
        heads = re.findall(r"^#+\s+(.*)$", prose(f.read()), re.MULTILINE)
    slug = lambda h: re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-")
    return {slug(h) for h in heads}


def broken_links(path):
    with open(path, encoding="utf-8") as f:
        text = prose(f.read())
    bad = []
    for target in LINK.findall(text):
        if re.match(r"^[a-z]+:", target):  # http:, mailto: ...: not checked here
            continue
        file, _, anchor = target.partition("#")
        dest = os.path.normpath(os.path.join(os.path.dirname(path), file)) if file else path
        if not os.path.exists(dest):
            bad.append(target + " (no such file)")
        elif anchor and dest.endswith(".md") and anchor not in anchors(dest):
            bad.append(target + " (no such heading)")
    return bad


def main(args):
    paths = []
    for a in args:
        if os.path.isdir(a):
            for d, _, names in sorted(os.walk(a)):
                paths += [os.path.join(d, n) for n in sorted(names) if n.endswith(".md")]
        elif os.path.exists(a):
            paths.append(a)
    print("1..%d" % len(paths))
    for i, p in enumerate(paths, 1):
        bad = broken_links(p)
        print("%s %d - links in %s" % ("not ok" if bad else "ok", i, p))
        for b in bad:
            print("#   broken: " + b)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
