#!/usr/bin/env python3
"""The soak (scripts/soak.sh; not in CI): one pushlab-server under mixed
load with churn for MINUTES, sampled each minute.

Load, all at once for the whole run:
- pushlab-bench against the server in a loop (--url, all four transports in
  turn, 1,000 subscribers at 20 msg/s), so subscriptions open and close by the
  hundred every couple of minutes and every run reports loss;
- one `pushlab-client listen` per transport on a room that gets a message a
  second for the whole run: at the end each must hold every id, in order;
- churn: 100 connections a second over the four transports (clean closes,
  resets, clients vanishing mid-request) and a few malformed requests.
A first CSV row before the load starts, then one each minute: the
server's RSS, open fds, CPU (per cent of one core over the minute),
connections and counters. At the end the load stops, and 15 s later a
last row shows what is left against the first.
  soak.py SERVER CLIENT BENCH MINUTES OUTDIR"""
import csv
import json
import os
import random
import re
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Server, progress, raise_nofile, source_addrs
import test_churn
import test_garbage
import wire

FIELDS = ["minute", "rss_mib", "fds", "cpu_pct", "sse_connections", "ws_connections",
          "long_polls_waiting", "messages_published", "rooms", "messages_held", "errors",
          "bench_runs", "bench_lost"]


