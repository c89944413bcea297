#!/usr/bin/env python3
"""Kill and restart: the server is killed with SIGKILL while a publisher
posts and clients listen, and started again on the same ports with an
empty store (its ids begin again at 1).

1. `pushlab-client listen` over each transport: each keeps retrying,
   reports the restart on stderr, and prints every message published
   after it exactly once, in order.
2. pushlab-bench (--url, WebSocket, then SSE), killed in the middle of
   its measured window: every subscription reports the restart, nothing
   is duplicated or out of order, and what is lost is only what the old
   server had stored and not yet delivered when it died (at most
   LOST_PER_SUB per subscription).
  test_restart.py SERVER_EXE CLIENT_EXE BENCH_EXE"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Server, Tap, raise_nofile, wait_for

TRANSPORTS = ["short-poll", "long-poll", "sse", "ws"]
BEFORE, AFTER = 100, 100  # messages stored before the kill, and after the restart
DOWN_S = 1.0  # the server stays dead this long, as under a supervisor
LOST_PER_SUB = 5
BENCH_SUBS = 20


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def restart(srv):
    """kill -9, DOWN_S of nothing, then the same binary on the same ports."""
    t0 = time.monotonic()
    srv.proc.send_signal(signal.SIGKILL)
    srv.proc.wait()
    srv.errlog.close()
    time.sleep(DOWN_S)
    for _ in range(50):
        try:
            srv.start(srv.http_port, srv.ws_port)
            return time.monotonic() - t0
        except RuntimeError:
            time.sleep(0.1)
    raise RuntimeError("could not start again on the same ports")


class Listener:
    """pushlab-client listen, its NDJSON stdout and its stderr lines."""

    def __init__(self, client, srv, transport, room):
        self.transport = transport
        self.msgs, self.err = [], []
        self.proc = subprocess.Popen(
            [client, "listen", "--url", "http://127.0.0.1:%d" % srv.http_port, "--room", room,
             "--transport", transport, "--since", "0", "--json", "--interval", "200"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        threading.Thread(target=self._read, args=(self.proc.stdout, True), daemon=True).start()
        threading.Thread(target=self._read, args=(self.proc.stderr, False), daemon=True).start()

    def _read(self, f, out):
        for line in f:
            if out:
                o = json.loads(line)
                if "id" in o:
                    self.msgs.append((o["id"], o["text"]))
            else:
                self.err.append(line.rstrip())

    def texts(self, prefix):
        return [t for _, t in self.msgs if t.startswith(prefix)]

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class Publisher(threading.Thread):
    """Posts "m-<n>" every `period` s until stopped, across the kill; tells
    the two servers' messages apart by their ids starting over."""

    def __init__(self, srv, room, period):
        super().__init__(daemon=True)
        self.srv, self.room, self.period = srv, room, period
        self.lives = [[]]  # (id, text) stored, per server life
        self.failed = 0
        self.stop = threading.Event()

    def run(self):
        n = 0
        while not self.stop.is_set():
            try:
                status, msg = self.srv.publish(self.room, "m-%d" % n)
                if status == 201:
                    if self.lives[-1] and msg["id"] <= self.lives[-1][-1][0]:
                        self.lives.append([])
                    self.lives[-1].append((msg["id"], msg["text"]))
                else:
                    self.failed += 1
            except (OSError, ValueError):
                self.failed += 1  # the server is down
            n += 1
            time.sleep(self.period)


