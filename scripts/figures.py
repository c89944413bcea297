#!/usr/bin/env python3
"""The one way a measured figure gets into the docs: committed measurements in
docs/figures/ (pushlab-bench --json output with the table it printed, and
scripts/wire-bytes.sh --json) are turned into every table and sentence that
quotes them, between markers in the Markdown

    <!-- figures:NAME -->
    ... written by this script, never by hand ...
    <!-- /figures -->

and into web/slides/figures.js, which the slides read.

  scripts/figures.py            rewrite the docs and the slides' data from docs/figures/
  scripts/figures.py --check    exit 1, with a diff, if anything differs (a test runs this)
  scripts/figures.py --refresh  measure everything again (each bench run under
                                flock /tmp/pushlab-heavy.lock), then rewrite
  --only NAME,...               with --refresh: measure only these bench runs (docs/figures/NAME.*),
                                keeping every other measurement as committed
  --build DIR                   where pushlab-bench and pushlab-server are (default: build)
"""
import argparse
import difflib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import figures_render  # noqa: E402  (the renderers, one per marker name)

FIG_DIR = os.path.join(ROOT, "docs", "figures")
SLIDES_DATA = os.path.join(ROOT, "web", "slides", "figures.js")
DOCS = ["README.md", "docs"]
MARKER = re.compile(r"(<!-- figures:([a-z0-9-]+) -->\n)(.*?)(<!-- /figures -->)", re.S)
HEAVY_LOCK = "/tmp/pushlab-heavy.lock"


def markdown_files():
    out = []
    for d in DOCS:
        p = os.path.join(ROOT, d)
        if os.path.isfile(p):
            out.append(p)
            continue
        for base, _, names in sorted(os.walk(p)):
            out += [os.path.join(base, n) for n in sorted(names) if n.endswith(".md")]
    return out


def load_data():
    """Every measurement in docs/figures/: {name: {"json": ..., "txt": ...}}."""
    data = {}
    for n in sorted(os.listdir(FIG_DIR)):
        stem, ext = os.path.splitext(n)
        if ext not in (".json", ".txt"):
            continue
        with open(os.path.join(FIG_DIR, n), encoding="utf-8") as f:
            data.setdefault(stem, {})[ext[1:]] = json.load(f) if ext == ".json" else f.read().rstrip("\n")
    return data


def render_text(text, fig, path):
    """The file's text with every marker's content rendered; raises
    ValueError on an unknown marker name."""

    def one(m):
        name = m.group(2)
        fn = figures_render.RENDERERS.get(name)
        if fn is None:
            raise ValueError("%s: unknown figures marker '%s'" % (os.path.relpath(path, ROOT), name))
        return m.group(1) + fn(fig).rstrip("\n") + "\n" + m.group(4)

    return MARKER.sub(one, text)


def outputs():
    """[(path, current text, text it should have)] for every generated file."""
    fig = figures_render.Figures(load_data())
    out = []
    for p in markdown_files():
        with open(p, encoding="utf-8") as f:
            text = f.read()
        if "<!-- figures:" in text:
            out.append((p, text, render_text(text, fig, p)))
    cur = open(SLIDES_DATA, encoding="utf-8").read() if os.path.exists(SLIDES_DATA) else ""
    out.append((SLIDES_DATA, cur, figures_render.slides_data(fig)))
    return out


def check():
    bad = 0
    for path, cur, want in outputs():
        if cur != want:
            bad += 1
            rel = os.path.relpath(path, ROOT)
            sys.stdout.writelines(difflib.unified_diff(
                cur.splitlines(True), want.splitlines(True), rel + " (as committed)",
                rel + " (from docs/figures)"))
    if bad:
        print("figures: %d file(s) differ from docs/figures/: run scripts/figures.py" % bad)
    return 1 if bad else 0


def write():
    for path, cur, want in outputs():
        if cur != want:
            with open(path, "w", encoding="utf-8") as f:
                f.write(want)
            print("figures: wrote %s" % os.path.relpath(path, ROOT))
    return 0


def heavy(cmd, **kw):
    """Runs one measurement under the machine's heavy lock."""
    print("figures: %s" % " ".join(cmd), file=sys.stderr)
    return subprocess.run(["flock", HEAVY_LOCK] + cmd, check=True, **kw)


def refresh(build, only=None):
    """Every measurement into a scratch folder first: docs/figures/ changes
    only when all of them succeeded, all at once. `only`: the names of the
    bench runs to measure; nothing else is measured then."""
    bench = os.path.join(build, "bench", "pushlab-bench")
    server = os.path.join(build, "server", "pushlab-server")
    runs = [r for r in figures_render.BENCH_RUNS if only is None or r[0] in only]
    unknown = set(only or ()) - {r[0] for r in runs}
    if unknown:
        raise ValueError("no bench run named %s" % ", ".join(sorted(unknown)))
    with tempfile.TemporaryDirectory() as tmp:
        for name, args in runs:
            with open(os.path.join(tmp, name + ".txt"), "w") as txt:
                heavy([bench] + args + ["--quiet", "--json", os.path.join(tmp, name + ".json")], stdout=txt)
        if only is None:
            measure_others(build, server, tmp)
        os.makedirs(FIG_DIR, exist_ok=True)
        for n in os.listdir(tmp):
            shutil.move(os.path.join(tmp, n), os.path.join(FIG_DIR, n))
    return write()


def measure_others(build, server, tmp):
    """The wire bytes, TLS and scale figures (not bench runs)."""
    with open(os.path.join(tmp, "wire.json"), "w") as out:
        wire(server, out)
    heavy([sys.executable, os.path.join(HERE, "tls_figures.py"), "--build", build,
           "--out", os.path.join(tmp, "tls.json")] + figures_render.figures_deploy.TLS_ARGS)
    heavy([sys.executable, os.path.join(HERE, "scale_figures.py"), "--build", build,
           "--out", os.path.join(tmp, "scale.json")] + figures_render.figures_scale.SCALE_ARGS)


def wire(server, out):
    """scripts/wire-bytes.sh --json against a fresh server with default flags."""
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.Popen([server, "--http-port", "0", "--ws-port", "0"],
                                stdout=subprocess.PIPE, text=True, cwd=tmp)
        try:
            line = proc.stdout.readline()
            m = re.match(r"pushlab-server listening http=(\S+) ws=(\S+)", line)
            if not m:
                raise RuntimeError("the server did not start: " + line)
            env = dict(os.environ, HTTP=m.group(1), WS=m.group(2))
            env.pop("http_proxy", None)
            res = subprocess.run([os.path.join(HERE, "wire-bytes.sh"), "--json"], env=env,
                                 stdout=subprocess.PIPE, text=True, check=True)
            json.dump(json.loads(res.stdout), out, indent=1)
            out.write("\n")
        finally:
            proc.terminate()
            proc.wait(10)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--refresh", action="store_true")
    ap.add_argument("--only", type=lambda v: set(v.split(",")))
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    a = ap.parse_args()
    try:
        if a.check:
            return check()
        if a.only and not a.refresh:
            raise ValueError("--only goes with --refresh")
        return refresh(os.path.abspath(a.build), a.only) if a.refresh else write()
    except ValueError as e:
        print("figures: %s" % e)
        return 1


if __name__ == "__main__":
    sys.exit(main())
