"""The pushlab-against-nchan figures scripts/figures.py writes: one
`pushlab-bench --target pushlab,nchan` run per load (docs/figures/vs-nchan-*.json
with the table it printed), rendered into the cheat sheet and the README."""

NAMES = {"short_poll": "short polling", "long_poll": "long polling", "sse": "SSE", "ws": "WebSocket"}
LOADS = [("vs-nchan-1k", "1,000"), ("vs-nchan-10k", "10,000")]
BENCH_RUNS = [
    ("vs-nchan-1k", ["--target", "pushlab,nchan", "--subscribers", "1000", "--rate", "10",
                     "--duration", "5"]),
    ("vs-nchan-10k", ["--target", "pushlab,nchan", "--subscribers", "10000", "--rate", "2",
                      "--duration", "5"]),
]
# --threads at a load that saturated one subscriber thread while the client's
# WebSocket side was lws: WebSocket, 1,000 subscribers, 60 messages per
# second (60,000 deliveries a second).
THREADS = [1, 2, 4]
THREAD_LOAD = ["--transports", "ws", "--subscribers", "1000", "--rate", "60", "--duration", "5"]
BENCH_RUNS += [("threads-%d" % n, THREAD_LOAD + ["--threads", str(n)]) for n in THREADS]
ARGS = dict(BENCH_RUNS)


def _fmt(x, digits=1):
    return "n/a" if x is None else ("%." + str(digits) + "f") % x


def _ms(us):
    v = us / 1000.0
    return "%.0f ms" % v if v >= 10 else "%.1f ms" % v


def _mib(b):
    return "n/a" if b is None else "%.1f MiB" % (b / 1048576.0)


def _results(f, run):
    """{(target, transport): result} of one committed run."""
    return {(r.get("target", "pushlab"), r["transport"]): r for r in f.data[run]["json"]["results"]}


def vs_nchan_table(f):
    lines = []
    for run, load in LOADS:
        res = _results(f, run)
        p = f.data[run]["json"]["params"]
        env = f.data[run]["json"]["env"]
        lines += ["%s subscribers per transport in one room, %g messages per second, %g s measured "
                  "(%s, %d CPUs, %d subscriber threads):" % (
                      load, p["rate"], p["duration_s"], env["time_utc"][:10], env["cpus"],
                      p["threads"]),
                  "",
                  "```sh",
                  "pushlab-bench " + " ".join(ARGS[run]),
                  "```",
                  "",
                  "| transport | server | delivered / expected | p50 / p99 | server CPU per 1,000 "
                  "deliveries | server memory after | bytes in per message | requests per message |",
                  "| --- | --- | --- | --- | --- | --- | --- | --- |"]
        for t, name in NAMES.items():
            for target in ("pushlab", "nchan"):
                r = res[(target, t)]
                lat = "%s / %s" % (_ms(r["latency_us"]["p50"]), _ms(r["latency_us"]["p99"]))
                cpu = r.get("server_cpu_ms_per_1000")
                lines.append("| %s | %s | %d / %d | %s | %s | %s | %s B | %s |" % (
                    name, target, r["delivered"], r["expected"], lat,
                    "n/a" if cpu is None else _fmt(cpu) + " ms", _mib(r.get("server_rss_bytes")),
                    _fmt(r["bytes_in_per_msg"]), _fmt(r["http_requests_per_msg"], 3)))
        lines.append("")
    res = _results(f, LOADS[0][0])
    lines.append(
        "Server CPU and memory: pushlab's own `GET /api/stats` (one process); nchan's from "
        "`/proc` of the nginx the bench started (its master and one worker per CPU, RSS summed, "
        "CPU in 10 ms clock ticks). Each transport runs against a fresh server, on a shared "
        "2-core VM where other jobs ran beside the bench (only benches take the heavy lock). "
        "nchan answers an interval poll with one message per response, so it took %s requests "
        "per message where pushlab's page carries every message since the cursor (%s); at this "
        "rate each long poll wakes once per message on both." % (
            _fmt(res[("nchan", "short_poll")]["http_requests_per_msg"], 3),
            _fmt(res[("pushlab", "short_poll")]["http_requests_per_msg"], 3)))
    return "\n".join(lines) + "\n"


def readme_vs_nchan(f):
    run, load = LOADS[0]
    res = _results(f, run)
    parts = []
    for t in ("long_poll", "sse", "ws"):
        a, b = res[("pushlab", t)], res[("nchan", t)]
        parts.append("%s p50 %s against %s, server CPU %s against %s ms per 1,000" % (
            NAMES[t], _ms(a["latency_us"]["p50"]), _ms(b["latency_us"]["p50"]),
            _fmt(a.get("server_cpu_ms_per_1000")), _fmt(b.get("server_cpu_ms_per_1000"))))
    return ("pushlab-server against nchan on this machine, %s subscribers per transport "
            "(`pushlab-bench %s`): %s. Every transport, memory, bytes and requests per message: "
            "[the cheat sheet](docs/cheatsheet.md#pushlab-against-nchan).\n") % (
        load, " ".join(ARGS[run]), "; ".join(parts))


def threads_table(f):
    lines = ["WebSocket, 1,000 subscribers, 60 messages per second, 5 s measured, with 1, 2 and 4 "
             "subscriber threads (the publisher has its own):", "", "```sh"]
    lines += ["pushlab-bench " + " ".join(ARGS["threads-%d" % n]) for n in THREADS]
    lines += ["```", "",
              "| threads | delivered / expected | p50 / p99 | p99 against the schedule | bench CPU "
              "per delivery | bench CPU, share of one core | server CPU per 1,000 |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    for n in THREADS:
        r = f.data["threads-%d" % n]["json"]["results"][0]
        lines.append("| %d | %d / %d | %s / %s | %s | %s µs | %s %% | %s ms |" % (
            n, r["delivered"], r["expected"], _ms(r["latency_us"]["p50"]),
            _ms(r["latency_us"]["p99"]), _ms(r["latency_intended_us"]["p99"]),
            _fmt(r["bench_cpu_us_per_delivery"]), _fmt(100 * r["bench_cpu_share"], 0),
            _fmt(r.get("server_cpu_ms_per_1000"))))
    lines += ["", "The bench's CPU is its process's, every thread counted, over the window with "
              "its drain: a loop that falls behind stretches the window, so a saturated one shows "
              "less than a whole core. The server shares this machine's 2 cores with the bench."]
    return "\n".join(lines) + "\n"


RENDERERS = {"vs-nchan-table": vs_nchan_table, "readme-vs-nchan": readme_vs_nchan,
             "threads-table": threads_table}