def main():
    raise_nofile()
    server, client, bench_exe, minutes, outdir = sys.argv[1:6]
    minutes = float(minutes)
    os.makedirs(outdir, exist_ok=True)
    srv = Server(server)
    url = "http://127.0.0.1:%d" % srv.http_port
    rows = []
    t0 = t_last = time.monotonic()
    cpu0 = srv.cpu_s()
    stop = threading.Event()
    bench = {"runs": 0, "lost": 0, "dup": 0, "expected": 0, "delivered": 0, "failed": 0}

    def trimmed():
        """Messages the store has dropped from full histories (/metrics)."""
        _, body = srv.request("GET", "/metrics")
        m = re.search(rb"^pushlab_history_trimmed_total (\d+)$", body, re.M)
        return int(m.group(1))

    def sample(minute):
        nonlocal cpu0, t_last
        s = srv.stats()
        # Every bench run opens rooms of its own and the store keeps each
        # room's history (--history, --max-rooms): what it holds, beside RSS.
        held = s["messages_published"] - trimmed()
        now, cpu = time.monotonic(), srv.cpu_s()
        row = {"minute": round(minute, 2), "rss_mib": round(srv.rss() / 2**20, 2),
               "fds": srv.fds(), "cpu_pct": round(100 * (cpu - cpu0) / max(now - t_last, 1), 1),
               "sse_connections": s["transports"]["sse"]["connections"],
               "ws_connections": s["transports"]["ws"]["connections"],
               "long_polls_waiting": s["transports"]["long_poll"]["waiting"],
               "messages_published": s["messages_published"], "rooms": s["rooms"],
               "messages_held": held,
               "errors": sum(s["errors"].values()), "bench_runs": bench["runs"],
               "bench_lost": bench["lost"]}
        cpu0, t_last = cpu, now
        rows.append(row)
        return row

    def bench_loop():
        out = os.path.join(outdir, ".soak-bench.json")
        while not stop.is_set():
            p = subprocess.run([bench_exe, "--url", url, "--subscribers", "1000", "--rate", "20",
                                "--duration", "20", "--warmup", "1", "--quiet", "--json", out],
                               capture_output=True, text=True)
            try:
                with open(out) as f:
                    for r in json.load(f)["results"]:
                        bench["lost"] += r["lost"]
                        bench["dup"] += r["duplicated"]
                        bench["expected"] += r["expected"]
                        bench["delivered"] += r["delivered"]
                bench["runs"] += 1
            except (OSError, ValueError, KeyError):
                bench["failed"] += 1
                sys.stderr.write("soak: a bench run failed: %s\n" % p.stdout[-500:])
        os.unlink(out)

    sample(0)  # idle: the baseline the last row comes back to
    listeners = [subprocess.Popen([client, "listen", "--url", url, "--room", "soak-steady",
                                   "--transport", t, "--since", "0", "--json", "--quiet"],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
                 for t in ("short-poll", "long-poll", "sse", "ws")]
    got = [[] for _ in listeners]

    def read(i):
        for line in listeners[i].stdout:
            o = json.loads(line)
            if "id" in o:
                got[i].append(o["id"])

    for i in range(len(listeners)):
        threading.Thread(target=read, args=(i,), daemon=True).start()
    steady = []

    def steady_publisher():
        n = 0
        while not stop.is_set():
            status, msg = srv.publish("soak-steady", "steady %d" % n)
            if status == 201:
                steady.append(msg["id"])
            n += 1
            stop.wait(1)

    def churn():
        rng = random.Random(1)
        kinds = [("http",) + k for k in test_garbage.http_kinds()] + \
                [("ws",) + k for k in test_garbage.ws_kinds()]
        while not stop.is_set():
            t0 = time.monotonic()
            talks = [test_churn.talks(srv, rng, 1) for _ in range(100)]
            for k in rng.sample(kinds, 3):
                talks.append(wire.Talk(srv.http_port if k[0] == "http" else srv.ws_port, k[2],
                                       k[3]))
            wire.run(talks, concurrency=100, sources=source_addrs(8))
            stop.wait(max(0.0, 1 - (time.monotonic() - t0)))

    threads = [threading.Thread(target=f, daemon=True)
               for f in (bench_loop, steady_publisher, churn)]
    for t in threads:
        t.start()

    minute = 1
    while time.monotonic() - t0 < minutes * 60:
        time.sleep(max(0.0, t0 + minute * 60 - time.monotonic()))
        r = sample(minute)
        progress("soak: minute %d of %d, RSS %.1f MiB, %d fds, CPU %.0f%%" % (
            minute, minutes, r["rss_mib"], r["fds"], r["cpu_pct"]))
        minute += 1
    stop.set()
    for t in threads:
        t.join(120)
    time.sleep(2)  # the listeners read the last steady message
    for p in listeners:
        p.terminate()
        p.wait(10)
    time.sleep(15)
    sample((time.monotonic() - t0) / 60)  # idle again
    rc = srv.stop()
    with open(os.path.join(outdir, "soak.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, FIELDS)
        w.writeheader()
        w.writerows(rows)
    complete = [ids[:len(steady)] == steady for ids in got]
    per_msg = None
    if len(rows) > 4 and rows[-2]["messages_held"] > rows[3]["messages_held"]:
        # RSS per message held, from minute 3 (pools and arenas at their
        # high-water mark by then) to the last minute under load.
        per_msg = round((rows[-2]["rss_mib"] - rows[3]["rss_mib"]) * 2**20 /
                        (rows[-2]["messages_held"] - rows[3]["messages_held"]))
    summary = {
        "minutes": minutes,
        "rss_mib": {"start": rows[0]["rss_mib"], "min": min(r["rss_mib"] for r in rows),
                    "max": max(r["rss_mib"] for r in rows), "end": rows[-1]["rss_mib"]},
        "fds": {"idle_start": rows[0]["fds"], "max": max(r["fds"] for r in rows),
                "idle_end": rows[-1]["fds"]},
        "cpu_pct_mean": round(sum(r["cpu_pct"] for r in rows[1:-1]) / max(1, len(rows) - 2), 1),
        "bench": bench,
        "steady": {"published": len(steady),
                   "complete_per_transport": dict(zip(("short-poll", "long-poll", "sse", "ws"),
                                                      complete))},
        "messages_published": rows[-1]["messages_published"],
        "store": {"rooms": rows[-1]["rooms"], "messages_held": rows[-1]["messages_held"],
                  "rss_bytes_per_message_held_after_minute_3": per_msg},
        "server_exit": rc,
    }
    with open(os.path.join(outdir, "soak-summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")
    print(json.dumps(summary, indent=2))
    ok = (rc == 0 and all(complete) and bench["lost"] == 0 and bench["dup"] == 0 and
          bench["failed"] == 0)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
