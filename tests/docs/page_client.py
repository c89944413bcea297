"""A stand-in for the demo page that the workshop setup asks every attendee to
keep open, and for the trainer's `watch -n1 curl -s $HTTP/api/stats`: the
same requests at the same pace as web/app.js and web/transports.js, so the
lessons are tested against a server that is not idle. Standard library only.

What the page does (read from web/*.js), and so what this does:
- at load: GET /api/config, 8 publishes into room `pushlab-clock` (the clock
  probes), then GET /messages?since=0&limit=1 to find where the room ends;
- short polling: GET /messages?since=C&limit=100 every 2 s (the slider's default);
- long polling: GET /poll?since=C&timeout=25, again at once after each answer;
- EventSource on /events?since=C, reconnecting after 2 s with Last-Event-ID;
- WebSocket on /ws/ROOM?since=C with the page's Origin, {"type":"ping"}
  every 15 s, control pings answered (as browsers do), reconnect after 2 s;
- a polling answer whose last_id is below the cursor (server restarted)
  makes every transport join the room again.
The page itself never polls /api/stats; the trainer's projector does, once
a second, so that is here too.
"""
import http.client
import json
import os
import re
import socket
import struct
import threading
import time

SHORT_POLL_S = 2.0
LONG_POLL_TIMEOUT_S = 25
RETRY_S = 2.0
WS_PING_S = 15.0
STATS_S = 1.0
CLOCK_PROBES = 8


