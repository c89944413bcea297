#!/usr/bin/env python3
"""Draws a soak CSV (tests/reliability/soak.py) as one SVG: the server's
RSS, open fds, CPU and the messages its store holds against the minute,
one panel each, each from 0 so a drift shows as a slope. Python standard library only.
  soak_plot.py soak.csv soak.svg"""
import csv
import sys
from xml.sax.saxutils import escape

PANELS = [("rss_mib", "RSS (MiB)", "#1f77b4"), ("fds", "open fds", "#2ca02c"),
          ("cpu_pct", "CPU (% of one core)", "#d62728"),
          ("messages_held", "messages held by the store", "#9467bd")]
W, H, LEFT, RIGHT, TOP, GAP = 760, 170, 70, 20, 30, 40


def nice_max(v):
    """A round axis top at or above v."""
    if v <= 0:
        return 1
    step = 10 ** len(str(int(v))) / 10
    for m in (1, 2, 2.5, 5, 10):
        if v <= m * step:
            return m * step
    return 10 * step


def panel(out, rows, key, title, colour, y0):
    xs = [float(r["minute"]) for r in rows]
    ys = [float(r[key]) for r in rows]
    xmax, ymax = max(xs) or 1, nice_max(max(ys))
    px = lambda x: LEFT + (W - LEFT - RIGHT) * x / xmax
    py = lambda y: y0 + H - H * y / ymax
    out.append('<text x="%d" y="%d" font-weight="bold">%s</text>' % (LEFT, y0 - 8, escape(title)))
    out.append('<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#999"/>'
               % (LEFT, y0, W - LEFT - RIGHT, H))
    for i in range(5):
        v = ymax * i / 4
        out.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#eee"/>'
                   % (LEFT, W - RIGHT, py(v), py(v)))
        out.append('<text x="%d" y="%.1f" text-anchor="end" font-size="11">%g</text>'
                   % (LEFT - 6, py(v) + 4, round(v, 2)))
    pts = " ".join("%.1f,%.1f" % (px(x), py(y)) for x, y in zip(xs, ys))
    out.append('<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>' % (pts, colour))
    for m in range(0, int(xmax) + 1, max(1, int(xmax) // 6)):
        out.append('<text x="%.1f" y="%d" text-anchor="middle" font-size="11">%d</text>'
                   % (px(m), y0 + H + 14, m))


def main():
    src, dst = sys.argv[1:3]
    with open(src) as f:
        rows = list(csv.DictReader(f))
    height = TOP + len(PANELS) * (H + GAP) + 20
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'font-family="sans-serif" font-size="13">' % (W, height),
           '<rect width="100%" height="100%" fill="white"/>']
    for i, (key, title, colour) in enumerate(PANELS):
        panel(out, rows, key, title, colour, TOP + i * (H + GAP))
    out.append('<text x="%d" y="%d" text-anchor="middle" font-size="12">minute</text>'
               % ((LEFT + W - RIGHT) // 2, height - 6))
    out.append("</svg>")
    with open(dst, "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
