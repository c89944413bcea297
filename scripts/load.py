#!/usr/bin/env python3
"""A small load tool for pushlab-server, stdlib only, for the server's own
figures before and beside pushlab-bench.

  load.py idle   --http 8080 --ws 8081 --conns 10000 --seconds 10
      holds idle SSE, long-poll and WebSocket connections (a third each) and
      prints the server's CPU and memory per connection while they idle.
  load.py fanout --http 8080 --ws 8081 --transport sse|ws|long-poll
                 --subs 1000 --rate 50 --seconds 10
      subscribers read as fast as they can while one publisher posts at
      `rate`; prints deliveries and the server's CPU per 1000 deliveries.

The server's CPU comes from /proc/PID/stat (PID found from the port), so the
figures are the kernel's, not this script's."""
import argparse, base64, json, os, selectors, socket, subprocess, sys, time

TICK = os.sysconf("SC_CLK_TCK")

def server_pid(port):
    out = subprocess.run(["ss", "-Hltnp", f"sport = :{port}"], capture_output=True, text=True).stdout
    return int(out.split("pid=")[1].split(",")[0])

def cpu_s(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / TICK

def rss(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024

def sources(i):
    # Past ~28,000 sockets one source address runs out of ports.
    return ("127.0.0.%d" % (1 + i // 20000), 0)

def open_conn(i, port, request):
    s = socket.socket()
    s.bind(sources(i))
    s.connect(("127.0.0.1", port))
    s.sendall(request)
    s.setblocking(False)
    return s

def ws_request(room):
    key = base64.b64encode(os.urandom(16)).decode()
    return (f"GET /ws/{room} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode()

def request(kind, room, since=None):
    if kind == "ws":
        return ws_request(room)
    path = {"sse": f"/api/rooms/{room}/events", "long-poll": f"/api/rooms/{room}/poll?timeout=60"}[kind]
    if since is not None:
        path += ("&" if "?" in path else "?") + f"since={since}"
    return f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode()

def publish(port, room, text):
    body = json.dumps({"user": "load", "text": text}).encode()
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"POST /api/rooms/%s/messages HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
              b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (room.encode(), len(body), body))
    s.recv(4096)
    s.close()

def idle(a):
    pid = server_pid(a.http)
    rss0 = rss(pid)
    kinds = a.kinds.split(",")
    conns = []
    for i in range(a.conns):
        k = kinds[i % len(kinds)]
        conns.append(open_conn(i, a.ws if k == "ws" else a.http, request(k, "idle")))
        if i % 1000 == 999:
            print(f"\ropened {i + 1}", end="", file=sys.stderr)
    time.sleep(2)
    for s in conns:
        try:
            s.recv(65536)
        except BlockingIOError:
            pass
    rss1 = rss(pid)
    c0 = cpu_s(pid)
    time.sleep(a.seconds)
    c1 = cpu_s(pid)
    print(f"\n{a.conns} idle connections (SSE, long poll, WebSocket: a third each) for {a.seconds} s")
    print(f"server CPU: {100 * (c1 - c0) / a.seconds:.2f} % of a core")
    print(f"server RSS: {rss0 / 1e6:.1f} MB before, {rss1 / 1e6:.1f} MB with them: "
          f"{(rss1 - rss0) / a.conns:.0f} bytes per connection")

def fanout(a):
    pid = server_pid(a.http)
    sel = selectors.DefaultSelector()
    room = f"fan{os.getpid()}"
    kind = a.transport
    for i in range(a.subs):
        s = open_conn(i, a.ws if kind == "ws" else a.http, request(kind, room, 0 if kind == "long-poll" else None))
        sel.register(s, selectors.EVENT_READ, {"i": i, "since": 0, "buf": b""})
    time.sleep(1)
    got = 0
    c0 = cpu_s(pid)
    t0 = time.monotonic()
    n = 0
    next_pub = t0
    while time.monotonic() - t0 < a.seconds or time.monotonic() - t0 < a.seconds + 1:
        now = time.monotonic()
        if now >= next_pub and now - t0 < a.seconds:
            n += 1
            publish(a.http, room, "x" * 128)
            next_pub += 1 / a.rate
        for key, _ in sel.select(timeout=max(0, next_pub - time.monotonic())):
            s, d = key.fileobj, key.data
            try:
                data = s.recv(262144)
            except BlockingIOError:
                continue
            if not data:
                sel.unregister(s)
                continue
            if kind == "sse":
                got += data.count(b"\nevent: message\n")
            elif kind == "ws":
                got += data.count(b'{"type":"message"')
            else:
                d["buf"] += data
                if d["buf"].endswith(b"}"):
                    body = d["buf"].split(b"\r\n\r\n", 1)[1]
                    page = json.loads(body)
                    got += len(page["messages"])
                    d["since"] = page["last_id"]
                    d["buf"] = b""
                    s.sendall(request("long-poll", room, d["since"]))
    c1 = cpu_s(pid)
    print(f"{kind}: {a.subs} subscribers, {n} messages at {a.rate}/s: {got} deliveries of {n * a.subs}")
    print(f"server CPU {c1 - c0:.3f} s: {1000 * 1000 * (c1 - c0) / max(got, 1):.2f} ms per 1000 deliveries")

p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
p.add_argument("mode", choices=["idle", "fanout"])
p.add_argument("--http", type=int, default=8080)
p.add_argument("--ws", type=int, default=8081)
p.add_argument("--conns", type=int, default=10000)
p.add_argument("--subs", type=int, default=1000)
p.add_argument("--rate", type=float, default=50)
p.add_argument("--seconds", type=float, default=10)
p.add_argument("--kinds", default="sse,long-poll,ws")
p.add_argument("--transport", default="sse", choices=["sse", "ws", "long-poll"])
a = p.parse_args()
idle(a) if a.mode == "idle" else fanout(a)
