#!/usr/bin/env python3
"""Specifies run_docs.py itself: a doc test that cannot fail would be worse
than none, so each marking rule is checked on a small Markdown fixture run
against a stand-in server (a script that prints the listening line). TAP."""
import os
import stat
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
RUNNER = os.path.join(HERE, "run_docs.py")
FAKE_SERVER = """#!%s
import sys, time
print("pushlab-server listening http=http://127.0.0.1:18080 ws=ws://127.0.0.1:18081", flush=True)
time.sleep(60)
""" % sys.executable

results = []


def run_doc(tmp, markdown):
    """Runs the runner on one fixture file; returns its TAP lines."""
    doc = os.path.join(tmp, "lesson.md")
    with open(doc, "w") as f:
        f.write(markdown)
    out = subprocess.run([sys.executable, RUNNER, "--server", os.path.join(tmp, "server"),
                          "--root", tmp, doc], capture_output=True, text=True, timeout=60)
    return [l for l in out.stdout.split("\n") if l.startswith(("ok", "not ok"))]


def test(name, markdown, want):
    """`want`: the expected start of each result line ("ok", "not ok", "skip")."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "server")
        with open(path, "w") as f:
            f.write(FAKE_SERVER)
        os.chmod(path, stat.S_IRWXU)
        got = run_doc(tmp, markdown)
    kinds = ["skip" if "# SKIP" in l else l.rsplit(" - ", 1)[0].rsplit(" ", 1)[0] for l in got]
    results.append((name, kinds == want, "want %s, got %s" % (want, got)))


FENCE = "```"


def block(info, code, expect=None):
    text = "%s%s\n%s\n%s\n" % (FENCE, info, code, FENCE)
    if expect is not None:
        text += "\n%s%s\n%s\n%s\n" % (FENCE, expect[0], expect[1], FENCE)
    return text


test("matching output passes", block("sh runnable", "echo hi", ("output", "hi")), ["ok"])
test("different output fails", block("sh runnable", "echo hi", ("output", "bye")), ["not ok"])
test("ellipsis stands for varying text",
     block("sh runnable", "echo '{\"ts\": '$RANDOM'}'", ("output", '{"ts": ...}')), ["ok"])
test("ellipsis does not excuse a wrong line",
     block("sh runnable", "echo 'a x b'", ("output", "a ... c")), ["not ok"])
test("regex must match", block("sh runnable", "echo id: 7", ("regex", r"^id: \d+$")), ["ok"])
test("a regex that does not match fails",
     block("sh runnable", "echo id: x", ("regex", r"^id: \d+$")), ["not ok"])
test("a failing command fails", block("sh runnable", "false"), ["not ok"])
test("an expected exit status passes", block("sh runnable exit=28", "exit 28"), ["ok"])
test("a failure inside a pipeline fails", block("sh runnable", "false | cat"), ["not ok"])
test("a block past its timeout fails", block("sh runnable timeout=1", "sleep 5"), ["not ok"])
test("a missing tool skips", block("sh runnable requires=no-such-tool-here", "true"), ["skip"])
test("a misspelt marking fails", block("sh runnable timout=3", "true"), ["not ok"])
test("server address is in $HTTP and $WS",
     block("sh runnable", 'echo "$HTTP $WS $HTTP_PORT"',
           ("output", "http://127.0.0.1:18080 ws://127.0.0.1:18081 18080")), ["ok"])
test("blocks of one file share state, in order",
     block("sh runnable", "echo 1 > state") + block("sh runnable", "cat state; rm state",
                                                   ("output", "1")), ["ok", "ok"])
test("plain sh blocks are not run", block("sh", "false"), [])
test("output after prose belongs to no block",
     block("sh runnable", "echo hi") + "Some prose.\n\n" + FENCE + "output\nbye\n" + FENCE + "\n",
     ["ok"])

print("1..%d" % len(results))
for i, (name, ok, diag) in enumerate(results, 1):
    print("%s %d - %s" % ("ok" if ok else "not ok", i, name))
    if not ok:
        print("#   " + diag)
