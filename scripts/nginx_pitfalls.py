#!/usr/bin/env python3
"""Two ways a reverse proxy breaks push, shown with a real nginx running
docs/deploy/pushlab.conf with one setting changed, measured by pushlab-bench
against the unchanged config in the same run:

  buffering     nginx buffers SSE anyway (proxy_ignore_headers
                X-Accel-Buffering): events wait in nginx's buffer
  idle-timeout  proxy_read_timeout shorter than the heartbeat: idle
                connections are cut; the client reconnects and resumes

usage: scripts/nginx_pitfalls.py buffering|idle-timeout [--build build]
Starts its own pushlab-server and nginx on free ports; the bench goes
through the TLS listener over HTTP/1.1 (see http1()); prints a table."""
import argparse
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "deploy"))
import proxy  # noqa: E402

CASES = {
    # name: (config edit, server flags, bench flags)
    "buffering": (
        lambda s: s.replace("proxy_pass http://pushlab_http;",
                            "proxy_ignore_headers X-Accel-Buffering;\n"
                            "        proxy_buffering on;\n"
                            "        proxy_pass http://pushlab_http;"),
        [], ["--transports", "sse", "--subscribers", "20", "--rate", "2", "--duration", "5"]),
    "idle-timeout": (
        lambda s: s.replace("proxy_read_timeout 75s;", "proxy_read_timeout 1s;"),
        ["--heartbeat", "15"],
        ["--transports", "sse,ws", "--subscribers", "10", "--rate", "0.5", "--duration", "5"]),
}


def tool(args, sub, name):
    """A program from --build, else from $PATH, else from build/."""
    if args.build:
        return os.path.join(args.build, sub, name)
    return shutil.which(name) or os.path.join(HERE, "..", "build", sub, name)


def http1(site):
    """The TLS listener without HTTP/2, as many proxies still run: HTTP/2
    frames each event itself, HTTP/1.1 over TLS is where buffering bites."""
    return site.replace(" ssl http2;", " ssl;")


def run(args, edit, server_flags, bench_flags):
    folder = proxy.tempdir()
    ca = proxy.make_ca(folder)
    srv = proxy.Server(tool(args, "server", "pushlab-server"), "--trust-proxy",
                       *server_flags)
    ng = proxy.Nginx(folder, srv, edit=lambda s: edit(http1(s)))
    out = os.path.join(folder, "run.json")
    try:
        # Over TLS, as a public demo runs: nginx holds what it buffers in
        # its TLS write buffer too.
        subprocess.run([tool(args, "bench", "pushlab-bench"), "--url",
                        f"https://127.0.0.1:{ng.tls}", "--cacert", ca, *bench_flags, "--warmup", "0.5",
                        "--quiet", "--json", out], check=True, stdout=subprocess.DEVNULL)
        return json.load(open(out))["results"]
    finally:
        ng.stop()
        srv.stop()
        shutil.rmtree(folder, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("case", choices=sorted(CASES))
    ap.add_argument("--build", help="where pushlab-server and pushlab-bench were built "
                    "(default: the ones on $PATH, else build/)")
    args = ap.parse_args()
    edit, server_flags, bench_flags = CASES[args.case]
    rows = [("as shipped", r) for r in run(args, lambda s: s, server_flags, bench_flags)]
    rows += [(args.case, r) for r in run(args, edit, server_flags, bench_flags)]
    print(f"{'nginx config':<14} {'transport':<9} {'delivered':>13} {'lost':>5} {'dup':>4} "
          f"{'reconnects':>10} {'p50 ms':>8} {'p99 ms':>8}")
    for label, r in rows:
        print(f"{label:<14} {r['transport']:<9} {r['delivered']:>6}/{r['expected']:<6} "
              f"{r['lost']:>5} {r['duplicated']:>4} {r['reconnects']:>10} "
              f"{r['latency_us']['p50'] / 1000:>8.1f} {r['latency_us']['p99'] / 1000:>8.1f}")


if __name__ == "__main__":
    main()
