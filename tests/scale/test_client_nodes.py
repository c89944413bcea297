#!/usr/bin/env python3
"""pushlab-client across nodes: three pushlab-servers over one Redis and
`pushlab-client listen --url A,B,C` on SSE, WebSocket and long polling.
Each starts on A; A is killed with -9 halfway through the publishes (made
on B and C); each client moves to the next node with its cursor and ends
with exactly the ids 1..N. Prints TAP.
Usage: test_client_nodes.py PUSHLAB-SERVER PUSHLAB-CLIENT"""
import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cluster  # noqa: E402

SERVER, CLIENT = sys.argv[1:3]
tap = cluster.Tap()
N = 20


def main():
    folder = cluster.tempdir()
    redis = cluster.Redis(folder)
    nodes = [cluster.Node(SERVER, redis, "--heartbeat", "2") for _ in range(3)]
    urls = ",".join(n.http for n in nodes)
    clients = {}
    try:
        for t in ("sse", "ws", "long-poll"):
            clients[t] = subprocess.Popen(
                [CLIENT, "--url", urls, "--room", "hall", "--transport", t, "--since", "0",
                 "--count", str(N), "--json", "--heartbeat", "2", "listen"],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        opened = cluster.wait_for(lambda: sum(
            nodes[0].stats()["transports"][k].get(f, 0) for k, f in
            (("sse", "connections"), ("ws", "connections"), ("long_poll", "waiting"))) == 3, 10)
        tap.check("all three clients start on the first --url", opened)
        for k in range(1, N + 1):
            st, _ = cluster.publish(nodes[1 + k % 2].http_port, "hall", f"m{k}", cid=f"c{k}")
            if st != 201:
                tap.check(f"publish {k} on node {1 + k % 2}", False, st)
            if k == N // 2:
                nodes[0].kill()
            time.sleep(0.05)
        for t, p in clients.items():
            try:
                out, err = p.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                out, err = p.communicate()
            ids = [json.loads(x)["id"] for x in out.splitlines() if x.startswith('{"id"')]
            tap.check(f"pushlab-client {t} moved on with its cursor: exactly ids 1..{N}",
                      ids == list(range(1, N + 1)), f"{ids}\n{err[-600:]}")
    finally:
        for p in clients.values():
            if p.poll() is None:
                p.kill()
                p.wait()
        for n in nodes:
            n.stop()
        redis.stop()
        shutil.rmtree(folder, ignore_errors=True)
    return tap.finish()


if __name__ == "__main__":
    sys.exit(main())
