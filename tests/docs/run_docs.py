#!/usr/bin/env python3
"""Runs every command the docs mark runnable against a live pushlab-server and
checks its output, so the material cannot rot. The workshop is run the way a
trainer runs it. Prints TAP, one test per block. Python 3 standard library only.

Marking, in any Markdown file it is given:

    ```sh runnable [timeout=SECONDS] [exit=CODE|any] [requires=TOOL,TOOL]
    curl -s "$HTTP/healthz"
    ```
    ```output
    ok
    ```

- An optional block right after it (blank lines allowed in between) states the
  output: `output` compares the whole output, where `...` stands for any text
  (timestamps, ports); `regex` must match somewhere (Python re, MULTILINE).
- `exit=` is the expected exit status (default 0); `requires=` skips the block
  when a tool is missing from $PATH. Default timeout: 10 s.
- Every block runs in `bash -e -u -o pipefail`, like one terminal: the
  variables a block exports and the directory it ends in carry over to the
  next block. In workshop files a `sleep` started with `&` before each block
  stands for a server started with `&` in the same shell: a block that kills
  job %1, or waits for every job with a bare `wait`, fails (use the PID of
  what the block started).
- A ```sh server``` block holds one command, `./scripts/demo.sh FLAGS` or
  `pushlab-server FLAGS`: the runner (re)starts its server with those flags
  (Ctrl-C and the command, in the trainer's terms). The runner adds only
  the port and address flags.

Workshop files (`--workshop`, in order) are one sequence, run once per
`--bind` address, as a trainer would: one server, started by the first
server block and restarted only where a later one says so; no variable but
what the blocks themselves export, apart from the address of the server,
given as the setup says an attendee would for a server elsewhere
(PUSHLAB_HOST, PUSHLAB_HTTP_PORT, PUSHLAB_WS_PORT); and the demo page open
all along (page_client.py). On any address but 127.0.0.1, the shell also has
a dead `http_proxy`, as in an attendee's shell on a corporate laptop.

Other files are reference docs: each gets a fresh server on 127.0.0.1 with
$HTTP, $WS, $HTTP_PORT and $WS_PORT set, and may pass the server flags with
an HTML comment readers do not see: <!-- docs-runner: server-args --history 3 -->
(workshop files may not: their readers must see every flag).
"""
import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading

import mdblocks
import page_client

LISTENING = re.compile(r"^pushlab-server listening http=(\S+) ws=(\S+)")
SHOW = False  # --show: print every block's output (for writing output blocks)
DEAD_PROXY = "http://127.0.0.1:9"
KEEP_ENV = ("HOME", "USER", "LOGNAME", "TMPDIR", "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS")


