#!/usr/bin/env python3
"""Reports files that use each other's symbols (docs/architecture.md).

Reads `nm` of the object files of each module directory in a build tree
(server/, client/, common/, bench/) and, within each directory, finds the
pairs of files A and B where A uses a symbol B defines and B one A defines.
Such a pair is a cycle: one of them calls back into its caller. The one
edge allowed back is a table of operations: a (const) data symbol named
*_ops or *_handler (a transport's table) does not count as a use.

  scripts/check-deps.py BUILD_DIR        exit 1 and one line per cycle
  scripts/check-deps.py BUILD_DIR --graph  also print who uses whom
"""
import collections
import os
import re
import subprocess
import sys

DIRS = ("common", "server", "client", "bench")
TABLE = re.compile(r"_(ops|handler)$")


def objects(build, d):
    """The object files compiled from <d>/*.c (meson: <d>/<target>.p/), by
    source name."""
    found = {}
    top = os.path.join(build, d)
    for sub in sorted(os.listdir(top)) if os.path.isdir(top) else []:
        if not sub.endswith(".p"):
            continue
        for f in sorted(os.listdir(os.path.join(top, sub))):
            if f.endswith(".c.o"):
                found.setdefault(f[: -len(".c.o")], os.path.join(top, sub, f))
    return found


def symbols(obj):
    """(defined, used) symbol sets of one object file; tables marked."""
    out = subprocess.run(["nm", obj], capture_output=True, text=True, check=True).stdout
    defined, tables, used = set(), set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "U":
            used.add(parts[1])
        elif len(parts) == 3 and parts[1] in "TDRBC":
            defined.add(parts[2])
            if parts[1] in "RD" and TABLE.search(parts[2]):
                tables.add(parts[2])
    return defined, tables, used


def check(build, graph):
    cycles = []
    for d in DIRS:
        objs = objects(build, d)
        if not objs:
            continue
        info = {src: symbols(o) for src, o in objs.items()}
        owner = {}
        for src, (defined, _, _) in info.items():
            for s in defined:
                owner.setdefault(s, src)
        uses = collections.defaultdict(set)  # A -> {B: symbols}
        via = collections.defaultdict(set)
        for a, (_, _, used) in info.items():
            for s in used:
                b = owner.get(s)
                if b and b != a and s not in info[b][1]:
                    uses[a].add(b)
                    via[(a, b)].add(s)
        if graph:
            for a in sorted(info):
                print(f"{d}/{a}.c -> " + ", ".join(f"{b}.c" for b in sorted(uses[a])))
        for a in sorted(info):
            for b in sorted(uses[a]):
                if a < b and a in uses[b]:
                    cycles.append(
                        f"{d}/{a}.c and {d}/{b}.c use each other: "
                        f"{', '.join(sorted(via[(a, b)]))} / {', '.join(sorted(via[(b, a)]))}"
                    )
    return cycles


def main():
    if len(sys.argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    cycles = check(sys.argv[1], "--graph" in sys.argv[2:])
    for c in cycles:
        print(c)
    print(f"check-deps: {len(cycles)} pair(s) of files using each other")
    return 1 if cycles else 0


if __name__ == "__main__":
    sys.exit(main())
