"""Many short raw TCP conversations at once, for the garbage and churn
tests: each opens a socket (from a rotating loopback source address),
sends its chunks, then reads until the server closes or stays silent, and
ends with a clean close or a reset (SO_LINGER 0). One selector, no threads.
Python 3 standard library only."""
import errno
import selectors
import socket
import struct
import time

LINGER0 = struct.pack("ii", 1, 0)
STUCK_S = 10


class Talk:
    """One conversation. `chunks` are sent in order; a chunk that is None
    means "wait for the server's first bytes, then go on". `end` is 'close'
    (FIN), 'reset' (RST right after sending) or 'read' (read until the server
    closes or is silent for `idle` s, or `hold` s have passed, then close;
    with `rst`, by a reset)."""

    def __init__(self, port, chunks, end="read", idle=0.25, hold=None, rst=False):
        self.port, self.chunks, self.end, self.idle, self.hold = port, list(chunks), end, idle, hold
        self.rst = rst
        self.got = b""
        self.error = None
        self.eof = False


def run(talks, concurrency=200, sources=("127.0.0.1",), host="127.0.0.1", on_done=None,
        deadline_s=120):
    """Runs every Talk, `concurrency` at a time. Returns how many could not
    connect. `on_done(talk)` runs as each one ends."""
    sel = selectors.DefaultSelector()
    todo = list(reversed(talks))
    live = {}
    failed = 0
    seq = 0
    stop_at = time.monotonic() + deadline_s

    def finish(sock, t, reset=False):
        nonlocal failed
        try:
            sel.unregister(sock)
        except (KeyError, ValueError):
            pass
        if reset:
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER0)
            except OSError:
                pass
        sock.close()
        live.pop(sock, None)
        if on_done:
            on_done(t)

    def start(t):
        nonlocal seq, failed
        s = socket.socket()
        s.setblocking(False)
        try:
            s.bind((sources[seq % len(sources)], 0))
        except OSError as e:
            t.error = e
            failed += 1
            s.close()
            return
        seq += 1
        rc = s.connect_ex((host, t.port))
        if rc not in (0, errno.EINPROGRESS):
            t.error = OSError(rc, errno.errorcode.get(rc, "?"))
            failed += 1
            s.close()
            return
        t.state, t.buf, t.last = "connect", b"", time.monotonic()
        live[s] = t
        sel.register(s, selectors.EVENT_WRITE, t)

    def refill(t):
        """Moves chunks into the send buffer up to a wait; True when the
        conversation must now wait for the server's first bytes."""
        while t.chunks:
            if t.chunks[0] is None:
                if not t.got:
                    return True
                t.chunks.pop(0)
                continue
            t.buf += t.chunks.pop(0)
        return False

    def after_send(s, t):
        if t.end == "reset":
            finish(s, t, reset=True)
        elif t.end == "close":
            finish(s, t)
        else:
            t.state, t.read_since = "read", time.monotonic()
            sel.modify(s, selectors.EVENT_READ, t)

    def writable(s, t):
        nonlocal failed
        if t.state == "connect":
            err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                t.error = OSError(err, errno.errorcode.get(err, "?"))
                failed += 1
                finish(s, t)
                return
            t.state = "send"
        if not t.buf:
            waiting = refill(t)
            if not t.buf:
                if waiting:
                    t.state = "wait"
                    sel.modify(s, selectors.EVENT_READ, t)
                else:
                    after_send(s, t)
                return
        try:
            t.buf = t.buf[s.send(t.buf):]
        except (BlockingIOError, InterruptedError):
            return
        except OSError as e:  # the server closed it already
            t.error = e
            finish(s, t)
            return
        t.last = time.monotonic()
        if not t.buf and not t.chunks:
            after_send(s, t)

    def readable(s, t):
        try:
            data = s.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as e:
            t.error, data = e, b""
        t.last = time.monotonic()
        if not data:
            t.eof = True
            finish(s, t)
            return
        t.got += data
        if t.state == "wait":
            t.state = "send"
            sel.modify(s, selectors.EVENT_WRITE, t)

    while todo or live:
        while todo and len(live) < concurrency:
            start(todo.pop())
        for key, ev in sel.select(timeout=0.05):
            s, t = key.fileobj, key.data
            if s not in live:
                continue
            if ev & selectors.EVENT_WRITE:
                writable(s, t)
            elif ev & selectors.EVENT_READ:
                readable(s, t)
        now = time.monotonic()
        for s, t in list(live.items()):
            if t.state in ("read", "wait") and (
                    now - t.last > t.idle or
                    (t.hold is not None and t.state == "read" and now - t.read_since > t.hold)):
                finish(s, t, reset=(t.end == "reset" or t.rst))
            elif now - t.last > STUCK_S:  # a connect or a send that never completes
                t.error = TimeoutError("stuck in %s" % t.state)
                failed += 1
                finish(s, t, reset=True)
        if now > stop_at:
            for s, t in list(live.items()):
                t.error = TimeoutError("run deadline")
                finish(s, t, reset=True)
            break
    sel.close()
    return failed