class Server:
    """A pushlab-server; stdout is drained so it never blocks."""

    def __init__(self, exe, args):
        self.proc = subprocess.Popen(
            [exe] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL, text=True, start_new_session=True)
        self.stderr_tail = []
        self.http = self.ws = None
        found = threading.Event()
        threading.Thread(target=self._read_stdout, args=(found,), daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()
        found.wait(10)

    def _read_stdout(self, found):
        for line in self.proc.stdout:
            m = LISTENING.match(line)
            if m and not found.is_set():
                self.http, self.ws = m.group(1), m.group(2)
                found.set()
        found.set()

    def _read_stderr(self):
        for line in self.proc.stderr:
            self.stderr_tail = (self.stderr_tail + [line.rstrip()])[-20:]

    def port(self, which):
        return int(getattr(self, which).rsplit(":", 1)[1])

    def stop(self):
        """SIGTERM, as a user's Ctrl-C would; returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


class Shell:
    """One attendee's terminal: blocks run one after the other, each in a
    fresh bash that starts from where the last one ended (exports, cwd)."""

    def __init__(self, env, cwd, stand_in=True):
        self.env, self.cwd, self.stand_in = env, cwd, stand_in
        self.state = os.path.join(cwd, ".docs-runner-env")
        self.killed = os.path.join(cwd, ".docs-runner-killed")
        open(self.state, "w").close()

    def exported(self):
        """The variables the last block left exported, as a dict."""
        out = {}
        with open(self.state) as f:
            for m in re.finditer(r'^declare -x ([A-Za-z_][A-Za-z0-9_]*)="(.*)"$', f.read(), re.M):
                out[m.group(1)] = m.group(2).replace('\\"', '"').replace("\\\\", "\\")
        return out

    def script(self, code):
        q = lambda p: "'" + p + "'"
        return "\n".join([
            "source %s" % q(self.state),
            "if [ -f %s ]; then cd \"$(cat %s)\"; fi" % (q(self.state + ".cwd"), q(self.state + ".cwd")),
            "__pl_save() { export -p > %s.new && mv %s.new %s; pwd > %s.cwd;"
            " kill -0 $__pl_job1 2>/dev/null || : > %s; }" % (
                q(self.state), q(self.state), q(self.state), q(self.state), q(self.killed)),
            "trap __pl_save EXIT",
            "sleep 100000 </dev/null >/dev/null 2>&1 &" if self.stand_in else "true",
            "__pl_job1=$!" if self.stand_in else "__pl_job1=$$",
            code])

    def run(self, block):
        """Runs one block; returns (ok, diagnostic lines, skip reason)."""
        if block.problem:
            return False, [block.problem], None
        path = self.exported().get("PATH", self.env["PATH"])
        for tool in filter(None, block.attrs.get("requires", "").split(",")):
            if not shutil.which(tool, path=path):
                return True, [], "requires " + tool
        timeout = float(block.attrs.get("timeout", "10"))
        if os.path.exists(self.killed):
            os.unlink(self.killed)
        proc = subprocess.Popen(["bash", "-e", "-u", "-o", "pipefail", "-c", self.script(block.code)],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=self.env, cwd=self.cwd, text=True,
                                errors="replace", start_new_session=True)
        try:
            got, _ = proc.communicate(timeout=timeout)
            if SHOW:
                print("\n".join("#| " + l for l in got.rstrip("\n").split("\n")))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            got, _ = proc.communicate()
            diag = ["timed out after %gs" % timeout]
            if re.search(r"^\s*wait\s*(;|$)", block.code, re.M):
                diag.append("a bare `wait` also waits for a server started with & in this shell: wait $PID")
            return False, diag + ["got:"] + got.split("\n"), None
        finally:
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # the stand-in job and strays
            except ProcessLookupError:
                pass
        reason = None
        want_exit = block.attrs.get("exit", "0")
        if os.path.exists(self.killed):
            reason = "the block killed job %1: in a trainer's shell that is the server (kill $PID)"
        elif want_exit != "any" and proc.returncode != int(want_exit):
            reason = "exit status %d, expected %s" % (proc.returncode, want_exit)
        reason = reason or mdblocks.check_output(block, got)
        if reason is None:
            return True, [], None
        diag = [reason, "command:"] + block.code.split("\n")
        if block.expect_kind:
            diag += ["expected (%s):" % block.expect_kind] + block.expect.split("\n")
        return False, diag + ["got:"] + got.rstrip("\n").split("\n"), None


def base_env(tool_dirs):
    env = {k: os.environ[k] for k in KEEP_ENV if k in os.environ}
    env["PATH"] = os.pathsep.join(tool_dirs + [os.environ.get("PATH", "/usr/bin:/bin")])
    env["LC_ALL"], env["TERM"] = "C", "dumb"
    return env


class Tap:
    def __init__(self):
        self.n = 0

    def result(self, name, ok, diag, skip=None):
        self.n += 1
        suffix = " # SKIP " + skip if skip else ""
        print("%s %d - %s%s" % ("ok" if ok else "not ok", self.n, name, suffix))
        for d in diag:
            print("#   " + d)
        sys.stdout.flush()


class Workshop:
    """One pass of the workshop sequence on one address."""

    def __init__(self, args, tool_dirs, bind, tap):
        self.args, self.bind, self.tap = args, bind, tap
        self.server = None
        self.ports = (0, 0)
        self.prefix = "" if bind == "127.0.0.1" else "[%s] " % bind
        self.scratch = tempfile.TemporaryDirectory(prefix="pushlab-docs-")
        env = base_env(tool_dirs)
        if bind != "127.0.0.1":
            env["PUSHLAB_HOST"] = bind
            env["http_proxy"] = DEAD_PROXY
        self.env = env
        self.shell = Shell(env, self.scratch.name)
        self.target = None
        self.page = page_client.Page(lambda: self.target)

    def start_server(self, block):
        self.target = None
        if self.server:
            self.server.stop()
        flags = list(block.server_args)
        if block.server_cmd.endswith("demo.sh"):
            flags += ["--web-root", os.path.join(self.args.root, "web")]
        flags += ["--bind", self.bind, "--http-port", str(self.ports[0]), "--ws-port", str(self.ports[1])]
        self.server = Server(self.args.server, flags)
        if not self.server.http:
            return False, ["server did not print its listening line", "flags: " + " ".join(flags)] + \
                self.server.stderr_tail
        self.ports = (self.server.port("http"), self.server.port("ws"))
        self.env["PUSHLAB_HTTP_PORT"], self.env["PUSHLAB_WS_PORT"] = map(str, self.ports)
        self.follow()
        return True, []

    def follow(self):
        """Points the page at the room the attendee's shell now has."""
        if self.server and self.server.proc.poll() is None:
            room = self.shell.exported().get("ROOM", "lobby")
            self.target = {"host": self.bind, "http_port": self.ports[0],
                           "ws_port": self.ports[1], "room": room}

    def run(self, files):
        self.page.start()
        try:
            for path, display in files:
                blocks, hidden = mdblocks.parse_doc(path, display)
                for b in blocks:
                    if hidden is not None:
                        b.problem = b.problem or "a workshop file passes hidden server flags (docs-runner comment)"
                    self.one(b)
        finally:
            self.page.stop()
            if self.server:
                self.server.stop()
            self.scratch.cleanup()

    def one(self, b):
        name = self.prefix + b.name
        if b.kind == "server":
            ok, diag = (False, [b.problem]) if b.problem else self.start_server(b)
            return self.tap.result(name + " (server " + " ".join(b.server_args) + ")", ok, diag)
        if not self.server:
            return self.tap.result(name, False, ["no server block came before this block"])
        ok, diag, skip = self.shell.run(b)
        if not ok and self.server.proc.poll() is not None:
            diag += ["server exited with status %d" % self.server.proc.returncode] + self.server.stderr_tail
        self.tap.result(name, ok, diag, skip)
        self.follow()


def run_reference(path, display, args, tool_dirs, tap):
    """A reference doc: its own fresh server, the address in the environment."""
    blocks, hidden = mdblocks.parse_doc(path, display)
    blocks = [b for b in blocks if b.kind == "runnable"]
    if not blocks:
        return
    server = Server(args.server, ["--http-port", "0", "--ws-port", "0"] + (hidden or []))
    if not server.http:
        diag = ["server did not print its listening line"] + server.stderr_tail
        for b in blocks:
            tap.result(b.name, False, diag)
        server.stop()
        return
    env = base_env(tool_dirs)
    env["HTTP"], env["WS"] = server.http, server.ws
    env["HTTP_PORT"], env["WS_PORT"] = str(server.port("http")), str(server.port("ws"))
    # Scratch files of one doc stay out of the source tree and away from a
    # concurrent run.
    with tempfile.TemporaryDirectory(prefix="pushlab-docs-") as scratch:
        shell = Shell(env, scratch, stand_in=False)
        for b in blocks:
            ok, diag, skip = shell.run(b)
            if not ok and server.proc.poll() is not None:
                diag += ["server exited with status %d" % server.proc.returncode] + server.stderr_tail
            tap.result(b.name, ok, diag, skip)
    server.stop()


def collect(files, root):
    paths = []
    for f in files:
        if os.path.isdir(f):
            for d, _, names in sorted(os.walk(f)):
                paths += [os.path.join(d, n) for n in sorted(names) if n.endswith(".md")]
        elif os.path.exists(f):
            paths.append(f)
    return [(p, os.path.relpath(os.path.abspath(p), root)) for p in paths]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--server", required=True, help="pushlab-server binary")
    ap.add_argument("--tool", action="append", default=[],
                    help="another binary or script to put on $PATH (pushlab-client, pushlab-bench)")
    ap.add_argument("--root", default=".", help="source root: file names are shown relative to it")
    ap.add_argument("--workshop", action="append", default=[],
                    help="a file of the workshop sequence, in order (repeatable)")
    ap.add_argument("--bind", action="append", default=[],
                    help="run the workshop sequence once on this address (repeatable; default 127.0.0.1)")
    ap.add_argument("files", nargs="*", help="reference docs: Markdown files or directories")
    ap.add_argument("--show", action="store_true",
                    help="print each block's output as TAP comments (to write output blocks)")
    args = ap.parse_args()
    global SHOW
    SHOW = args.show
    args.root = os.path.abspath(args.root)
    binds = args.bind or ["127.0.0.1"]
    workshop = collect(args.workshop, args.root)
    in_workshop = {os.path.abspath(p) for p, _ in workshop}
    reference = [(p, d) for p, d in collect(args.files, args.root) if os.path.abspath(p) not in in_workshop]
    tools = args.tool + [args.server]  # the setup puts build/server on $PATH too
    tool_dirs = sorted({os.path.dirname(os.path.abspath(t)) for t in tools if os.path.exists(t)})
    total = len(binds) * sum(len(mdblocks.parse_doc(p, d)[0]) for p, d in workshop)
    total += sum(len([b for b in mdblocks.parse_doc(p, d)[0] if b.kind == "runnable"]) for p, d in reference)
    print("1..%d" % total)
    tap = Tap()
    for bind in binds if workshop else []:
        Workshop(args, tool_dirs, bind, tap).run(workshop)
    for p, d in reference:
        run_reference(p, d, args, tool_dirs, tap)
    return 0


if __name__ == "__main__":
    sys.exit(main())
