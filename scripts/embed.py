#!/usr/bin/env python3
"""Turns a text file into a C header holding it as one string, so a
program carries the very file the repository ships (the bench's nchan
server block, bench/targets/nchan.conf).
usage: embed.py INPUT OUTPUT NAME"""
import sys

src, out, name = sys.argv[1:4]
text = open(src, encoding="utf-8").read()
lines = []
for line in text.splitlines(keepends=True):
    esc = line.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    lines.append(f'    "{esc}"')
with open(out, "w", encoding="utf-8") as f:
    f.write(f"/* Generated from {src.rsplit('/', 1)[-1]} by scripts/embed.py: do not edit. */\n")
    f.write(f"static const char {name}[] =\n" + "\n".join(lines or ['    ""']) + ";\n")
