#!/usr/bin/env python3
"""Slow clients against a real pushlab-server with its default limits.

1. Slowloris: SLOWLORIS connections (4 in 5 at the HTTP port, 1 in 5 at
   the WebSocket port) each send one byte of a request head every 2 s.
   While they are held, a publish, a short poll and a long poll are each
   answered within a second. Every one of them is cut by the server
   within HEAD_CUT_S (--header-timeout is 10 s) and counted.
2. Non-readers: NON_READERS subscribers (half SSE, half WebSocket) that
   never read, beside READERS that do, while MESSAGES messages of 4 KiB
   are published. The readers get every message in order; each non-reader
   is cut once it is more than --max-lag (the history, 1000) messages
   behind and counted in slow_consumers_dropped; the server's RSS stays
   under RSS_BOUND throughout.
Afterwards open fds are back at their baseline.
  test_slow.py SERVER_EXE"""
import http.client
import json
import os
import re
import selectors
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Server, Tap, progress, raise_nofile, source_addrs, wait_for, ws_frame,
                     ws_handshake)

SLOWLORIS = 5000
HEAD_CUT_S = 10 * 1.2 + 4  # the timeout, one sweep period, the test's own 2 s pace
NON_READERS = 1000
READERS = 20
MESSAGES = 10000
READER_SLACK = 200  # messages the publisher may run ahead of the slowest reader (--max-lag is 1000)
TEXT = "x" * 4096
RSS_BOUND = 64 << 20
ANSWER_S = 1.0


def timed(fn):
    t0 = time.monotonic()
    v = fn()
    return v, time.monotonic() - t0


