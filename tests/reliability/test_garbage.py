#!/usr/bin/env python3
"""Live garbage: malformed requests and frames at both ports of a real
pushlab-server. Each kind is first sent once on its own, and the error
counter it must raise in /api/stats is checked exactly; then thousands of
them, mixed and concurrent, with random bytes of random lengths, and the
counters must add up exactly again. Afterwards the server is up, its fds
are back at their baseline, its RSS grew by less than RSS_BOUND, and it
answers a normal publish and poll correctly.
  test_garbage.py SERVER_EXE [COUNT]"""
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Server, Tap, raise_nofile, source_addrs, wait_for, ws_frame, ws_handshake
import wire

COUNT = 5000
RSS_BOUND = 16 << 20

PUB = (b"POST /api/rooms/lobby/messages HTTP/1.1\r\nHost: 127.0.0.1\r\n"
       b"Content-Type: application/json\r\n")
BODY = b'{"user":"g","text":"hello"}'
TLS_HELLO = bytes.fromhex(
    "16030100f8010000f40303") + bytes(range(32)) + bytes.fromhex(
    "20") + bytes(32) + bytes.fromhex("0008130213031301c02f0100") + bytes.fromhex(
    "00a3000000150013000010") + b"www.example.com"[:16].ljust(16, b"x") + bytes(120)
