#!/usr/bin/env python3
"""Out of descriptors: the server's fd limit is lowered (prlimit) to a few
above what it holds, and WebSockets are opened until one gets no answer.
That one waits in the listener's queue; meanwhile the server must not spin
on a listener that stays readable, and once peers leave it must take the
waiting one, which then gets the next message like any other peer.
  test_fdlimit.py SERVER_EXE"""
import os
import resource
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Server, Tap, wait_for, ws_handshake

HEADROOM = 6  # descriptors left to the server above its idle count
WAIT_S = 2.0  # how long the queued one waits while the server is full
SPIN_CPU_S = 0.5  # a listener polled in a loop burns about WAIT_S of CPU
ROOM = "fdlimit"


def read_until(sock, marker, timeout):
    """What arrived up to and including `marker`, or None when the peer
    closed or `timeout` seconds passed first."""
    sock.settimeout(timeout)
    got = b""
    try:
        while marker not in got:
            chunk = sock.recv(4096)
            if not chunk:
                return None
            got += chunk
    except socket.timeout:
        return None
    return got


def answered(sock, timeout):
    """True when the handshake's 101 came within `timeout` seconds."""
    head = read_until(sock, b"\r\n\r\n", timeout)
    return head is not None and head.startswith(b"HTTP/1.1 101")


def dial(port):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(ws_handshake(ROOM))
    return s


def received(sock, text, timeout=5):
    """True when a frame carrying `text` arrived within `timeout` seconds."""
    return read_until(sock, text.encode(), timeout) is not None


def main():
    tap = Tap()
    srv = Server(sys.argv[1])
    _, hard = resource.prlimit(srv.pid, resource.RLIMIT_NOFILE)
    resource.prlimit(srv.pid, resource.RLIMIT_NOFILE, (srv.fds() + HEADROOM, hard))
    peers, queued = [], None
    while queued is None and len(peers) < 4 * HEADROOM:
        s = dial(srv.ws_port)
        if answered(s, 1.0):
            peers.append(s)
        else:
            queued = s
    tap.ok(queued is not None and 0 < len(peers) <= HEADROOM,
           "WebSockets are accepted up to the fd limit and the next one waits",
           "%d accepted, %s" % (len(peers), "one waiting" if queued else "none waiting"))
    if queued is None:
        tap.done()
    cpu0 = srv.cpu_s()
    time.sleep(WAIT_S)
    spent = srv.cpu_s() - cpu0
    tap.ok(spent < SPIN_CPU_S, "a full server does not spin on its readable listener",
           "%.2f s of CPU in %.1f s" % (spent, WAIT_S))
    for s in peers[:3]:
        s.close()
    peers = peers[3:]
    tap.ok(answered(queued, 5.0), "once peers leave, the waiting WebSocket is accepted")
    status = wait_for(lambda: srv.publish(ROOM, "after the limit")[0] == 201, 5)
    tap.ok(status, "a publish is stored once descriptors are free again")
    tap.ok(received(queued, "after the limit"), "the late peer gets the next message")
    tap.ok(all(received(s, "after the limit") for s in peers),
           "the peers accepted before the limit get it too")
    for s in peers + [queued]:
        s.close()
    tap.ok(srv.alive() and srv.stop() == 0, "the server stops cleanly (exit 0)")
    tap.done()


if __name__ == "__main__":
    main()
