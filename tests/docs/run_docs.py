#!/usr/bin/env python3
"""Runs every command the docs mark runnable against a live pushlab-server and
checks its output, so the workshop material cannot rot. Prints TAP, one test
per block, named file:line. Python 3 standard library only.

Marking, in any Markdown file it is given:

    ```sh runnable [timeout=SECONDS] [exit=CODE|any] [requires=TOOL,TOOL]
    curl -s "$HTTP/healthz"
    ```
    ```output
    ok
    ```

- The block runs in bash (-e -o pipefail) with $HTTP, $WS, $HTTP_PORT,
  $WS_PORT set for a server started on free ports, and the client/bench
  binaries on $PATH. Blocks of one file run in order, in one scratch
  directory, against one fresh server, so ids start at 1 in every file.
- An optional block right after it (blank lines allowed in between) states the
  output: `output` compares the whole output, where `...` stands for any text
  (timestamps, ports); `regex` must match somewhere (Python re, MULTILINE).
- `exit=` is the expected exit status (default 0); `requires=` skips the block
  when a tool is missing from $PATH. Default timeout: 10 s.
- A file may pass arguments to its server with an HTML comment that readers
  do not see: <!-- docs-runner: server-args --heartbeat 2 -->
"""
import argparse
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading

FENCE = re.compile(r"^(```+|~~~+)\s*(.*)$")
SERVER_ARGS = re.compile(r"<!--\s*docs-runner:\s*server-args\s+(.*?)\s*-->")
LISTENING = re.compile(r"^pushlab-server listening http=(\S+) ws=(\S+)")
KNOWN_ATTRS = {"timeout", "exit", "requires"}
SHOW = False  # --show: print every block's output (for writing output blocks)


class Block:
    """One runnable block and what it promises."""

    def __init__(self, path, line, code, attrs):
        self.path, self.line, self.code, self.attrs = path, line, code, attrs
        self.expect_kind = None  # None, "output" or "regex"
        self.expect = ""
        self.problem = None  # a marking error, reported as a failure

    @property
    def name(self):
        return "%s:%d" % (self.path, self.line)


def parse_fences(lines):
    """Yields (start_line, info, body) for each fenced block, 1-based lines."""
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, info, start = m.group(1), m.group(2).strip(), i + 1
        body = []
        i += 1
        while i < len(lines) and not lines[i].startswith(fence):
            body.append(lines[i])
            i += 1
        yield start, info, "\n".join(body), i + 1
        i += 1


def parse_attrs(words):
    attrs, bad = {}, []
    for w in words:
        key, sep, value = w.partition("=")
        if not sep or key not in KNOWN_ATTRS:
            bad.append(w)
        else:
            attrs[key] = value
    return attrs, bad


