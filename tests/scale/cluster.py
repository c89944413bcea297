"""Shared by the scale tests: a redis-server and pushlab-servers on free ports
with their files in a temporary folder, each stopped by its pid; and
subscribers that behave as the outside world does: a browser's EventSource
(Last-Event-ID, the stream's retry delay), a plain WebSocket client (since=),
and long and short pollers that ask another node on every request. Each
subscriber records every id it is handed, duplicates included, so a test
can demand exactly 1..N. Python 3 standard library only."""
import http.client
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "deploy"))
import proxy  # noqa: E402

free_port = proxy.free_port


def tempdir():
    return tempfile.mkdtemp(prefix="pushlab-scale-")


class Redis:
    """redis-server in the foreground; with `aof`, appendonly yes and
    appendfsync always, so an acknowledged write is on disk."""

    def __init__(self, folder, port=None, aof=False):
        self.folder, self.port, self.aof = folder, port or free_port(), aof
        self.start()

    def start(self):
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir",
                self.folder, "--save", "", "--daemonize", "no"]
        args += ["--appendonly", "yes", "--appendfsync", "always"] if self.aof else \
            ["--appendonly", "no"]
        self.p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for _ in range(500):
            if self.p.poll() is not None:
                raise RuntimeError("redis-server did not start: " + self.p.stderr.read().decode())
            if self.command("PING") == "+PONG":
                return
            time.sleep(0.01)
        raise RuntimeError("redis-server did not answer")

    def command(self, *args):
        """One command; the first line of the answer, or None."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
                out = f"*{len(args)}\r\n".encode()
                for a in args:
                    a = a.encode() if isinstance(a, str) else a
                    out += b"$%d\r\n%s\r\n" % (len(a), a)
                s.sendall(out)
                return s.recv(65536).split(b"\r\n", 1)[0].decode()
        except OSError:
            return None

    def info_cpu(self):
        """used_cpu_user + used_cpu_sys of the server, in seconds."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
            s.sendall(b"INFO cpu\r\n")
            data = b""
            while b"used_cpu_user_main_thread" not in data:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        vals = dict(line.split(":", 1) for line in data.decode().splitlines() if ":" in line)
        return float(vals["used_cpu_user"]) + float(vals["used_cpu_sys"])

    def kill(self):
        self.p.kill()
        self.p.wait()

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


class Node(proxy.Server):
    """A pushlab-server on free ports sharing `redis`."""

    def __init__(self, exe, redis, *args):
        super().__init__(exe, "--store", f"redis://127.0.0.1:{redis.port}", *args)
        self.http = f"http://127.0.0.1:{self.http_port}"

    def kill(self):
        self.p.kill()
        self.p.wait()

    def stop(self):
        if self.p.poll() is None:
            super().stop()

    def stats(self):
        return json.loads(get(self.http_port, "/api/stats")[1])


