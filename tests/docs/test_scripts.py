#!/usr/bin/env python3
"""Specifies the scripts the workshop tells people to run: scripts/demo.sh
says where the page is from the flags it was given, and
scripts/wire-bytes.sh fails loudly (one stderr line, exit 1) instead of
printing zeros when it cannot measure. TAP."""
import os
import subprocess
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
results = []


def run(cmd, env=None):
    e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    e.update(env or {})
    return subprocess.run(cmd, capture_output=True, text=True, env=e, timeout=30)


def test(name, ok, diag):
    results.append((name, ok, diag))


demo = os.path.join(ROOT, "scripts", "demo.sh")
for args, want in ((["--http-port", "9090"], "http://127.0.0.1:9090/"),
                   (["--http-port=9091", "--history", "3"], "http://127.0.0.1:9091/"),
                   (["--bind", "127.0.0.2"], "http://127.0.0.2:8080/"),
                   ([], "http://127.0.0.1:8080/")):
    r = run([demo, "--where"] + args)
    test("demo.sh %s names %s" % (" ".join(args), want), r.returncode == 0 and want in r.stdout,
         r.stdout + r.stderr)

wire = os.path.join(ROOT, "scripts", "wire-bytes.sh")
r = run([wire], {"HTTP": "http://127.0.0.1:9"})
test("wire-bytes.sh without $WS says so and exits 1",
     r.returncode == 1 and "$WS" in r.stderr and r.stdout == "", repr((r.returncode, r.stdout, r.stderr)))
r = run([wire], {"HTTP": "http://127.0.0.1:9", "WS": "ws://127.0.0.1:10"})
test("wire-bytes.sh against no server says so and exits 1, printing no figure",
     r.returncode == 1 and "no answer" in r.stderr and r.stdout == "", repr((r.returncode, r.stdout, r.stderr)))

print("1..%d" % len(results))
for i, (name, ok, diag) in enumerate(results, 1):
    print("%s %d - %s" % ("ok" if ok else "not ok", i, name))
    if not ok:
        print("#   " + diag.replace("\n", "\n#   "))
sys.exit(0)