def parse_doc(path, display):
    """Returns (blocks, server_args) for one Markdown file."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    lines = text.split("\n")
    m = SERVER_ARGS.search(text)
    server_args = shlex.split(m.group(1)) if m else []
    blocks, last, last_end = [], None, -1
    for start, info, body, end in parse_fences(lines):
        words = info.split()
        if len(words) >= 2 and words[0] in ("sh", "bash") and words[1] == "runnable":
            attrs, bad = parse_attrs(words[2:])
            last = Block(display, start, body, attrs)
            if bad:
                last.problem = "unknown marking: " + " ".join(bad)
            blocks.append(last)
            last_end = end
            continue
        kind = words[0] if words else ""
        between = lines[last_end:start - 1] if last else []
        if last and kind in ("output", "regex") and all(not l.strip() for l in between):
            last.expect_kind, last.expect = kind, body
        last = None
    return blocks, server_args


def ellipsis_match(expected, got):
    """True when `got` equals `expected`, where `...` matches any text.
    Trailing blanks on each line and blank lines at the ends are ignored."""

    def norm(s):
        return "\n".join(l.rstrip() for l in s.strip("\n").split("\n")).strip("\n")

    parts = [re.escape(p) for p in norm(expected).split("...")]
    return re.fullmatch(".*?".join(parts), norm(got), re.DOTALL) is not None


def check_output(block, got):
    """Returns None when the output is as promised, else a reason."""
    if block.expect_kind == "output" and not ellipsis_match(block.expect, got):
        return "output differs"
    if block.expect_kind == "regex" and not re.search(block.expect, got, re.MULTILINE):
        return "regex did not match"
    return None


class Server:
    """A pushlab-server on free ports; stdout is drained so it never blocks."""

    def __init__(self, exe, args):
        self.proc = subprocess.Popen(
            [exe, "--http-port", "0", "--ws-port", "0"] + args,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
            text=True, start_new_session=True)
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


def block_env(server, tool_dirs):
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join(tool_dirs + [env.get("PATH", "")])
    env["HTTP"], env["WS"] = server.http, server.ws
    env["HTTP_PORT"] = server.http.rsplit(":", 1)[1]
    env["WS_PORT"] = server.ws.rsplit(":", 1)[1]
    env["LC_ALL"] = "C"
    return env


def run_block(block, env, cwd):
    """Runs one block; returns (ok, diagnostic lines, skip reason)."""
    if block.problem:
        return False, [block.problem], None
    for tool in filter(None, block.attrs.get("requires", "").split(",")):
        if not shutil.which(tool, path=env["PATH"]):
            return True, [], "requires " + tool
    timeout = float(block.attrs.get("timeout", "10"))
    proc = subprocess.Popen(["bash", "-e", "-o", "pipefail", "-c", block.code],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, env=env, cwd=cwd, text=True,
                            errors="replace", start_new_session=True)
    try:
        got, _ = proc.communicate(timeout=timeout)
        if SHOW:
            print("\n".join("#| " + l for l in got.rstrip("\n").split("\n")))
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        got, _ = proc.communicate()
        return False, ["timed out after %gs" % timeout, "got:"] + got.split("\n"), None
    want_exit = block.attrs.get("exit", "0")
    reason = None
    if want_exit != "any" and proc.returncode != int(want_exit):
        reason = "exit status %d, expected %s" % (proc.returncode, want_exit)
    reason = reason or check_output(block, got)
    if reason is None:
        return True, [], None
    diag = [reason, "command:"] + block.code.split("\n")
    if block.expect_kind:
        diag += ["expected (%s):" % block.expect_kind] + block.expect.split("\n")
    return False, diag + ["got:"] + got.rstrip("\n").split("\n"), None


def tap_result(n, block, ok, diag, skip):
    status = "ok" if ok else "not ok"
    suffix = " # SKIP " + skip if skip else ""
    print("%s %d - %s%s" % (status, n, block.name, suffix))
    for d in diag:
        print("#   " + d)
    sys.stdout.flush()


def run_file(path, display, args, tool_dirs, counter):
    blocks, server_args = parse_doc(path, display)
    if not blocks:
        return
    server = Server(args.server, server_args)
    if not server.http:
        diag = ["server did not print its listening line"] + server.stderr_tail
        for b in blocks:
            counter[0] += 1
            tap_result(counter[0], b, False, diag, None)
        server.stop()
        return
    env = block_env(server, tool_dirs)
    # Scratch files of one lesson (held.json, ...) stay out of the source
    # tree and away from a concurrent run.
    scratch = tempfile.TemporaryDirectory(prefix="pushlab-docs-")
    for b in blocks:
        counter[0] += 1
        ok, diag, skip = run_block(b, env, scratch.name)
        if not ok and server.proc.poll() is not None:
            diag += ["server exited with status %d" % server.proc.returncode] + server.stderr_tail
        tap_result(counter[0], b, ok, diag, skip)
    server.stop()
    scratch.cleanup()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--server", required=True, help="pushlab-server binary")
    ap.add_argument("--tool", action="append", default=[],
                    help="another binary to put on $PATH (pushlab-client, pushlab-bench)")
    ap.add_argument("--root", default=".", help="source root: file names are shown relative to it")
    ap.add_argument("files", nargs="+", help="Markdown files or directories (searched for *.md)")
    ap.add_argument("--show", action="store_true",
                    help="print each block's output as TAP comments (to write output blocks)")
    args = ap.parse_args()
    global SHOW
    SHOW = args.show
    args.root = os.path.abspath(args.root)
    paths = []
    for f in args.files:
        if os.path.isdir(f):
            for d, _, names in sorted(os.walk(f)):
                paths += [os.path.join(d, n) for n in sorted(names) if n.endswith(".md")]
        elif os.path.exists(f):
            paths.append(f)
    tool_dirs = sorted({os.path.dirname(os.path.abspath(t)) for t in args.tool if os.path.exists(t)})
    parsed = [(p, os.path.relpath(os.path.abspath(p), args.root)) for p in paths]
    total = sum(len(parse_doc(p, d)[0]) for p, d in parsed)
    print("1..%d" % total)
    counter = [0]
    for p, d in parsed:
        run_file(p, d, args, tool_dirs, counter)
    return 0


if __name__ == "__main__":
    sys.exit(main())
