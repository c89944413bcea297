"""The deploy figures scripts/figures.py writes: what TLS through nginx
costs per message (docs/figures/tls.json, from scripts/tls_figures.py),
rendered into docs/deploy.md and the cheat sheet."""

TLS_ARGS = ["--subscribers", "100", "--rate", "20", "--duration", "5", "--threads", "1"]
NAMES = {"short_poll": "short polling", "long_poll": "long polling", "sse": "SSE", "ws": "WebSocket"}
MODES = [("direct", "direct"), ("nginx-http", "nginx, HTTP"), ("nginx-https", "nginx, TLS")]


def _runs(f):
    """{(mode, transport): (run, bench result)} of the committed TLS runs."""
    out = {}
    for run in f.data["tls"]["json"]["runs"]:
        for r in run["bench"]["results"]:
            out[(run["mode"], r["transport"])] = (run, r)
    return out


def _fmt(x, digits=1):
    return "n/a" if x is None else ("%." + str(digits) + "f") % x


def tls_table(f):
    runs = _runs(f)
    lines = ["| transport | reached | bytes in per message | bench CPU per delivery | "
             "nginx CPU per 1,000 | server CPU per 1,000 | p50 / p99 |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for t, name in NAMES.items():
        for mode, label in MODES:
            run, r = runs[(mode, t)]
            lat = "%.1f / %.1f ms" % (r["latency_us"]["p50"] / 1000, r["latency_us"]["p99"] / 1000)
            nginx = "-" if mode == "direct" else _fmt(run["nginx_cpu_ms_per_1000"], 0) + " ms"
            lines.append("| %s | %s | %s B | %s µs | %s | %s ms | %s |" % (
                name, label, _fmt(r["bytes_in_per_msg"]), _fmt(r["bench_cpu_us_per_delivery"]),
                nginx, _fmt(r.get("server_cpu_ms_per_1000")), lat))
    doc = f.data["tls"]["json"]
    lines.append("")
    lines.append("Measured %s on a %d-core machine by `scripts/tls_figures.py`: one server, one "
                 "nginx with docs/deploy/pushlab.conf, and for each transport alone `pushlab-bench "
                 "%s` against each way in." % (doc["date"], doc["nproc"], " ".join(TLS_ARGS)))
    return "\n".join(lines) + "\n"


def tls_summary(f):
    """One sentence per streaming transport: what TLS adds."""
    runs = _runs(f)
    parts = []
    for t in ("sse", "ws"):
        plain, tls = runs[("nginx-http", t)][1], runs[("nginx-https", t)][1]
        pr, tr = runs[("nginx-http", t)][0], runs[("nginx-https", t)][0]
        parts.append("%s %+.0f B and %+.1f µs of client CPU per message, nginx %+.0f ms per 1,000" % (
            NAMES[t], tls["bytes_in_per_msg"] - plain["bytes_in_per_msg"],
            tls["bench_cpu_us_per_delivery"] - plain["bench_cpu_us_per_delivery"],
            tr["nginx_cpu_ms_per_1000"] - pr["nginx_cpu_ms_per_1000"]))
    return "TLS through nginx, against plain HTTP through the same nginx: " + "; ".join(parts) + ".\n"


RENDERERS = {"tls-table": tls_table, "tls-summary": tls_summary}
