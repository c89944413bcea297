#!/usr/bin/env python3
"""pushlab-bench holds 18,000 subscribers (issue 10, bug 2): against one
pushlab-server started with --max-connections 19000, WebSocket twice back to
back (the second finds the first's TIME_WAIT), then SSE and long polling,
18,000 subscribers each at 1 msg/s for 10 s. Every subscription opens,
every message arrives, the server's CPU is reported. Suite 'load' (not in a
plain `meson test`; scripts/test.sh runs it under /tmp/pushlab-heavy.lock).
Usage: test_load.py <pushlab-bench> <pushlab-server>"""
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

SUBS = 18000
NOFILE = 20000
# PUSHLAB_LOAD_RUNS=ws,sse: fewer runs, e.g. to see one fail without a fix
RUNS = os.environ.get("PUSHLAB_LOAD_RUNS", "ws,ws,sse,long_poll").split(",")

checks = 0


def ok(cond, what):
    global checks
    checks += 1
    print(("ok" if cond else "not ok"), checks, "-", what, flush=True)
    return cond


def time_wait():
    with open("/proc/net/tcp") as f:
        return sum(1 for line in f if line.split()[3:4] == ["06"])


def start_server(server, tmp):
    out = open(os.path.join(tmp, "server.out"), "w+")
    p = subprocess.Popen([server, "--http-port", "0", "--ws-port", "0",
                          "--max-connections", "19000"], stdout=out,
                         stderr=subprocess.DEVNULL)
    for _ in range(100):
        out.seek(0)
        line = out.readline()
        if line.startswith("pushlab-server listening"):
            return p, line.split("http=")[1].split()[0]
        if p.poll() is not None:
            break
        subprocess.run(["sleep", "0.1"])
    p.kill()
    sys.exit("pushlab-server did not start")


def run(bench, url, transport, tmp, n):
    js = os.path.join(tmp, "%d-%s.json" % (n, transport))
    tw = time_wait()
    t0 = time.monotonic()
    p = subprocess.run([bench, "--url", url, "--transports", transport,
                        "--subscribers", str(SUBS), "--rate", "1",
                        "--duration", "10", "--quiet", "--json", js],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       text=True, timeout=400)
    wall = time.monotonic() - t0
    for line in p.stderr.splitlines()[:10]:
        print("#", line)
    if not ok(p.returncode == 0, "%s run %d: bench exits 0" % (transport, n)):
        return
    r = json.load(open(js))["results"][0]
    print("# %s run %d (%d sockets in TIME_WAIT before): open %d failed %d "
          "delivered %d/%d publish_failed %d server_cpu_ms_per_1000 %s "
          "reconnects %d, bench %.1f s in all" % (transport, n, tw, r["subscribers_open"],
                             r["subscribers_failed"], r["delivered"],
                             r["expected"], r["publish_failed"],
                             r["server_cpu_ms_per_1000"], r["reconnects"],
                             wall))
    ok(r["subscribers_failed"] == 0 and r["subscribers_open"] == SUBS,
       "%s run %d: all %d subscriptions open" % (transport, n, SUBS))
    ok(r["published"] == 10 and r["publish_failed"] == 0,
       "%s run %d: every publish stored" % (transport, n))
    ok(r["expected"] == SUBS * r["published"] and
       r["delivered"] == r["expected"] and r["lost"] == 0,
       "%s run %d: every message delivered to every subscriber" %
       (transport, n))
    ok(r["server_cpu_ms_per_1000"] is not None,
       "%s run %d: server CPU per 1000 deliveries reported" % (transport, n))


def main():
    bench, server = sys.argv[1], sys.argv[2]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < NOFILE:
        print("1..0 # SKIP RLIMIT_NOFILE hard limit %d < %d" % (hard, NOFILE))
        return 0
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, NOFILE), hard))
    print("1..%d" % (5 * len(RUNS)), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        srv, url = start_server(server, tmp)
        try:
            for n, t in enumerate(RUNS, 1):
                run(bench, url, t, tmp, n)
        finally:
            srv.terminate()
            srv.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