H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def http_kinds():
    """(name, chunks, end, counters it must raise by one) at the HTTP port."""
    return [
        ("no request line", [b"GARBAGE\r\n\r\n"], "read", ["http_bad_head"]),
        ("bad version", [b"GET / HTTP/9.9\r\nHost: x\r\n\r\n"], "read", ["http_bad_head"]),
        ("header without colon", [b"GET /healthz HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n"],
         "read", ["http_bad_head"]),
        ("70 KB header", [b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70000 +
                          b"\r\n\r\n"], "read", ["http_bad_head"]),
        ("70 KB path", [b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"], "read",
         ["http_bad_head"]),
        ("2,000 headers", [b"GET /healthz HTTP/1.1\r\nHost: x\r\n" +
                           b"".join(b"X-%d: y\r\n" % i for i in range(2000)) + b"\r\n"],
         "read", ["http_bad_head"]),
        ("Content-Length not a number", [PUB + b"Content-Length: abc\r\n\r\n" + BODY], "read",
         ["http_bad_head"]),
        ("TLS ClientHello", [TLS_HELLO], "read", ["http_bad_head"]),
        ("HTTP/2 preface", [H2_PREFACE], "read", ["http_bad_head"]),
        ("NUL in the path", [b"GET /he\0althz HTTP/1.1\r\nHost: x\r\n\r\n"], "read",
         ["404"]),  # MHD ends the path at the NUL: no such file
        ("half a head, then reset", [b"GET /api/rooms/lobby/messa"], "reset", ["http_bad_head"]),
        # (A FIN in the same read as the partial body is missed by MHD's
        # edge-triggered loop: such a request ends at the body timeout.)
        ("Content-Length larger than the body", [PUB + b"Content-Length: 1000\r\n\r\n" + BODY],
         "read", ["http_incomplete"]),
        # A reset drops what the kernel had not handed to MHD yet, so this
        # one is a bad head or an incomplete body depending on timing.
        ("body cut by a reset", [PUB + b"Content-Length: 100\r\n\r\n" + BODY[:10]], "reset",
         ["http_bad_head|http_incomplete"]),
        ("bad chunk size", [PUB + b"Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"],
         "read", ["http_incomplete"]),
        ("chunk size overflow", [PUB + b"Transfer-Encoding: chunked\r\n\r\n"
                                 b"fffffffffffffffffffff\r\nabc\r\n0\r\n\r\n"], "read",
         ["http_incomplete"]),
        ("Content-Length smaller than the body",
         [PUB + b"Content-Length: 5\r\n\r\n" + BODY[:5], None, BODY[5:]], "read",
         ["400", "http_bad_head"]),
        ("bad room", [b"GET /api/rooms/no.dots/messages HTTP/1.1\r\nHost: x\r\n\r\n"], "read",
         ["400"]),
        # Garbage pipelined after a request, in the same write: MHD reads
        # both at once, and the front answers the poll before handing over.
        ("garbage pipelined after a publish", [PUB + b"Content-Length: 5\r\n\r\n" + BODY], "read",
         ["400", "http_bad_head"]),
        ("garbage pipelined after a health check",
         [b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGARBAGE\r\n\r\n"], "read", ["http_bad_head"]),
        ("garbage pipelined after a poll",
         [b"GET /api/rooms/lobby/messages HTTP/1.1\r\nHost: x\r\n\r\nGARBAGE\r\n\r\n"], "read",
         ["http_bad_head"]),
        ("not JSON", [PUB + b"Content-Length: 9\r\n\r\nnot json!"], "read", ["400"]),
    ]


def ws_kinds():
    """(name, chunks, end, counters) at the WebSocket port."""
    hs = ws_handshake("lobby")
    CLOSE = ws_frame(b"\x03\xe8", opcode=8)  # close, 1000
    return [
        ("random head", [b"\x00\x01\x02garbage\r\n\r\n"], "read", ["ws_bad_handshake"]),
        ("TLS ClientHello", [TLS_HELLO], "read", ["ws_bad_handshake"]),
        ("HTTP/2 preface", [H2_PREFACE], "read", ["ws_bad_handshake"]),
        ("no Sec-WebSocket-Key", [hs.replace(b"Sec-WebSocket-Key", b"X-Key")], "read",
         ["ws_bad_handshake"]),
        ("70 KB header", [hs[:-2] + b"X-Big: " + b"a" * 70000 + b"\r\n\r\n"], "read",
         ["ws_bad_handshake"]),
        ("half a handshake, then reset", [hs[:40]], "reset", ["ws_bad_handshake"]),
        ("version 99", [hs.replace(b"Version: 13", b"Version: 99")], "read", ["400"]),
        ("no Upgrade", [b"GET /ws/lobby HTTP/1.1\r\nHost: x\r\n\r\n"], "read", ["404"]),
        ("bad room", [ws_handshake("no.dots")], "read", ["400"]),
        ("bad since", [ws_handshake("lobby").replace(b"/ws/lobby", b"/ws/lobby?since=-1")],
         "read", ["400"]),
        ("foreign Origin", [ws_handshake("lobby", extra="Origin: http://evil.example\r\n")],
         "read", ["403"]),
        ("reserved opcode", [hs, None, ws_frame(b"", opcode=3)], "read", ["ws_abnormal_close"]),
        ("RSV bits", [hs, None, ws_frame(b"x", rsv=7)], "read", ["ws_abnormal_close"]),
        ("continuation first", [hs, None, ws_frame(b"x", opcode=0)], "read", ["ws_abnormal_close"]),
        ("256-byte ping", [hs, None, ws_frame(b"p" * 256, opcode=9)], "read", ["ws_abnormal_close"]),
        ("fragmented ping", [hs, None, ws_frame(b"p", opcode=9, fin=False)], "read",
         ["ws_abnormal_close"]),
        ("binary frame", [hs, None, ws_frame(b"\x00\x01", opcode=2), CLOSE], "read",
         ["ws_frame"]),
        ("bad JSON frame", [hs, None, ws_frame("{not json"), CLOSE], "read", ["ws_frame"]),
        ("publish without text", [hs, None, ws_frame('{"type":"publish","user":"g"}'), CLOSE],
         "read", ["ws_frame"]),
        ("left without a close frame", [hs, None, ws_frame("ping")], "reset",
         ["ws_abnormal_close"]),
        ("a clean close", [hs, None, ws_frame("ping"), CLOSE], "read", []),
    ]


def counters(srv):
    e = srv.stats()["errors"]
    return {k: int(v) for k, v in e.items()}


def delta(after, before):
    return {k: after.get(k, 0) - before.get(k, 0) for k in after if after.get(k, 0) !=
            before.get(k, 0)}


def expected_sum(kinds):
    """Counter -> count; a key "a|b" means one of the two, either."""
    want = {}
    for k in kinds:
        for c in k[3]:
            want[c] = want.get(c, 0) + 1
    return want


def matches(got, want):
    """True when `got` is what `want` allows: fixed counters exactly, and
    for each "a|b" the two together exactly, each at least its fixed part."""
    fixed = {k: v for k, v in want.items() if "|" not in k}
    rest = dict(got)
    for alt, n in want.items():
        if "|" not in alt:
            continue
        a, b = alt.split("|")
        ga, gb = rest.pop(a, 0), rest.pop(b, 0)
        fa, fb = fixed.pop(a, 0), fixed.pop(b, 0)
        if ga < fa or gb < fb or ga + gb != fa + fb + n:
            return False
    return rest == fixed


def talk(srv, kind):
    port = srv.http_port if kind[0] == "http" else srv.ws_port
    return wire.Talk(port, kind[2], kind[3])


def settle(srv, before, want, timeout=10):
    """Waits until the counters moved by `want` (they move as the server
    notices each close); returns the delta seen."""
    got = {}

    def reached():
        nonlocal got
        got = delta(counters(srv), before)
        return sum(got.values()) >= sum(want.values())

    wait_for(reached, timeout)
    time.sleep(0.5)  # anything more would show now
    return delta(counters(srv), before)


def main():
    global COUNT
    if len(sys.argv) > 2:
        COUNT = int(sys.argv[2])
    raise_nofile()
    exe = sys.argv[1]
    tap = Tap()
    srv = Server(exe, "--history", "100")
    kinds = [("http",) + k for k in http_kinds()] + [("ws",) + k for k in ws_kinds()]

    # Warm up: the first requests allocate what later ones reuse.
    for i in range(20):
        srv.publish("lobby", "warm %d" % i)
    wire.run([wire.Talk(srv.http_port, [b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"], "read")
              for _ in range(50)])

    for k in kinds:
        before = counters(srv)
        wire.run([talk(srv, k)])
        want = expected_sum([k[1:]])
        got = settle(srv, before, want)
        tap.ok(matches(got, want) and srv.alive(), "%s at the %s port: counted as %s" %
               (k[1], "HTTP" if k[0] == "http" else "WebSocket", " + ".join(k[4]) or "nothing"),
               "counters moved by %s" % got)

    fds0, rss0 = srv.fds(), srv.rss()
    rng = random.Random(10)
    mix = []
    for i in range(COUNT):
        if i % 4 == 0:  # random bytes of random length at either port
            port = rng.choice(("http", "ws"))
            data = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 3000)))
            mix.append((port, "random bytes", [data], "read",
                        ["http_bad_head" if port == "http" else "ws_bad_handshake"]))
        else:
            mix.append(rng.choice(kinds))
    before = counters(srv)
    t0 = time.monotonic()
    failed = wire.run([talk(srv, k) for k in mix], concurrency=150, sources=source_addrs(4))
    secs = time.monotonic() - t0
    want = expected_sum([k[1:] for k in mix])
    got = settle(srv, before, want, timeout=30)
    tap.ok(failed == 0, "all %d connections were accepted" % len(mix), "%d failed" % failed)
    tap.ok(matches(got, want), "%d malformed requests and frames all counted, by kind" % len(mix),
           "want %s\ngot  %s" % (want, got))
    tap.ok(srv.alive(), "the server is still running")
    fds1 = srv.fds_back_to(fds0)
    tap.ok(fds1 == fds0, "open fds back to the baseline (%d, now %d)" % (fds0, fds1))
    rss1 = srv.rss()
    tap.memory(rss1 - rss0 < RSS_BOUND, "RSS grew by less than %d MiB" % (RSS_BOUND >> 20),
           "%d -> %d bytes" % (rss0, rss1))

    last = srv.page("lobby")[1]["last_id"]
    status, msg = srv.publish("lobby", "after the garbage", cid="after-1")
    status2, page = srv.page("lobby", since=last)
    tap.ok(status == 201 and msg["id"] == last + 1 and status2 == 200 and
           [m["text"] for m in page["messages"]] == ["after the garbage"],
           "afterwards a publish is stored with the next id and a poll returns it",
           "%s %s / %s %s" % (status, msg, status2, page))
    tap.note("figure: garbage: %d malformed conversations in %.1f s at both ports, "
             "counted %s; fds %d -> %d; RSS %.1f -> %.1f MiB"
             % (len(mix), secs, got, fds0, fds1, rss0 / 2**20, rss1 / 2**20))
    tap.ok(srv.stop() == 0, "the server stops cleanly (exit 0)")
    tap.done()


if __name__ == "__main__":
    main()
