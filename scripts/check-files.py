#!/usr/bin/env python3
"""Checks the shape of every C file in common/, server/, client/, bench/:
a .c file has at most 500 lines, and every .c and .h file opens with a
comment of two lines or more saying what it is for (what it owns, what it
may touch). Prints one line per file that does not, exits 1 if any.

  scripts/check-files.py [SOURCE_DIR]
"""
import os
import sys

DIRS = ("common", "server", "client", "bench")
MAX_LINES = 500


def opening_comment_lines(text):
    """How many lines the comment the file starts with spans (0: none)."""
    if not text.startswith("/*"):
        return 0
    end = text.find("*/")
    return text[: end if end >= 0 else len(text)].count("\n") + 1


def problems(root):
    """Yields one line for each way a file is out of shape."""
    for d in DIRS:
        for name in sorted(os.listdir(os.path.join(root, d))):
            if not name.endswith((".c", ".h")):
                continue
            with open(os.path.join(root, d, name), encoding="utf-8") as f:
                text = f.read()
            lines = text.count("\n")
            if name.endswith(".c") and lines > MAX_LINES:
                yield f"{d}/{name}: {lines} lines, over {MAX_LINES}"
            if opening_comment_lines(text) < 2:
                yield f"{d}/{name}: does not open with two or more lines on its role"


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    found = list(problems(root))
    print("\n".join(found + [f"check-files: {len(found)} problem(s)"]))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
