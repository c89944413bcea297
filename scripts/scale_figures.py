#!/usr/bin/env python3
"""What sharing rooms over Redis costs: pushlab-bench against one node with
the memory store, one node on Redis, three nodes on one Redis (subscribers
spread over them, the publisher on the first), and three nodes with the
subscribers on two and the publisher on the third (every delivery crosses
nodes). Writes each bench run, its command, and Redis's CPU and PUBLISH
count over the run to one JSON file for docs/scaling.md. A benchmark: run
it alone, e.g.
  flock /tmp/pushlab-heavy.lock scripts/scale_figures.py --out docs/figures/scale.json
"""
import argparse
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "scale"))
import cluster  # noqa: E402

# name, nodes, which nodes the subscribers use, which one the publisher
# uses, and arguments in place of the command line's (the last two: many
# publishes and few deliveries, on one node and on three, for Redis's cost
# per publish and how it grows with the nodes it fans out to)
SETUPS = [("memory-1", 0, [0], 0, {}), ("redis-1", 1, [0], 0, {}),
          ("redis-3", 3, [0, 1, 2], 0, {}), ("cross-node", 3, [1, 2], 0, {}),
          ("publish-heavy-1", 1, [0], 0, {"transports": "ws", "subscribers": 20, "rate": 500}),
          ("publish-heavy", 3, [1, 2], 0, {"transports": "ws", "subscribers": 20, "rate": 500})]
IDLE_S = 3  # Redis's own CPU with the nodes connected and nothing published


def redis_info(redis, section):
    """INFO `section` of `redis` as a dict."""
    with socket.create_connection(("127.0.0.1", redis.port), timeout=5) as s:
        s.sendall(f"INFO {section}\r\n".encode())
        data = b""
        s.settimeout(1)
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
                if data.endswith(b"\r\n\r\n") or len(data) > 1 << 20:
                    break
        except socket.timeout:
            pass
    return dict(line.split(":", 1) for line in data.decode().splitlines() if ":" in line)


def publish_calls(redis):
    """PUBLISH commands run so far: one per stored message (the publish
    script's last step; Redis counts commands run by scripts too)."""
    stat = redis_info(redis, "commandstats").get("cmdstat_publish", "calls=0")
    return int(stat.split(",")[0].split("=")[1])


def bench(args, urls, pub, out, over):
    args = argparse.Namespace(**dict(vars(args), **over))
    cmd = [os.path.join(args.build, "bench", "pushlab-bench")]
    for u in urls:
        cmd += ["--url", u]
    cmd += ["--publish-to", pub, "--transports", args.transports, "--subscribers",
            str(args.subscribers), "--rate", str(args.rate), "--duration", str(args.duration),
            "--warmup", "1", "--quiet", "--json", out]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return cmd, json.load(open(out))


def one(args, folder, name, n_nodes, sub_nodes, pub_node, over):
    server = os.path.join(args.build, "server", "pushlab-server")
    redis = cluster.Redis(os.path.join(folder, name)) if n_nodes else None
    if redis is None:
        nodes = [cluster.proxy.Server(server)]
    else:
        nodes = [cluster.Node(server, redis) for _ in range(n_nodes)]
    try:
        http = [f"http://127.0.0.1:{n.http_port}" for n in nodes]
        idle = 0.0
        if redis:
            idle = redis.info_cpu()
            time.sleep(IDLE_S)
            idle = (redis.info_cpu() - idle) / IDLE_S
        cpu0 = redis.info_cpu() if redis else 0.0
        calls0 = publish_calls(redis) if redis else 0
        print(f"scale_figures: {name} ...", file=sys.stderr)
        t0 = time.monotonic()
        cmd, data = bench(args, [http[i] for i in sub_nodes], http[pub_node],
                          os.path.join(folder, name + ".json"), over)
        wall = time.monotonic() - t0
        run = {"name": name, "nodes": len(nodes), "subscriber_nodes": len(sub_nodes),
               "command": " ".join(cmd), "wall_s": wall, "bench": data}
        if redis:
            run["redis_cpu_s"] = redis.info_cpu() - cpu0
            run["redis_idle_cpu_per_s"] = idle
            run["redis_publishes"] = publish_calls(redis) - calls0
        return run
    finally:
        for n in nodes:
            n.stop()
        if redis:
            redis.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--out", default="docs/figures/scale.json")
    ap.add_argument("--transports", default="sse,ws")
    ap.add_argument("--subscribers", type=int, default=300)
    ap.add_argument("--rate", type=float, default=50)
    ap.add_argument("--duration", type=float, default=5)
    args = ap.parse_args()
    folder = cluster.tempdir()
    runs = []
    try:
        for name, n_nodes, sub_nodes, pub_node, over in SETUPS:
            os.makedirs(os.path.join(folder, name))
            runs.append(one(args, folder, name, n_nodes, sub_nodes, pub_node, over))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    doc = {"what": "pushlab-bench against one node (memory, Redis) and three nodes on one Redis",
           "script": "scripts/scale_figures.py " + " ".join(sys.argv[1:]),
           "redis": subprocess.run(["redis-server", "--version"], stdout=subprocess.PIPE,
                                   text=True).stdout.strip(),
           "date": time.strftime("%Y-%m-%d"), "machine": platform.node(),
           "nproc": os.cpu_count(), "params": vars(args), "idle_s": IDLE_S, "runs": runs}
    with open(args.out, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print(f"scale_figures: wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
