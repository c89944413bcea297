#!/usr/bin/env python3
"""Churn: CONNECTIONS connections opened and closed against a real
pushlab-server across the four transports while a publisher posts, a
third closing cleanly, a third reset (SO_LINGER 0) and a third vanishing
mid-request (half a head, a body cut short, or a reset while parked).
Afterwards the server's open fds are exactly at their baseline, no long
poll is counted as waiting and no stream or WebSocket as connected, and
its RSS is within RSS_BOUND of the baseline. Loopback source addresses
127.0.0.2-9 spread the clients' TIME_WAIT over eight port ranges.
  test_churn.py SERVER_EXE [CONNECTIONS]"""
import http.client
import json
import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Server, Tap, progress, raise_nofile, source_addrs, wait_for, ws_frame, ws_handshake
import wire

CONNECTIONS = 20000
RSS_BOUND = 32 << 20
ROOM = "churn"


def talks(srv, rng, last_id):
    """One conversation of a random transport and ending."""
    h, w = srv.http_port, srv.ws_port
    head = lambda path: ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % path).encode()
    kind = rng.randrange(4)
    end = rng.choice(("clean", "reset", "vanish"))
    hold = rng.uniform(0.02, 0.3)  # how long a clean or reset one stays
    if kind == 0:  # short polling, and publishing
        if end == "vanish":
            if rng.random() < 0.5:
                return wire.Talk(h, [head("/api/rooms/%s/messages" % ROOM)[:20]], "reset")
            body = b'{"user":"churn","text":"cut short"}'
            return wire.Talk(h, [b"POST /api/rooms/%s/messages HTTP/1.1\r\nHost: x\r\n"
                                 b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                                 % (ROOM.encode(), len(body)) + body[:9]], "reset")
        return wire.Talk(h, [head("/api/rooms/%s/messages?since=%d" % (ROOM, last_id))],
                         "read", hold=hold, rst=end == "reset")
    if kind == 1:  # long polling: parked until a publish, or until the client leaves
        path = "/api/rooms/%s/poll?since=%d&timeout=30" % (ROOM, last_id + rng.randrange(3))
        if end == "vanish":
            return wire.Talk(h, [head(path)[:30]], "reset")
        return wire.Talk(h, [head(path)], "read", hold=hold, rst=end == "reset")
    if kind == 2:  # Server-Sent Events
        path = "/api/rooms/%s/events?since=%d" % (ROOM, max(0, last_id - 5))
        if end == "vanish":
            return wire.Talk(h, [head(path)[:25]], "reset")
        return wire.Talk(h, [head(path)], "read", hold=hold, rst=end == "reset")
    hs = ws_handshake(ROOM, since=max(0, last_id - 5))  # WebSocket
    if end == "vanish":
        return wire.Talk(w, [hs[:50]], "reset")
    if end == "reset":
        return wire.Talk(w, [hs], "read", hold=hold, rst=True)
    return wire.Talk(w, [hs, None, ws_frame(b"\x03\xe8", opcode=8)], "read", hold=hold)


def all_let_go(srv):
    """No long poll waiting, no SSE stream or WebSocket connected."""
    t = srv.stats()["transports"]
    return (t["long_poll"]["waiting"] == 0 and t["sse"]["connections"] == 0 and
            t["ws"]["connections"] == 0)


def main():
    global CONNECTIONS
    if len(sys.argv) > 2:
        CONNECTIONS = int(sys.argv[2])
    raise_nofile()
    tap = Tap()
    srv = Server(sys.argv[1])
    for i in range(20):
        srv.publish(ROOM, "warm %d" % i)
    # A small churn first, so the baseline includes what the first
    # connections allocate for good (thread arenas, lws buffers).
    rng = random.Random(7)
    wire.run([talks(srv, rng, 20) for _ in range(500)], concurrency=200,
             sources=source_addrs(8))
    warm_ended = wait_for(lambda: all_let_go(srv), 10)
    time.sleep(1)
    fds0, rss0 = srv.fds(), srv.rss()
    socks0 = srv.open_sockets()
    tap.ok(warm_ended, "the warm-up's polls, streams and WebSockets were all let go",
           json.dumps(srv.stats()["transports"]))

    stop = threading.Event()
    published = []

    def publisher():
        c = http.client.HTTPConnection(srv.host, srv.http_port, timeout=10)
        while not stop.is_set():
            c.request("POST", "/api/rooms/%s/messages" % ROOM,
                      json.dumps({"user": "pub", "text": "during churn"}),
                      {"Content-Type": "application/json"})
            r = c.getresponse()
            published.append((r.status, json.loads(r.read()).get("id")))
            time.sleep(0.01)
        c.close()

    th = threading.Thread(target=publisher)
    th.start()
    done = [0]

    def tick(t):
        done[0] += 1
        if done[0] % 1000 == 0:
            progress("churn: %d of %d connections" % (done[0], CONNECTIONS))

    t0 = time.monotonic()
    batch = []
    failed = 0
    for i in range(CONNECTIONS):
        last = published[-1][1] if published else 20
        batch.append(talks(srv, rng, last or 20))
        if len(batch) == 2000:
            failed += wire.run(batch, concurrency=400, sources=source_addrs(8), on_done=tick)
            batch = []
    failed += wire.run(batch, concurrency=400, sources=source_addrs(8), on_done=tick)
    secs = time.monotonic() - t0
    stop.set()
    th.join(10)

    tap.ok(failed == 0, "all %d connections were made" % CONNECTIONS, "%d failed" % failed)
    ids = [i for s, i in published if s == 201]
    tap.ok(len(ids) == len(published) and ids == sorted(ids) and
           ids == list(range(ids[0], ids[0] + len(ids))),
           "every publish during the churn was stored, with contiguous ids (%d)" % len(ids),
           str([p for p in published if p[0] != 201][:5]))

    wait_for(lambda: srv.fds() == fds0 and all_let_go(srv), 15)
    fds1, rss1 = srv.fds(), srv.rss()
    t = srv.stats()["transports"]
    tap.ok(t["long_poll"]["waiting"] == 0, "no long poll left waiting",
           "waiting %d" % t["long_poll"]["waiting"])
    tap.ok(t["sse"]["connections"] == 0 and t["ws"]["connections"] == 0,
           "no SSE stream or WebSocket left connected",
           "sse %d ws %d" % (t["sse"]["connections"], t["ws"]["connections"]))
    tap.ok(fds1 == fds0, "open fds exactly at the baseline (%d, now %d)" % (fds0, fds1),
           "at the baseline:\n%s\nnow:\n%s" % ("\n".join(socks0), "\n".join(srv.open_sockets())))
    tap.memory(rss1 - rss0 < RSS_BOUND, "RSS within %d MiB of the baseline" % (RSS_BOUND >> 20),
           "%.1f -> %.1f MiB" % (rss0 / 2**20, rss1 / 2**20))
    status, page = srv.page(ROOM, since=ids[-1] - 1)
    tap.ok(status == 200 and [m["id"] for m in page["messages"]] == [ids[-1]],
           "afterwards the room answers a poll with its newest message")
    tap.note("figure: churn: %d connections in %.1f s (a third each clean, reset, vanished "
             "mid-request) over 4 transports, %d publishes meanwhile; fds %d -> %d; RSS %.1f -> "
             "%.1f MiB" % (CONNECTIONS, secs, len(ids), fds0, fds1, rss0 / 2**20, rss1 / 2**20))
    tap.ok(srv.stop() == 0, "the server stops cleanly (exit 0)")
    tap.done()


if __name__ == "__main__":
    main()