class Page:
    """`target()` returns {"host", "http_port", "ws_port", "room"} or None
    while there is no server; it is read again before every request, so the
    page follows restarts and room changes as a browser tab would."""

    def __init__(self, target):
        self.target = target
        self.stop_ev = threading.Event()
        self.lock = threading.Lock()
        self.join_lock = threading.Lock()  # one join at a time, as one page does
        self.epoch = 0  # bumped on every (re)join; transports restart on change
        self.joined = None  # (room, host, http_port) of the current join
        self.loaded = None  # (host, http_port) the page was loaded from
        self.start_id = 0
        self.counts = {k: 0 for k in ("short_poll", "long_poll", "sse", "ws", "stats", "errors")}
        self.threads = []

    # ---- lifecycle

    def start(self):
        for fn in (self._short_poll, self._long_poll, self._sse, self._ws, self._stats):
            t = threading.Thread(target=self._guard, args=(fn,), daemon=True)
            t.start()
            self.threads.append(t)

    def stop(self):
        self.stop_ev.set()
        for t in self.threads:
            t.join(3)

    def _guard(self, fn):
        while not self.stop_ev.is_set():
            try:
                fn()
            except (OSError, http.client.HTTPException, ValueError):
                self._count("errors")
                self.stop_ev.wait(RETRY_S)

    def _count(self, key):
        with self.lock:
            self.counts[key] += 1

    # ---- joining a room

    def _where(self):
        """Waits for a server; returns its target and the current join."""
        while not self.stop_ev.is_set():
            t = self.target()
            if t:
                key = (t["room"], t["host"], t["http_port"])
                with self.join_lock:
                    with self.lock:
                        stale = self.joined != key
                    if stale:
                        self._join(t, key)
                with self.lock:
                    if self.joined == key:
                        return t, self.epoch, self.start_id
            self.stop_ev.wait(0.2)
        raise OSError("stopped")

    def _join(self, t, key):
        conn = http.client.HTTPConnection(t["host"], t["http_port"], timeout=5)
        try:
            if self.loaded != key[1:]:
                get_json(conn, "/api/config")
                for _ in range(CLOCK_PROBES):
                    body = json.dumps({"user": "pushlab-page", "text": "clock probe"})
                    conn.request("POST", "/api/rooms/pushlab-clock/messages", body,
                                 {"Content-Type": "application/json"})
                    conn.getresponse().read()
            page = get_json(conn, "/api/rooms/%s/messages?since=0&limit=1" % t["room"])
            self._count("short_poll")
        finally:
            conn.close()
        with self.lock:
            self.joined, self.loaded, self.start_id = key, key[1:], page["last_id"]
            self.epoch += 1

    def _rejoin(self, epoch):
        """The room's ids went backwards (the server restarted): join again."""
        with self.lock:
            if self.epoch == epoch:
                self.joined = None

    def _current(self, epoch, t):
        if self.stop_ev.is_set():
            return False
        now = self.target()
        with self.lock:
            return self.epoch == epoch and now == t

    # ---- the four transports

    def _poller(self, path, pause_s, key, timeout):
        t, epoch, cursor = self._where()
        conn = http.client.HTTPConnection(t["host"], t["http_port"], timeout=timeout)
        try:
            while self._current(epoch, t):
                page = get_json(conn, path(t["room"], cursor))
                self._count(key)
                if page["last_id"] < cursor:
                    return self._rejoin(epoch)
                if page["messages"]:
                    cursor = page["messages"][-1]["id"]
                full = page["messages"] and cursor < page["last_id"]
                if not full:
                    self.stop_ev.wait(pause_s)
        finally:
            conn.close()

    def _short_poll(self):
        self._poller(lambda r, c: "/api/rooms/%s/messages?since=%d&limit=100" % (r, c),
                     SHORT_POLL_S, "short_poll", 5)

    def _long_poll(self):
        """Like _poller, but a held request is dropped at once when the page
        leaves the room or the server goes, as the page's AbortController does."""
        t, epoch, cursor = self._where()
        while self._current(epoch, t):
            path = "/api/rooms/%s/poll?since=%d&timeout=%d" % (t["room"], cursor, LONG_POLL_TIMEOUT_S)
            page = self._abortable_get(t, path, lambda: self._current(epoch, t))
            if page is None:
                return
            self._count("long_poll")
            if page["last_id"] < cursor:
                return self._rejoin(epoch)
            if page["messages"]:
                cursor = page["messages"][-1]["id"]

    def _abortable_get(self, t, path, still):
        """GET on a fresh connection; None when still() turns false first."""
        with socket.create_connection((t["host"], t["http_port"]), timeout=5) as s:
            s.sendall(request_bytes("GET", path, "%s:%d" % (t["host"], t["http_port"]),
                                    {"Connection": "close"}))
            s.settimeout(0.5)
            buf = b""
            while still():
                data = recv_some(s)
                if data is None:
                    continue
                if not data:
                    head, _, body = buf.partition(b"\r\n\r\n")
                    if not head.startswith(b"HTTP/1.1 200"):
                        raise OSError("GET %s: %s" % (path, head[:40]))
                    return json.loads(body)
                buf += data
        return None

    def _sse(self):
        t, epoch, cursor = self._where()
        last_event = None
        while self._current(epoch, t):
            headers = {"Accept": "text/event-stream"}
            if last_event is not None:
                headers["Last-Event-ID"] = str(last_event)
            path = "/api/rooms/%s/events?since=%d" % (t["room"], cursor)
            with socket.create_connection((t["host"], t["http_port"]), timeout=5) as s:
                s.sendall(request_bytes("GET", path, "%s:%d" % (t["host"], t["http_port"]), headers))
                self._count("sse")
                head, rest = read_head(s)
                if not head.startswith("HTTP/1.1 200") or "text/event-stream" not in head:
                    raise OSError("event stream refused")  # EventSource gives up; the page retries
                s.settimeout(0.5)
                buf = rest
                while self._current(epoch, t):
                    for m in re.finditer(rb"^id: (\d+)$", buf, re.M):
                        last_event = int(m.group(1))
                    buf = buf[buf.rfind(b"\n") + 1:]
                    data = recv_some(s)
                    if data == b"":
                        break
                    buf += data or b""
            self.stop_ev.wait(RETRY_S)

    def _ws(self):
        t, epoch, cursor = self._where()
        with socket.create_connection((t["host"], t["ws_port"]), timeout=5) as s:
            origin = "http://%s:%d" % (t["host"], t["http_port"])
            path = "/ws/%s?since=%d" % (t["room"], cursor)
            s.sendall(request_bytes("GET", path, "%s:%d" % (t["host"], t["ws_port"]), {
                "Upgrade": "websocket", "Connection": "Upgrade", "Origin": origin,
                "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "13"}))
            self._count("ws")
            head, buf = read_head(s)
            if not head.startswith("HTTP/1.1 101"):
                raise OSError("handshake refused: " + head.split("\r\n", 1)[0])
            s.settimeout(0.5)
            next_ping = time.monotonic() + WS_PING_S
            while self._current(epoch, t):
                if time.monotonic() >= next_ping:
                    s.sendall(ws_frame(1, b'{"type":"ping"}'))
                    next_ping += WS_PING_S
                frame, buf = ws_parse(buf)
                if frame is None:
                    data = recv_some(s)
                    if data == b"":
                        break
                    buf += data or b""
                    continue
                opcode, payload = frame
                if opcode == 8:
                    break
                if opcode == 9:
                    s.sendall(ws_frame(10, payload))
        self.stop_ev.wait(RETRY_S)

    def _stats(self):
        t, _, _ = self._where()
        conn = http.client.HTTPConnection(t["host"], t["http_port"], timeout=5)
        try:
            while not self.stop_ev.is_set() and self.target() == t:
                get_json(conn, "/api/stats")
                self._count("stats")
                self.stop_ev.wait(STATS_S)
        finally:
            conn.close()


def recv_some(s):
    """What arrived within the socket's timeout: bytes, None when nothing
    did (so the caller can look at the clock), b"" at end of stream."""
    try:
        return s.recv(65536)
    except socket.timeout:
        return None


def get_json(conn, path):
    conn.request("GET", path, headers={"Cache-Control": "no-store"})
    res = conn.getresponse()
    body = res.read()
    if res.status != 200:
        raise OSError("GET %s: %d" % (path, res.status))
    return json.loads(body)


def request_bytes(method, path, host, headers):
    lines = ["%s %s HTTP/1.1" % (method, path), "Host: " + host]
    lines += ["%s: %s" % kv for kv in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def read_head(s):
    """Reads up to the blank line; returns (head text, bytes after it)."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        data = s.recv(4096)
        if not data:
            raise OSError("connection closed before the response head")
        buf += data
        if len(buf) > 65536:
            raise OSError("response head too large")
    head, rest = buf.split(b"\r\n\r\n", 1)
    return head.decode("latin-1"), rest


def ws_frame(opcode, payload):
    """A client frame: final, masked (RFC 6455 5.3: every client masks)."""
    mask = os.urandom(4)
    n = len(payload)
    head = bytes([0x80 | opcode])
    if n < 126:
        head += bytes([0x80 | n])
    else:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def ws_parse(buf):
    """One server frame off the front of buf: ((opcode, payload), rest) or
    (None, buf) when incomplete."""
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
