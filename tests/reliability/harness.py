"""Shared by the reliability tests (suite 'reliability'): starts the real
pushlab-server on free ports with its files in a temp dir, reads its
/api/stats and, from /proc, its open fds and RSS; speaks enough HTTP to
publish and poll; prints TAP. Python 3 standard library only."""
import http.client
import json
import os
import re
import resource
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time


def raise_nofile():
    """Lifts this process's fd limit to the hard limit (20,000 here)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


class Server:
    """One pushlab-server process. `args` are extra flags."""

    def __init__(self, exe, *args, http_port=0, ws_port=0):
        self.exe, self.args = os.path.abspath(exe), list(args)
        self.dir = tempfile.mkdtemp(prefix="pushlab-rel-")
        self.start(http_port, ws_port)

    def start(self, http_port=0, ws_port=0):
        self.errlog = open(os.path.join(self.dir, "server.err"), "ab")
        argv = [self.exe, "--http-port", str(http_port), "--ws-port", str(ws_port)] + self.args
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self.errlog,
                                     cwd=self.dir)
        line = b""
        deadline = time.monotonic() + 10
        while not line.endswith(b"\n") and time.monotonic() < deadline:
            r, _, _ = select.select([self.proc.stdout], [], [], 0.5)
            if r:
                c = self.proc.stdout.read1(1)
                if not c:
                    break
                line += c
        m = re.search(rb"http=http://([\d.]+):(\d+) ws=ws://[\d.]+:(\d+)", line)
        if not m:
            self.proc.kill()
            raise RuntimeError("no listening line: %r (stderr in %s)" % (line, self.dir))
        self.host = m.group(1).decode()
        self.http_port, self.ws_port = int(m.group(2)), int(m.group(3))
        self.pid = self.proc.pid

    def alive(self):
        return self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """Sends `sig` and waits; returns the exit status (-N: killed by N)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.errlog.close()
        return self.proc.returncode

    def stderr_text(self):
        with open(os.path.join(self.dir, "server.err"), "rb") as f:
            return f.read().decode(errors="replace")

    # ---- what the server says about itself

    def request(self, method, path, body=None, headers=None, timeout=10):
        c = http.client.HTTPConnection(self.host, self.http_port, timeout=timeout)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            return r.status, r.read()
        finally:
            c.close()

    def stats(self):
        status, body = self.request("GET", "/api/stats")
        assert status == 200, status
        return json.loads(body)

    def fds(self, quiet=0.2):
        """Open fds, `quiet` s after this test's last request (whose own
        connection the server may still be closing)."""
        time.sleep(quiet)
        return len(os.listdir("/proc/%d/fd" % self.pid))

    def fds_back_to(self, baseline, timeout=10):
        """Waits for the open fds to come back to `baseline`; returns the
        count last seen."""
        n = wait_for(lambda: (lambda k: k if k == baseline else 0)(self.fds()), timeout)
        return n or self.fds()

    def open_sockets(self):
        """The server's TCP sockets other than its listeners, as `ss` shows
        them: what to look at when fds are not back at their baseline."""
        out = subprocess.run(["ss", "-tanpi"], capture_output=True, text=True).stdout
        lines = out.splitlines()
        mine = []
        for i, line in enumerate(lines):
            if "pid=%d," % self.pid in line and not line.startswith("LISTEN"):
                mine.append(" ".join(line.split()[:5]))
        return mine

    def rss(self):
        with open("/proc/%d/status" % self.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        return 0

    def cpu_s(self):
        with open("/proc/%d/stat" % self.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    # ---- the protocol, plainly

    def publish(self, room, text, user="rel", cid=None):
        msg = {"user": user, "text": text}
        if cid:
            msg["cid"] = cid
        status, body = self.request("POST", "/api/rooms/%s/messages" % room, json.dumps(msg),
                                    {"Content-Type": "application/json"})
        return status, json.loads(body)

    def page(self, room, since=0, limit=1000):
        status, body = self.request("GET", "/api/rooms/%s/messages?since=%d&limit=%d"
                                    % (room, since, limit))
        return status, json.loads(body)


def wait_for(pred, timeout=10.0, step=0.05):
    """Polls `pred` until it returns a true value or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(step)


def source_addrs(n):
    """Loopback source addresses 127.0.0.2 ... : each has its own 28,000
    ephemeral ports, so thousands of closes in TIME_WAIT on one do not
    exhaust the others."""
    return ["127.0.0.%d" % (2 + i) for i in range(n)]


WS_KEY = "dGhlIHNhbXBsZSBub25jZQ=="


def ws_handshake(room, since=None, extra=""):
    q = "" if since is None else "?since=%d" % since
    return ("GET /ws/%s%s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s\r\n"
            % (room, q, WS_KEY, extra)).encode()


def ws_frame(payload, opcode=1, fin=True, mask=b"\0\0\0\0", rsv=0, length=None):
    """A client frame (masked with `mask`, or unmasked when mask is None)."""
    if isinstance(payload, str):
        payload = payload.encode()
    n = len(payload) if length is None else length
    head = bytes([(0x80 if fin else 0) | (rsv << 4) | opcode])
    m = 0x80 if mask is not None else 0
    if n < 126:
        head += bytes([m | n])
    elif n < 65536:
        head += bytes([m | 126]) + n.to_bytes(2, "big")
    else:
        head += bytes([m | 127]) + n.to_bytes(8, "big")
    if mask is None:
        return head + payload
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


SANITIZED = os.environ.get("PL_SANITIZED") == "1"


class Tap:
    """TAP on stdout: one line per check, '# ' lines for figures."""

    def __init__(self):
        self.n = self.failed = 0

    def memory(self, cond, name, detail=""):
        """A memory bound: asserted, except in a sanitizer build, where the
        check is reported as skipped (its quarantine is not the server's)."""
        if not SANITIZED:
            return self.ok(cond, name, detail)
        self.n += 1
        print("ok %d - %s # SKIP sanitizer build (%s)" % (self.n, name, detail))
        sys.stdout.flush()
        return True

    def ok(self, cond, name, detail=""):
        self.n += 1
        if not cond:
            self.failed += 1
        print("%sok %d - %s" % ("" if cond else "not ", self.n, name))
        if detail and not cond:
            for line in str(detail).splitlines():
                print("#   " + line)
        sys.stdout.flush()
        return cond

    def note(self, text):
        for line in str(text).splitlines():
            print("# " + line)
        sys.stdout.flush()

    def done(self):
        print("1..%d" % self.n)
        sys.exit(1 if self.failed else 0)


def progress(text):
    """One TTY line on stderr for long runs (nothing when not a terminal)."""
    if sys.stderr.isatty():
        sys.stderr.write("\r" + text + "\033[K")
        sys.stderr.flush()
