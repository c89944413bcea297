#!/usr/bin/env python3
"""What TLS costs per message: pushlab-bench against one pushlab-server
reached directly, through nginx over plain HTTP, and through nginx over TLS
(docs/deploy/pushlab.conf, a CA made for the run). Writes every bench run
and nginx's own CPU per 1,000 deliveries to one JSON file for the docs.
A benchmark: run it alone, e.g.
  flock /tmp/pushlab-heavy.lock scripts/tls_figures.py --out docs/figures/tls.json
"""
import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "deploy"))
import proxy  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def cpu_of_tree(pid):
    """User + system seconds of `pid` and its children (nginx's workers)."""
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / TICK
    return total


def bench(args, url, transport, ca, out):
    cmd = [os.path.join(args.build, "bench", "pushlab-bench"), "--url", url, "--transports",
           transport, "--subscribers", str(args.subscribers), "--rate", str(args.rate),
           "--duration", str(args.duration), "--warmup", "1", "--quiet", "--json", out]
    if url.startswith("https"):
        cmd[3:3] = ["--cacert", ca]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return cmd, json.load(open(out))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--out", default="docs/figures/tls.json")
    ap.add_argument("--transports", default="short-poll,long-poll,sse,ws")
    ap.add_argument("--subscribers", type=int, default=100)
    ap.add_argument("--rate", type=float, default=20)
    ap.add_argument("--duration", type=float, default=5)
    args = ap.parse_args()
    folder = proxy.tempdir()
    ca = proxy.make_ca(folder)
    srv = proxy.Server(os.path.join(args.build, "server", "pushlab-server"), "--trust-proxy")
    ng = proxy.Nginx(folder, srv)
    runs = []
    try:
        for mode, url in (("direct", f"http://127.0.0.1:{srv.http_port}"),
                          ("nginx-http", f"http://127.0.0.1:{ng.plain}"),
                          ("nginx-https", f"https://127.0.0.1:{ng.tls}")):
            for t in args.transports.split(","):
                # One transport per bench run, so nginx's CPU is per transport.
                print(f"tls_figures: {mode} {t} ...", file=sys.stderr)
                before = cpu_of_tree(ng.p.pid)
                cmd, data = bench(args, url, t, ca, os.path.join(folder, f"{mode}-{t}.json"))
                nginx_s = cpu_of_tree(ng.p.pid) - before
                delivered = sum(r["delivered"] for r in data["results"])
                runs.append({"mode": mode, "transport": t, "command": " ".join(cmd),
                             "nginx_cpu_s": nginx_s,
                             "nginx_cpu_ms_per_1000": nginx_s * 1e6 / delivered
                             if delivered else None,
                             "bench": data})
    finally:
        ng.stop()
        srv.stop()
        shutil.rmtree(folder, ignore_errors=True)
    doc = {"what": "pushlab-bench direct, through nginx over HTTP and over TLS",
           "script": "scripts/tls_figures.py " + " ".join(sys.argv[1:]),
           "date": time.strftime("%Y-%m-%d"), "machine": platform.node(),
           "nproc": os.cpu_count(), "runs": runs}
    with open(args.out, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print(f"tls_figures: wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
