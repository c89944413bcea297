"""The scale-out figures scripts/figures.py writes into docs/scaling.md:
what Redis and several nodes cost per delivery and per publish
(docs/figures/scale.json, from scripts/scale_figures.py), and the capacity
model worked out from those measured costs."""
import math

SCALE_ARGS = ["--transports", "sse,ws", "--subscribers", "300", "--rate", "50", "--duration", "5",
              "--threads", "1"]
NAMES = {"sse": "SSE", "ws": "WebSocket"}
LABELS = {"memory-1": "1 node, memory store", "redis-1": "1 node, Redis",
          "redis-3": "3 nodes, one Redis (subscribers on all three)",
          "cross-node": "3 nodes, subscribers on two, publisher on the third",
          "publish-heavy-1": "1 node, Redis, 20 subscribers, 500 publishes/s",
          "publish-heavy": "3 nodes, subscribers on two, 20 subscribers, 500 publishes/s"}
# The capacity model's assumptions, stated in the text it renders.
ROOM_SIZE = 100       # connections per room
NODE_BUDGET = 1.4     # core-seconds per second a 2-core node may spend (70 %)
REDIS_BUDGET = 0.7    # Redis runs commands on one core: 70 % of it
CONNS_PER_NODE = 12000  # pushlab-server's default --max-connections (per listener)
TARGETS = [100000, 1000000]


def _runs(f):
    return {r["name"]: r for r in f.data["scale"]["json"]["runs"]}


def _results(run):
    return {r["transport"]: r for r in run["bench"]["results"]}


def redis_us_per_publish(run):
    """Redis CPU over the whole run (opens, syncs and the canary included),
    less what it spent idle with the nodes connected, per message it
    stored."""
    if not run.get("redis_publishes"):
        return None
    net = run["redis_cpu_s"] - run["redis_idle_cpu_per_s"] * run["wall_s"]
    return max(net, 0.0) * 1e6 / run["redis_publishes"]


def scale_table(f):
    runs = _runs(f)
    lines = ["| setup | transport | delivered | server CPU per 1,000 deliveries | "
             "latency p50 / p99 | Redis CPU per publish |",
             "| --- | --- | --- | --- | --- | --- |"]
    for name, label in LABELS.items():
        run = runs[name]
        rus = redis_us_per_publish(run)
        for t, r in _results(run).items():
            lines.append("| %s | %s | %d / %d | %.1f ms | %.1f / %.1f ms | %s |" % (
                label, NAMES.get(t, t), r["delivered"], r["expected"],
                r["server_cpu_ms_per_1000"], r["latency_us"]["p50"] / 1000,
                r["latency_us"]["p99"] / 1000, "-" if rus is None else "%.0f µs" % rus))
    doc = f.data["scale"]["json"]
    lines.append("")
    lines.append("Measured %s on a %d-core machine (%s) by `scripts/scale_figures.py`: "
                 "for each setup, fresh nodes (and a fresh redis-server) and one bench run, "
                 "`pushlab-bench %s --url NODE... --publish-to NODE` (the last two rows: "
                 "`--transports ws --subscribers 20 --rate 500`). Server CPU is the sum over "
                 "every node; Redis CPU is its `used_cpu_user + used_cpu_sys` over the run, "
                 "less its idle rate with the nodes connected (measured for %d s first), "
                 "divided by the PUBLISHes it ran. Every node, Redis and the bench share the "
                 "same two cores, so these are costs, not capacities." % (
                     doc["date"], doc["nproc"], doc["redis"].split(" build")[0],
                     " ".join(SCALE_ARGS), doc["idle_s"]))
    return "\n".join(lines) + "\n"


def _mean(xs):
    return sum(xs) / len(xs)


def redis_model(runs):
    """Redis CPU per publish as a + b x (nodes subscribed to the room), from
    the one-node and three-node publish-heavy runs, in µs."""
    c1 = redis_us_per_publish(runs["publish-heavy-1"])
    c3 = redis_us_per_publish(runs["publish-heavy"])
    b = max((c3 - c1) / 2, 0.0)
    return c1 - b, b, c1, c3


def scale_capacity(f):
    runs = _runs(f)
    node_ms = _mean([r["server_cpu_ms_per_1000"] for r in _results(runs["redis-3"]).values()])
    mem_ms = _mean([r["server_cpu_ms_per_1000"] for r in _results(runs["memory-1"]).values()])
    a, b, c1, c3 = redis_model(runs)
    lines = ["Inputs (measured above): %.1f ms of node CPU per 1,000 deliveries with Redis "
             "(3 nodes, SSE and WebSocket averaged; %.1f ms with the memory store); Redis "
             "CPU per publish %.0f µs with one node subscribed and %.0f µs with three, "
             "taken as %.0f µs + %.0f µs per node the message goes to." % (
                 node_ms, mem_ms, c1, c3, a, b),
             "Assumptions: rooms of %d connections, one message per second per room, so "
             "each connection takes one delivery per second; a 2-core node may spend %.1f "
             "core-seconds per second (70 %%) and holds at most %s connections per listener "
             "(the server's default `--max-connections`); Redis runs its commands on one "
             "core and may spend %.0f %% of it. *Spread*: round robin puts a room's "
             "connections on min(%d, nodes) nodes, and each publish goes to all of them; "
             "*by room*: the balancer sends every connection of a room to one node "
             "(a hash of the room in the URL), so each publish goes to one." % (
                 ROOM_SIZE, NODE_BUDGET, f"{CONNS_PER_NODE:,}", REDIS_BUDGET * 100, ROOM_SIZE),
             "",
             "| connections | nodes (CPU / connections) | publishes/s | Redis CPU, spread | "
             "Redis CPU, by room |",
             "| --- | --- | --- | --- | --- |"]
    for c in TARGETS:
        n_cpu = max(1, math.ceil(c * node_ms / 1e6 / NODE_BUDGET))
        n_conn = math.ceil(c / CONNS_PER_NODE)
        nodes = max(n_cpu, n_conn)
        pubs = c / ROOM_SIZE
        spread = pubs * (a + b * min(ROOM_SIZE, nodes)) / 1e6
        by_room = pubs * (a + b) / 1e6
        fits = lambda x: "%.2f cores%s" % (x, "" if x <= REDIS_BUDGET else ": beyond one Redis")
        lines.append("| %s | %d (%d / %d) | %s | %s | %s |" % (
            f"{c:,}", nodes, n_cpu, n_conn, f"{pubs:,.0f}", fits(spread), fits(by_room)))
    return "\n".join(lines) + "\n"


RENDERERS = {"scale-table": scale_table, "scale-capacity": scale_capacity}