def slowloris(srv, tap):
    head = (b"GET /api/rooms/lobby/messages HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"User-Agent: slow\r\nX-Pad: " + b"p" * 400 + b"\r\n\r\n")
    ws_head = ws_handshake("lobby", extra="X-Pad: " + "p" * 400 + "\r\n")
    fds0 = srv.fds()
    e0 = srv.stats()["errors"]
    socks = []
    srcs = source_addrs(2)
    for i in range(SLOWLORIS):
        s = socket.socket()
        s.bind((srcs[i % 2], 0))
        s.connect((srv.host, srv.ws_port if i % 5 == 4 else srv.http_port))
        s.setblocking(False)
        socks.append([s, ws_head if i % 5 == 4 else head, 0, None])
        progress("slowloris: %d connections" % (i + 1))
    t0 = time.monotonic()
    answered = []
    while time.monotonic() - t0 < 60 and any(c[3] is None for c in socks):
        for c in socks:
            if c[3] is not None:
                continue
            try:
                if c[2] < len(c[1]):
                    c[0].send(c[1][c[2]:c[2] + 1])
                    c[2] += 1
                if c[0].recv(4096) == b"":
                    c[3] = time.monotonic() - t0
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                c[3] = time.monotonic() - t0
        held = sum(c[3] is None for c in socks)
        if len(answered) < 3 and held == SLOWLORIS:
            answered.append(check_answers(srv))
        progress("slowloris: %d held, %.0f s" % (held, time.monotonic() - t0))
        time.sleep(2)
    for c in socks:
        c[0].close()
    cut = sorted(c[3] for c in socks if c[3] is not None)
    ok_rounds = [a for a in answered if a[0]]
    tap.ok(len(answered) >= 1 and len(ok_rounds) == len(answered),
           "while %d slowloris connections are held, a publish, a short poll and a long poll "
           "are each answered within %.0f s" % (SLOWLORIS, ANSWER_S),
           "\n".join(a[1] for a in answered))
    tap.ok(len(cut) == SLOWLORIS and cut[-1] <= HEAD_CUT_S,
           "the server cut every unfinished head within %.0f s" % HEAD_CUT_S,
           "%d of %d cut, last at %s s" % (len(cut), SLOWLORIS, cut[-1] if cut else None))
    e1 = srv.stats()["errors"]
    http_n, ws_n = SLOWLORIS - SLOWLORIS // 5, SLOWLORIS // 5
    tap.ok(e1["http_timeout"] - e0["http_timeout"] == http_n and
           e1["ws_bad_handshake"] - e0["ws_bad_handshake"] == ws_n,
           "counted: %d http_timeout, %d ws_bad_handshake" % (http_n, ws_n),
           "http_timeout +%d, ws_bad_handshake +%d" % (e1["http_timeout"] - e0["http_timeout"],
                                                       e1["ws_bad_handshake"] -
                                                       e0["ws_bad_handshake"]))
    fds1 = srv.fds_back_to(fds0)
    tap.ok(fds1 == fds0, "server fds back to the baseline after the slowloris (%d, now %d)"
           % (fds0, fds1))
    tap.note("figure: slowloris: %d connections held, cut after %.1f-%.1f s; answers while "
             "held %s" % (SLOWLORIS, cut[0] if cut else 0, cut[-1] if cut else 0,
                          "; ".join(a[1] for a in answered)))


def check_answers(srv):
    """A publish, a short poll and a long poll that the publish wakes."""
    _, page = srv.page("lobby")
    last = page["last_id"]
    result = {}

    def long_poll():
        result["lp"] = timed(lambda: srv.request(
            "GET", "/api/rooms/lobby/poll?since=%d&timeout=10" % last))

    t = threading.Thread(target=long_poll)
    t.start()
    time.sleep(0.2)
    (status, msg), pub_s = timed(lambda: srv.publish("lobby", "while slow"))
    (pstatus, page), poll_s = timed(lambda: srv.page("lobby", since=last))
    t.join(5)
    (lstatus, lbody), lp_s = result.get("lp", ((0, b"{}"), 99))
    lp_ids = [m["id"] for m in json.loads(lbody).get("messages", [])]
    ok = (status == 201 and pstatus == 200 and lstatus == 200 and lp_ids == [last + 1] and
          [m["id"] for m in page["messages"]] == [last + 1] and
          max(pub_s, poll_s, lp_s - 0.2) < ANSWER_S)
    return ok, "publish %.3f s, short poll %.3f s, long poll woken after %.3f s" % (
        pub_s, poll_s, lp_s - 0.2)


class Reader:
    """A subscriber that reads everything and checks the ids."""

    def __init__(self, srv, kind, src):
        self.kind, self.buf, self.text = kind, bytearray(), bytearray()
        self.ids, self.closed = [], False
        self.sock = socket.socket()
        self.sock.bind((src, 0))
        if kind == "sse":
            self.sock.connect((srv.host, srv.http_port))
            self.sock.sendall(b"GET /api/rooms/flood/events?since=0 HTTP/1.1\r\n"
                              b"Host: 127.0.0.1\r\n\r\n")
        else:
            self.sock.connect((srv.host, srv.ws_port))
            self.sock.sendall(ws_handshake("flood", since=0))
        self.sock.setblocking(False)
        self.head = False

    def pong(self, payload):
        try:
            self.sock.send(ws_frame(payload, opcode=0xA, mask=os.urandom(4)))
        except (BlockingIOError, InterruptedError):
            pass  # the next ping gets its answer

    def dechunk(self):
        """Moves the body from buf to text: whole chunks of a chunked one
        (protocol 1.2), all of a close-delimited one (1.3)."""
        if not self.chunked:
            self.text += self.buf
            del self.buf[:]
            return
        pos = 0
        while True:
            i = self.buf.find(b"\r\n", pos)
            if i < 0:
                break
            n = int(self.buf[pos:i], 16)
            if len(self.buf) < i + 2 + n + 2:
                break
            self.text += self.buf[i + 2:i + 2 + n]
            pos = i + 2 + n + 2
        del self.buf[:pos]

    def feed(self, data):
        self.buf += data
        if not self.head:
            i = self.buf.find(b"\r\n\r\n")
            if i < 0:
                return
            self.head = True
            self.chunked = b"transfer-encoding: chunked" in self.buf[:i].lower()
            del self.buf[:i + 4]
        if self.kind == "sse":
            self.dechunk()
            end = self.text.rfind(b"\n\n")
            if end < 0:
                return
            self.ids += [int(m) for m in re.findall(rb"(?:^|\n\n)id: (\d+)\n", self.text[:end + 2])]
            del self.text[:end + 2]
            return
        pos, buf = 0, self.buf
        while len(buf) - pos >= 2:
            n, off = buf[pos + 1] & 0x7F, 2
            if n == 126:
                if len(buf) - pos < 4:
                    break
                n, off = int.from_bytes(buf[pos + 2:pos + 4], "big"), 4
            elif n == 127:
                if len(buf) - pos < 10:
                    break
                n, off = int.from_bytes(buf[pos + 2:pos + 10], "big"), 10
            if len(buf) - pos < off + n:
                break
            if buf[pos] & 0x0F == 0x9:  # as a real client does: a silent peer is cut after 35 s
                self.pong(bytes(buf[pos + off:pos + off + n]))
            m = WS_ID.match(buf, pos + off)
            if m:
                self.ids.append(int(m.group(1)))
            pos += off + n
        del buf[:pos]


WS_ID = re.compile(rb'\{"type":"message","id":(\d+)')


def non_readers(srv, tap):
    fds0, rss0 = srv.fds(), srv.rss()
    s0 = srv.stats()["transports"]
    srcs = source_addrs(4)
    silent = []
    for i in range(NON_READERS):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # hold little on our side
        s.bind((srcs[i % 4], 0))
        if i % 2 == 0:
            s.connect((srv.host, srv.http_port))
            s.sendall(b"GET /api/rooms/flood/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        else:
            s.connect((srv.host, srv.ws_port))
            s.sendall(ws_handshake("flood"))
        silent.append(s)
    readers = [Reader(srv, "sse" if i % 2 == 0 else "ws", srcs[i % 4]) for i in range(READERS)]
    sel = selectors.DefaultSelector()
    for r in readers:
        sel.register(r.sock, selectors.EVENT_READ, r)
    wait_for(lambda: (lambda t: t["sse"]["connections"] + t["ws"]["connections"])(
        srv.stats()["transports"]) >= NON_READERS + READERS, 10)

    done = threading.Event()
    pub_errors = []

    def publisher():
        c = http.client.HTTPConnection(srv.host, srv.http_port, timeout=10)
        body = json.dumps({"user": "flood", "text": TEXT})
        for i in range(MESSAGES):
            # The readers are one Python loop: paced to the slowest of them, so
            # that they read as fast as they can and are never --max-lag behind.
            # (Unpaced, on a loaded machine or under ASan they fell behind and
            # were rightly cut.) The non-readers stay at 0 and are cut anyway.
            t_wait = time.monotonic() + 30
            while time.monotonic() < t_wait and i - min(
                    (len(r.ids) for r in readers if not r.closed), default=i) > READER_SLACK:
                time.sleep(0.001)
            c.request("POST", "/api/rooms/flood/messages", body,
                      {"Content-Type": "application/json"})
            r = c.getresponse()
            r.read()
            if r.status != 201:
                pub_errors.append(r.status)
        c.close()
        done.set()

    t0 = time.monotonic()
    peak = rss0
    th = threading.Thread(target=publisher)
    th.start()
    last_sample = 0
    while True:
        for key, _ in sel.select(0.05):
            r = key.data
            try:
                data = r.sock.recv(1 << 20)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            if not data:
                r.closed = True
                sel.unregister(r.sock)
                continue
            r.feed(data)
        now = time.monotonic()
        if now - last_sample > 0.1:
            peak, last_sample = max(peak, srv.rss()), now
            progress("non-readers: %d of %d published, readers at %d" % (
                len(readers[0].ids) if readers else 0, MESSAGES, min(len(r.ids) for r in readers)))
        if done.is_set() and all(len(r.ids) >= MESSAGES or r.closed for r in readers):
            break
        if now - t0 > 120:
            break
    secs = time.monotonic() - t0
    th.join(10)
    want = list(range(1, MESSAGES + 1))
    good = [r for r in readers if r.ids == want and not r.closed]
    tap.ok(not pub_errors, "%d publishes of 4 KiB stored" % MESSAGES, str(pub_errors[:5]))
    tap.ok(len(good) == READERS, "each of the %d reading subscribers (SSE and WebSocket) got all "
           "%d messages in order" % (READERS, MESSAGES),
           "; ".join("%s: %d ids, first gap after %s, closed %s" % (
               r.kind, len(r.ids), next((a for a, b in zip(r.ids, r.ids[1:]) if b != a + 1), None),
               r.closed) for r in readers if r not in good))
    tap.memory(peak - rss0 < RSS_BOUND, "server RSS stayed under baseline + %d MiB" % (RSS_BOUND >> 20),
           "baseline %.1f MiB, peak %.1f MiB" % (rss0 / 2**20, peak / 2**20))

    def dropped():
        t = srv.stats()["transports"]
        return (t["sse"]["slow_consumers_dropped"] - s0["sse"]["slow_consumers_dropped"],
                t["ws"]["slow_consumers_dropped"] - s0["ws"]["slow_consumers_dropped"])

    wait_for(lambda: sum(dropped()) >= NON_READERS, 10)
    d = dropped()
    tap.ok(d == (NON_READERS // 2, NON_READERS // 2),
           "every non-reader was cut and counted: slow_consumers_dropped sse %d, ws %d"
           % (NON_READERS // 2, NON_READERS // 2), "got sse %d, ws %d" % d)
    ended = 0
    for s in silent:  # reading now finds the end of a stream the server cut
        s.setblocking(False)
        try:
            while s.recv(1 << 20):
                pass
        except BlockingIOError:
            pass
        except OSError:
            ended += 1
        else:
            ended += 1
        s.close()
    tap.ok(ended == NON_READERS, "each non-reader's connection was closed by the server",
           "%d of %d" % (ended, NON_READERS))
    for r in readers:
        r.sock.close()
    fds1 = srv.fds_back_to(fds0)
    tap.ok(fds1 == fds0, "server fds back to the baseline after the flood (%d, now %d)"
           % (fds0, fds1))
    tap.note("figure: non-readers: %d silent + %d reading subscribers, %d x 4 KiB in %.1f s; "
             "server RSS %.1f MiB -> peak %.1f MiB; dropped sse %d ws %d"
             % (NON_READERS, READERS, MESSAGES, secs, rss0 / 2**20, peak / 2**20, d[0], d[1]))


def main():
    raise_nofile()
    tap = Tap()
    srv = Server(sys.argv[1])
    for i in range(5):
        srv.publish("lobby", "warm %d" % i)
    slowloris(srv, tap)
    non_readers(srv, tap)
    tap.ok(srv.stop() == 0, "the server stops cleanly (exit 0)")
    tap.done()


if __name__ == "__main__":
    main()
