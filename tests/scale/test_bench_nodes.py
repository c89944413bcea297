#!/usr/bin/env python3
"""pushlab-bench across nodes: three pushlab-servers over one Redis, the
bench given two of them (--url twice) and the third as --publish-to.
Every subscription lands on one of the two, half on each; every publish on
the third; every message reaches every subscriber once; server CPU is
summed over all three. Prints TAP.
Usage: test_bench_nodes.py PUSHLAB-SERVER PUSHLAB-BENCH"""
import json
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cluster  # noqa: E402
from cluster import get  # noqa: E402

SERVER, BENCH = sys.argv[1:3]
tap = cluster.Tap()
SUBS = 6


def sse_requests(node):
    return node.stats()["transports"]["sse"]["requests"]


def stored(node):
    text = get(node.http_port, "/metrics")[1]
    if isinstance(text, bytes):
        text = text.decode()
    m = re.search(r'^pushlab_publishes_total\{result="stored"\} (\d+)$', text, re.M)
    return int(m.group(1)) if m else -1


def main():
    folder = cluster.tempdir()
    redis = cluster.Redis(folder)
    nodes = [cluster.Node(SERVER, redis) for _ in range(3)]
    try:
        out = os.path.join(folder, "bench.json")
        cmd = [BENCH, "--url", nodes[1].http, "--url", nodes[2].http, "--publish-to",
               nodes[0].http, "--transports", "sse", "--subscribers", str(SUBS), "--rate", "10",
               "--duration", "1", "--warmup", "0.5", "--quiet", "--json", out]
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=120)
        tap.check("the bench ran across three nodes", p.returncode == 0, p.stderr[-800:])
        r = json.load(open(out))["results"][0] if p.returncode == 0 else {}
        tap.check("every message reached every subscriber once, across nodes",
                  r.get("delivered") == r.get("expected") and r.get("expected", 0) > 0 and
                  r.get("duplicated") == 0 and r.get("lost") == 0, r and
                  {k: r[k] for k in ("delivered", "expected", "duplicated", "lost")})
        per_node = [sse_requests(n) for n in nodes]
        tap.check("half the subscriptions on each --url, none on the publisher's node",
                  per_node == [0, SUBS // 2, SUBS // 2], per_node)
        pubs = [stored(n) for n in nodes]
        tap.check("every publish went to --publish-to", pubs[0] > 0 and pubs[1:] == [0, 0], pubs)
        tap.check("server CPU counts every node", r.get("server_cpu_s", 0) > 0,
                  r.get("server_cpu_s"))
    finally:
        for n in nodes:
            n.stop()
        redis.stop()
        shutil.rmtree(folder, ignore_errors=True)
    return tap.finish()


if __name__ == "__main__":
    sys.exit(main())
