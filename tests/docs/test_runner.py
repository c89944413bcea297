#!/usr/bin/env python3
"""Specifies run_docs.py itself: a doc test that cannot fail would be worse
than none, so each marking rule is checked on a small Markdown fixture run
against a stand-in server: a small HTTP server that prints the listening
line for the address and ports it is given, writes its flags to a file,
answers every GET with an empty page and counts what it was asked. TAP."""
import os
import stat
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
RUNNER = os.path.join(HERE, "run_docs.py")
FAKE_SERVER = """#!%s
import http.server, json, os, sys, threading
args = sys.argv[1:]
flag = lambda k, d: args[args.index(k) + 1] if k in args else d
bind, port = flag("--bind", "127.0.0.1"), int(flag("--http-port", "0"))
here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "server-args"), "a") as f:
    f.write(" ".join(args) + "\\n")
hits = {}
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        key = self.path.split("?")[0]
        hits[key] = hits.get(key, 0) + 1
        body = json.dumps(hits if key == "/hits" else
                          {"messages": [], "last_id": 0, "ws_url": "ws://x:1"}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    do_POST = do_GET
    def log_message(self, *a):
        pass
srv = http.server.ThreadingHTTPServer((bind, port), H)
p = srv.server_address[1]
print("pushlab-server listening http=http://%%s:%%d ws=ws://%%s:%%d" %% (bind, p, bind, p + 1), flush=True)
threading.Timer(60, srv.shutdown).start()
srv.serve_forever()
""" % sys.executable

results = []


def run_doc(tmp, markdown, workshop, binds):
    """Runs the runner on one fixture file; returns its TAP lines."""
    doc = os.path.join(tmp, "lesson.md")
    with open(doc, "w") as f:
        f.write(markdown)
    cmd = [sys.executable, RUNNER, "--server", os.path.join(tmp, "server"), "--root", tmp]
    cmd += (["--workshop", doc] + sum((["--bind", b] for b in binds), [])) if workshop else [doc]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    return [l for l in out.stdout.split("\n") if l.startswith(("ok", "not ok"))]


def test(name, markdown, want, workshop=False, binds=(), check=None):
    """`want`: the expected start of each result line ("ok", "not ok",
    "skip"); `check(tmp)`, if given, must return None or a failure."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "server")
        with open(path, "w") as f:
            f.write(FAKE_SERVER)
        os.chmod(path, stat.S_IRWXU)
        got = run_doc(tmp, markdown, workshop, binds)
        extra = check(tmp) if check else None
    kinds = ["skip" if "# SKIP" in l else l.rsplit(" - ", 1)[0].rsplit(" ", 1)[0] for l in got]
    ok = kinds == want and extra is None
    results.append((name, ok, "want %s, got %s %s" % (want, got, extra or "")))


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
test("a reference doc's server address is in $HTTP, $WS, $HTTP_PORT and $WS_PORT",
     block("sh runnable", 'echo "$HTTP $WS" | grep -q ":$HTTP_PORT ws://127.0.0.1:$WS_PORT$" && echo "$HTTP"',
           ("regex", r"^http://127\.0\.0\.1:\d+$")), ["ok"])
test("blocks of one file share state, in order",
     block("sh runnable", "echo 1 > state") + block("sh runnable", "cat state; rm state",
                                                   ("output", "1")), ["ok", "ok"])
test("plain sh blocks are not run", block("sh", "false"), [])
test("output after prose belongs to no block",
     block("sh runnable", "echo hi") + "Some prose.\n\n" + FENCE + "output\nbye\n" + FENCE + "\n",
     ["ok"])
test("a block indented in a list item runs, and its indented output is checked",
     "1. Step:\n\n   ```sh runnable\n   echo hi\n   ```\n\n   ```output\n   bye\n   ```\n", ["not ok"])
test("a figures marker between a block and its output keeps them together",
     block("sh runnable", "echo hi") + "\n<!-- figures:x -->\n" + FENCE + "output\nbye\n" + FENCE + "\n",
     ["not ok"])
test("an unset variable fails the block", block("sh runnable", 'echo "$NOT_SET_ANYWHERE"'), ["not ok"])
test("a reference doc may wait for all its jobs", block("sh runnable timeout=2", "true & wait"), ["ok"])

# The workshop sequence: one server started and restarted by server blocks.
SERVER = block("sh server", "./scripts/demo.sh")
SETUP = block("sh runnable", "export HTTP=http://${PUSHLAB_HOST:-127.0.0.1}:$PUSHLAB_HTTP_PORT")


def server_args(tmp):
    with open(os.path.join(tmp, "server-args")) as f:
        return f.read().split("\n")


def restarted_with(flag):
    def check(tmp):
        lines = server_args(tmp)
        return None if len(lines) >= 2 and flag in lines[1] and flag not in lines[0] else lines
    return check


test("a workshop block before any server block fails", block("sh runnable", "true"), ["not ok"],
     workshop=True)
test("the runner sets no variable the setup does not export",
     SERVER + block("sh runnable", 'echo "$HTTP"'), ["ok", "not ok"], workshop=True)
test("exports carry over to the next block, as in one terminal",
     SERVER + SETUP + block("sh runnable", "curl -sf $HTTP/healthz >/dev/null && echo up", ("output", "up")),
     ["ok", "ok", "ok"], workshop=True)
test("a server block restarts the server with the flags it shows",
     SERVER + block("sh server", "pushlab-server --heartbeat 1   # a comment"), ["ok", "ok"],
     workshop=True, check=restarted_with("--heartbeat 1"))
test("a server block with a flag the runner owns fails",
     block("sh server", "pushlab-server --http-port 8080"), ["not ok"], workshop=True)
test("a block that kills job %1 fails (the server, in a trainer's shell)",
     SERVER + block("sh runnable", "sleep 30 & kill %1; true"), ["ok", "not ok"], workshop=True)
test("a bare wait fails (it also waits for the server)",
     SERVER + block("sh runnable timeout=2", "true & wait"), ["ok", "not ok"], workshop=True)
test("waiting for the block's own PID passes",
     SERVER + block("sh runnable", "true & pid=$!; wait $pid"), ["ok", "ok"], workshop=True)
test("hidden server flags are refused in workshop files",
     "<!-- docs-runner: server-args --history 3 -->\n" + SERVER + block("sh runnable", "true"),
     ["not ok", "not ok"], workshop=True)

test("the demo page stand-in polls while the lesson runs",
     SERVER + SETUP + block("sh runnable timeout=15",
                            "sleep 5; curl -s $HTTP/hits | grep -o '\"/api/rooms/lobby/messages\": [2-9]'",
                            ("output", '"/api/rooms/lobby/messages": ...')),
     ["ok", "ok", "ok"], workshop=True)
test("a second bind address runs the sequence again there, a hard-coded 127.0.0.1 fails",
     SERVER + SETUP + block("sh runnable", "curl -sf http://127.0.0.1:$PUSHLAB_HTTP_PORT/healthz"),
     ["ok", "ok", "ok", "ok", "ok", "not ok"], workshop=True, binds=("127.0.0.1", "127.0.0.2"))
test("on the second address the shell has a dead http_proxy",
     SERVER + block("sh runnable", 'echo "$http_proxy"', ("regex", "^http://127.0.0.1:9$")),
     ["ok", "ok"], workshop=True, binds=("127.0.0.2",))

print("1..%d" % len(results))
for i, (name, ok, diag) in enumerate(results, 1):
    print("%s %d - %s" % ("ok" if ok else "not ok", i, name))
    if not ok:
        print("#   " + diag)