def clients(tap, srv, client):
    room = "restart-cli"
    listeners = [Listener(client, srv, t, room) for t in TRANSPORTS]
    pub = Publisher(srv, room, 0.02)
    pub.start()
    # Killed while the publisher posts: some messages are stored and never
    # delivered, some publishes fail while the server is down.
    wait_for(lambda: len(pub.lives[0]) >= BEFORE, 20)
    down = restart(srv)
    wait_for(lambda: len(pub.lives) == 2 and len(pub.lives[1]) >= AFTER, 30)
    pub.stop.set()
    pub.join(10)
    old = [t for _, t in pub.lives[0]]
    new = [t for _, t in pub.lives[1]] if len(pub.lives) > 1 else []
    wait_for(lambda: all(l.texts("m")[-len(new):] == new for l in listeners), 30)
    for l in listeners:
        l.stop()
    lost_at_kill = {}
    for l in listeners:
        got = l.texts("m")
        restarted = [e for e in l.err if "restarted" in e]
        got_old, got_new = got[:len(got) - len(new)], got[len(got) - len(new):]
        lost_at_kill[l.transport] = len(old) - len(got_old)
        tap.ok(len(pub.lives) == 2 and got_new == new,
               "listen --transport %s: every message stored after the restart (%d), once, in "
               "order" % (l.transport, len(new)), "got %s...; stderr: %s" % (
                   got_new[:5], " | ".join(l.err[-5:])))
        tap.ok(len(restarted) == 1 and got_old == old[:len(got_old)],
               "listen --transport %s: reports the restart once; before it, a gapless prefix of "
               "what the old server stored" % l.transport,
               "restart lines %s; old got %d of %d" % (restarted, len(got_old), len(old)))
    tap.note("figure: restart (CLI): killed, down %.2f s; the old server stored %d, %d publishes "
             "failed while it was down; stored-but-undelivered at the kill per transport %s; "
             "%d stored after the restart, delivered to all four" % (
                 down, len(old), pub.failed, lost_at_kill, len(new)))


def bench(tap, srv, bench_exe, transport):
    out = os.path.join(tempfile.mkdtemp(prefix="pushlab-rel-bench-"), "run.json")
    proc = subprocess.Popen(
        [bench_exe, "--url", "http://127.0.0.1:%d" % srv.http_port, "--transports", transport,
         "--subscribers", str(BENCH_SUBS), "--rate", "50", "--warmup", "1", "--duration", "8",
         "--quiet", "--json", out], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(4.5)  # into the measured window
    down = restart(srv)
    text, _ = proc.communicate(timeout=90)
    try:
        with open(out) as f:
            r = json.load(f)["results"][0]
    except (OSError, ValueError, KeyError, IndexError) as e:
        tap.ok(False, "pushlab-bench --transports %s finished with a report" % transport,
               "%s\n%s" % (e, text))
        return
    tap.ok(proc.returncode == 0 and r["restarts"] == BENCH_SUBS,
           "pushlab-bench --transports %s: all %d subscriptions report the restart" % (
               transport, BENCH_SUBS), "exit %s, restarts %s\n%s" % (proc.returncode,
                                                                      r.get("restarts"), text))
    tap.ok(r["duplicated"] == 0 and r["out_of_order"] == 0 and
           r["lost"] <= LOST_PER_SUB * BENCH_SUBS,
           "pushlab-bench --transports %s: no duplicate, none out of order, lost only what died "
           "with the old server (<= %d per subscription)" % (transport, LOST_PER_SUB),
           "delivered %d of %d, lost %d, dup %d, ooo %d" % (
               r["delivered"], r["expected"], r["lost"], r["duplicated"], r["out_of_order"]))
    tap.note("figure: restart (bench %s): down %.2f s; %d subscribers restarted; published %d, "
             "publish_failed %d, delivered %d of %d, lost %d" % (
                 transport, down, r["restarts"], r["published"], r["publish_failed"],
                 r["delivered"], r["expected"], r["lost"]))


def main():
    raise_nofile()
    server, client, bench_exe = sys.argv[1:4]
    tap = Tap()
    srv = Server(server, http_port=free_port(), ws_port=free_port())
    clients(tap, srv, client)
    for t in ("ws", "sse"):
        bench(tap, srv, bench_exe, t)
    tap.ok(srv.stop() == 0, "the restarted server stops cleanly (exit 0)")
    tap.done()


if __name__ == "__main__":
    main()