def request(port, method, path, body=None, headers=None, timeout=10):
    """(status, body bytes); raises OSError when the node is not there."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def get(port, path, timeout=10):
    return request(port, "GET", path, timeout=timeout)


def publish(port, room, text, cid=None, timeout=10):
    body = {"user": "pub", "text": text}
    if cid:
        body["cid"] = cid
    return request(port, "POST", f"/api/rooms/{room}/messages", json.dumps(body),
                   {"Content-Type": "application/json"}, timeout)


class Publisher:
    """Publishes m1..mN, each with its own cid, asking the next node for
    each one and, on any failure, the next node again with the same cid."""

    def __init__(self, ports, room):
        self.ports, self.room, self.turn = ports, room, 0
        self.acked = {}  # id -> text

    def send(self, k, deadline_s=20):
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            port = self.ports[self.turn % len(self.ports)]
            self.turn += 1
            try:
                status, body = publish(port, self.room, f"m{k}", cid=f"pub-{k}", timeout=5)
            except OSError:
                continue
            if status in (200, 201):
                m = json.loads(body)
                self.acked[m["id"]] = m["text"]
                return m["id"]
            time.sleep(0.05)
        raise RuntimeError(f"message {k} was never acknowledged")


class Subscriber(threading.Thread):
    """One subscriber on a list of nodes; `ids` holds every id handed over."""

    def __init__(self, name, ports, room, start=0):
        super().__init__(daemon=True)
        self.name, self.ports, self.room = name, ports, room
        self.turn = start
        self.ids, self.nodes_used, self.errors = [], set(), 0
        self.heads = []  # the response head of each stream it opened
        self.stopping = False

    @property
    def cursor(self):
        return self.ids[-1] if self.ids else 0

    def next_port(self):
        port = self.ports[self.turn % len(self.ports)]
        return port

    def move_on(self):
        self.turn += 1

    def run(self):
        while not self.stopping:
            port = self.next_port()
            try:
                self.once(port)
            except (OSError, ValueError, http.client.HTTPException):
                self.errors += 1
                self.move_on()
                time.sleep(0.05)


class LongPoller(Subscriber):
    """Another node on every request."""

    def once(self, port):
        self.move_on()
        status, body = get(port, f"/api/rooms/{self.room}/poll?since={self.cursor}&timeout=5")
        if status != 200:
            raise ValueError(status)
        self.nodes_used.add(port)
        self.ids += [m["id"] for m in json.loads(body)["messages"]]


class ShortPoller(Subscriber):
    def once(self, port):
        self.move_on()
        status, body = get(port, f"/api/rooms/{self.room}/messages?since={self.cursor}")
        if status != 200:
            raise ValueError(status)
        self.nodes_used.add(port)
        self.ids += [m["id"] for m in json.loads(body)["messages"]]
        time.sleep(0.1)


class EventSource(Subscriber):
    """A browser's EventSource: one stream; when it breaks, wait the
    stream's `retry:` and reconnect with Last-Event-ID (to the next node:
    the one it was on may be gone)."""

    retry_s = 3.0

    def once(self, port):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        try:
            head = f"GET /api/rooms/{self.room}/events HTTP/1.1\r\nHost: 127.0.0.1\r\n" \
                   "Accept: text/event-stream\r\n"
            if self.ids:
                head += f"Last-Event-ID: {self.cursor}\r\n"
            s.sendall((head + "\r\n").encode())
            self.read_stream(s, port)
        finally:
            s.close()
        raise OSError("stream ended")

    def read_stream(self, s, port):
        buf = b""
        s.settimeout(30)
        while b"\r\n\r\n" not in buf:
            chunk = s.recv(65536)
            if not chunk:
                return
            buf += chunk
        head, buf = buf.split(b"\r\n\r\n", 1)
        if not head.startswith(b"HTTP/1.1 200"):
            raise ValueError(head[:40])
        self.heads.append(head.decode("latin-1"))
        self.nodes_used.add(port)
        # Close-delimited since protocol 1.3; chunked before, as any client reads both.
        chunked = b"transfer-encoding: chunked" in head.lower()
        text = b""
        while not self.stopping:
            payload, buf, ended = dechunk(buf) if chunked else (buf, b"", False)
            text += payload
            while b"\n\n" in text:
                event, text = text.split(b"\n\n", 1)
                self.take(event.decode())
            if ended:
                return
            chunk = s.recv(65536)
            if not chunk:
                return
            buf += chunk

    def take(self, event):
        fields = dict(line.split(": ", 1) for line in event.split("\n") if ": " in line)
        if "retry" in fields:
            self.retry_s = int(fields["retry"]) / 1000
        if fields.get("event") == "message":
            self.ids.append(json.loads(fields["data"])["id"])

    def move_on(self):
        super().move_on()
        time.sleep(self.retry_s)


def dechunk(buf):
    """(payload of the complete chunks at the front of buf, the rest, the
    last chunk seen)."""
    out = b""
    while True:
        line, sep, rest = buf.partition(b"\r\n")
        if not sep:
            return out, buf, False
        n = int(line, 16)
        if n == 0:
            return out, b"", True
        if len(rest) < n + 2:
            return out, buf, False
        out += rest[:n]
        buf = rest[n + 2:]


class WebSocket(Subscriber):
    """A plain WebSocket client: since= its cursor; to the next node when
    the connection ends."""

    def __init__(self, name, ports, ws_ports, room, start=0):
        super().__init__(name, ports, room, start)
        self.ws_ports = ws_ports

    def once(self, port):
        wport = self.ws_ports[self.ports.index(port)]
        s = socket.create_connection(("127.0.0.1", wport), timeout=10)
        try:
            s.sendall((f"GET /ws/{self.room}?since={self.cursor} HTTP/1.1\r\n"
                       "Host: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                       "Sec-WebSocket-Version: 13\r\n\r\n").encode())
            buf = b""
            s.settimeout(30)
            while b"\r\n\r\n" not in buf:
                chunk = s.recv(65536)
                if not chunk:
                    raise OSError("closed in the handshake")
                buf += chunk
            head, buf = buf.split(b"\r\n\r\n", 1)
            if b" 101 " not in head.split(b"\r\n", 1)[0]:
                raise ValueError(head[:40])
            self.heads.append(head.decode("latin-1"))
            self.nodes_used.add(port)
            while not self.stopping:
                frame, buf = ws_parse(buf)
                if frame is None:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    buf += chunk
                    continue
                opcode, payload = frame
                if opcode == 8:
                    break
                if opcode == 9:  # ping: pong with the same payload
                    s.sendall(ws_frame(10, payload))
                elif opcode == 1:
                    m = json.loads(payload)
                    if m.get("type") == "message":
                        self.ids.append(m["id"])
        finally:
            s.close()
        raise OSError("connection ended")


def ws_frame(opcode, payload):
    mask = os.urandom(4)
    head = bytes([0x80 | opcode, 0x80 | len(payload)])
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def ws_parse(buf):
    if len(buf) < 2:
        return None, buf
    n, off = buf[1] & 0x7F, 2
    if n == 126:
        if len(buf) < 4:
            return None, buf
        n, off = struct.unpack("!H", buf[2:4])[0], 4
    elif n == 127:
        if len(buf) < 10:
            return None, buf
        n, off = struct.unpack("!Q", buf[2:10])[0], 10
    if len(buf) < off + n:
        return None, buf
    return (buf[0] & 0x0F, buf[off:off + n]), buf[off + n:]


def wait_for(pred, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


class Tap:
    def __init__(self):
        self.results = []

    def check(self, name, ok, detail=""):
        self.results.append((name, bool(ok), detail))
        return ok

    def finish(self):
        print(f"1..{len(self.results)}")
        for i, (name, ok, detail) in enumerate(self.results, 1):
            print(f"{'ok' if ok else 'not ok'} {i} - {name}")
            if not ok and detail:
                for line in str(detail).splitlines()[-12:]:
                    print(f"# {line}")
        sys.stdout.flush()
        return 0 if all(ok for _, ok, _ in self.results) else 1
