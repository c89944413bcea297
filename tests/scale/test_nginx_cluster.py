#!/usr/bin/env python3
"""Three pushlab-servers and Redis behind one real nginx (Debian's, started
on free ports under a temporary prefix) running docs/deploy/
pushlab-cluster.conf: round robin, no stickiness. Long polls land on
another node almost every time; SSE and WebSocket stay where nginx put
them. One node is killed with -9 halfway: every subscriber (pushlab-client
on each transport, and the raw EventSource, WebSocket and long poller)
ends with exactly the ids 1..N. Prints TAP.
Usage: test_nginx_cluster.py PUSHLAB-SERVER PUSHLAB-CLIENT"""
import http.client
import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cluster  # noqa: E402
from cluster import proxy, wait_for  # noqa: E402

SERVER, CLIENT = sys.argv[1:3]
CONF = os.path.join(proxy.ROOT, "docs", "deploy", "pushlab-cluster.conf")
tap = cluster.Tap()


def cluster_site(nodes):
    """The shipped cluster file with this run's ports: every line it
    expects must be there, so a changed file fails here, not silently."""
    def build(plain):
        text = open(CONF).read()
        subs = [("listen 80;", f"listen 127.0.0.1:{plain};")]
        for i, n in enumerate(nodes):
            subs.append((f"server 127.0.0.1:{8080 + 10 * i} ", f"server 127.0.0.1:{n.http_port} "))
            subs.append((f"server 127.0.0.1:{8081 + 10 * i} ", f"server 127.0.0.1:{n.ws_port} "))
        for old, new in subs:
            if old not in text:
                raise RuntimeError(f"{CONF} no longer has '{old}'")
            text = text.replace(old, new)
        return text
    return build


class ProxiedLongPoller(cluster.LongPoller):
    """Long polls through nginx, noting which node answered each."""

    def __init__(self, port, room):
        super().__init__("long poll through nginx", [port], room)
        self.upstreams = []

    def once(self, port):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            c.request("GET", f"/api/rooms/{self.room}/poll?since={self.cursor}&timeout=5")
            r = c.getresponse()
            body = r.read()
        finally:
            c.close()
        if r.status != 200:
            raise ValueError(r.status)
        self.upstreams.append(r.getheader("X-Pushlab-Upstream", ""))
        self.ids += [m["id"] for m in json.loads(body)["messages"]]


def upstreams_of_polls(port, room, count):
    """Which node answered each of `count` long polls in a row (timeout=0:
    each answers at once), with nothing else going through nginx."""
    out = []
    for _ in range(count):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        c.request("GET", f"/api/rooms/{room}/poll?since=0&timeout=0")
        r = c.getresponse()
        r.read()
        out.append(r.getheader("X-Pushlab-Upstream", ""))
        c.close()
    return out


def upstream_of(head):
    """The node nginx put a stream on (its X-Pushlab-Upstream), or ''."""
    for line in head.split("\r\n"):
        name, _, value = line.partition(":")
        if name.lower() == "x-pushlab-upstream":
            return value.split(",")[-1].strip()
    return ""


def listen(base, room, transport, n):
    return subprocess.Popen([CLIENT, "--url", base, "--room", room, "--transport", transport,
                             "--since", "0", "--count", str(n), "--json", "--quiet",
                             "--interval", "200", "--heartbeat", "2", "listen"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def main():
    folder = cluster.tempdir()
    redis = cluster.Redis(folder)
    nodes = [cluster.Node(SERVER, redis, "--trust-proxy", "--heartbeat", "2") for _ in range(3)]
    ng = proxy.Nginx(folder, None, site=cluster_site(nodes))
    base, room, n = f"http://127.0.0.1:{ng.plain}", "hall", 40
    ups = upstreams_of_polls(ng.plain, room, 30)
    moves = sum(1 for a, b in zip(ups, ups[1:]) if a != b)
    tap.check("long polls in a row land on another node almost every time (round robin)",
              moves >= 0.9 * (len(ups) - 1) and len(set(ups)) == 3, ups)
    clients = {t: listen(base, room, t, n) for t in ("sse", "ws", "long-poll", "short-poll")}
    raw = [cluster.EventSource("eventsource through nginx", [ng.plain], room),
           cluster.WebSocket("websocket through nginx", [ng.plain], [ng.plain], room),
           ProxiedLongPoller(ng.plain, room)]
    try:
        for s in raw:
            s.start()
        time.sleep(1.0)
        # The node killed is the one nginx put the raw EventSource on, so
        # at least one stream must move to another node.
        wait_for(lambda: raw[0].heads and raw[1].heads, 10)
        first = {s.name: upstream_of(s.heads[0]) for s in raw[:2]}
        ports = [f"127.0.0.1:{x.http_port}" for x in nodes]
        victim = ports.index(first[raw[0].name]) if first[raw[0].name] in ports else 0
        pub = cluster.Publisher([ng.plain], room)
        for k in range(1, n + 1):
            pub.send(k)
            if k == n // 2:
                nodes[victim].kill()
            time.sleep(0.05)
        tap.check("every publish through nginx was acknowledged, ids 1..N",
                  sorted(pub.acked) == list(range(1, n + 1)), sorted(pub.acked))
        for t, p in clients.items():
            try:
                out, err = p.communicate(timeout=40)
            except subprocess.TimeoutExpired:
                p.kill()
                out, err = p.communicate()
            ids = [json.loads(x)["id"] for x in out.splitlines() if x.startswith('{"id"')]
            tap.check(f"pushlab-client {t} through nginx: exactly ids 1..{n}",
                      ids == list(range(1, n + 1)), f"{ids}\n{err[-600:]}")
        wait_for(lambda: all(len(s.ids) >= n for s in raw), 30)
        for s in raw:
            tap.check(f"{s.name}: exactly ids 1..{n}", s.ids == list(range(1, n + 1)), s.ids)
        later = [upstream_of(h) for h in raw[0].heads[1:]]
        tap.check("the EventSource was on the node killed and went on on another",
                  first[raw[0].name] == ports[victim] and later and
                  all(u and u != ports[victim] for u in later), (first, later))
        ups = [u.split(",")[-1].strip() for u in raw[2].upstreams if u]
        tap.check("the long poller among the others was answered by all three nodes",
                  len(set(ups)) >= 3, set(ups))
    finally:
        for s in raw:
            s.stopping = True
        for p in clients.values():
            if p.poll() is None:
                p.kill()
                p.wait()
        ng.stop()
        for x in nodes:
            x.stop()
        redis.stop()
        shutil.rmtree(folder, ignore_errors=True)
    return tap.finish()


if __name__ == "__main__":
    sys.exit(main())
