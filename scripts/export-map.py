#!/usr/bin/env python3
"""Writes a linker version script exporting exactly the functions a public
header declares (pl_* names followed by '('), so the shared client library
exports its API and nothing of the internals it is built from.
usage: export-map.py HEADER OUT"""
import re
import sys

header, out = sys.argv[1], sys.argv[2]
text = open(header, encoding="utf-8").read()
text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)  # names in comments are not API
names = sorted(set(re.findall(r"\b(pl_[a-z0-9_]+)\s*\(", text)))
with open(out, "w", encoding="utf-8") as f:
    f.write("{\n  global:\n")
    for n in names:
        f.write(f"    {n};\n")
    f.write("  local:\n    *;\n};\n")
