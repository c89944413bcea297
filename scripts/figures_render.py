"""What scripts/figures.py writes between each <!-- figures:NAME --> marker:
one function per NAME, from the committed measurements in docs/figures/.
The commands the docs show are the ones --refresh runs (BENCH_RUNS), so a
command and its figures cannot drift apart either."""
import json

import figures_deploy
import figures_targets
import figures_scale

ROUNDS = 3  # rounds of the bench's own cost against the floor
# One subscriber loop, as the floor has: the same shape on both sides.
COST = ["--transports", "sse,ws", "--subscribers", "1000", "--rate", "50", "--duration", "5",
        "--threads", "1"]
FLOOR = ["floor", "--subscribers", "1000", "--rate", "50", "--duration", "5"]
BENCH_RUNS = [
    ("main", ["--subscribers", "100", "--rate", "50", "--duration", "5", "--threads", "1"]),
    ("sp3000", ["--transports", "short-poll", "--poll-interval", "3000", "--duration", "10",
                "--threads", "1"]),
]
for _i in range(1, ROUNDS + 1):
    BENCH_RUNS += [("cost-%d" % _i, COST), ("floor-%d" % _i, FLOOR)]
# A quiet chat as phones see it (lessons 1 and 8, the cheat sheet's battery
# row): one message every 50 s, 120 s per transport.
RADIO = ["radio", "--rate", "0.02"]
BENCH_RUNS += [
    ("radio-quiet", RADIO),
    ("radio-quiet-hb60", RADIO + ["--heartbeat", "60"]),
    ("radio-quiet-ping5", RADIO + ["--client-ping", "5", "--transports", "ws"]),
]
BENCH_RUNS += figures_targets.BENCH_RUNS
ARGS = dict(BENCH_RUNS)
TRANSPORTS = ["short_poll", "long_poll", "sse", "ws"]

# The lines scripts/wire-bytes.sh prints, in its order (the docs test runs it
# and compares with what this writes).
WIRE_LABELS = [
    ("short_poll_page", "short poll, page with 1 message"),
    ("short_poll_empty", "short poll, empty page"),
    ("curl_poll_request", "  (curl's request for it)"),
    ("long_poll_page", "long poll, page with 1 message"),
    ("long_poll_empty", "long poll, empty page (timeout)"),
    ("sse_head", "SSE, response head"),
    ("sse_retry", "SSE, retry: line"),
    ("sse_event", "SSE, one event"),
    ("sse_ping", "SSE, one ': ping'"),
    ("ws_handshake", "WebSocket, 101 answer"),
    ("ws_message", "WebSocket, one message frame"),
    ("ws_app_ping_in", "WebSocket, 'ping' from the client"),
    ("ws_app_pong_out", "WebSocket, 'pong' back"),
    ("ws_json_ping_in", "WebSocket, the page's JSON ping"),
    ("ws_json_pong_out", "WebSocket, its JSON pong back"),
    ("ws_server_ping", "WebSocket, server's control ping"),
    ("ws_pong_reply", "WebSocket, the client's pong to it"),
]


def command(name):
    return "pushlab-bench " + " ".join(ARGS[name])


def ms(us):
    """A latency for people: 518 ms, 24 ms, 2.4 ms."""
    v = us / 1000.0
    return "%.0f ms" % v if v >= 10 else "%.1f ms" % v


def num(x, digits=1):
    return ("%." + str(digits) + "f") % x


def span(values, digits=1, unit=" µs"):
    lo, hi = num(min(values), digits), num(max(values), digits)
    return (lo if lo == hi else "%s-%s" % (lo, hi)) + unit


class Figures:
    """The committed measurements, with short names for what renderers use."""

    def __init__(self, data):
        self.data = data
        self.wire = data["wire"]["json"]
        self.env = data["main"]["json"]["env"]

    def res(self, run, transport):
        for r in self.data[run]["json"]["results"]:
            if r["transport"] == transport:
                return r
        raise KeyError("%s has no %s result" % (run, transport))

    def main(self, t):
        return self.res("main", t)

    def txt(self, run):
        return self.data[run]["txt"]

    def params(self, run):
        return self.data[run]["json"]["params"]

    def cost_results(self):
        return [self.res("cost-%d" % i, t) for i in range(1, ROUNDS + 1) for t in ("sse", "ws")]

    def floors(self):
        return [self.data["floor-%d" % i]["json"]["floor"] for i in range(1, ROUNDS + 1)]

    def machine(self):
        e = self.env
        return "%d-core %s, Linux %s" % (e["cpus"], e["cpu_model"], e["kernel"].split("-")[0])

    def date(self):
        return self.env["time_utc"][:10]

    def per_poll(self):
        return self.wire["curl_poll_request"] + self.wire["short_poll_empty"]


def lat(r):
    return "%s / %s" % (ms(r["latency_us"]["p50"]), ms(r["latency_us"]["p99"]))


def srv_b(r):
    v = r.get("server_bytes_out_per_msg")
    return "n/a" if v is None else num(v)


def radio(f, run, t):
    return f.res(run, t)["radio"]


def on_mw(f, run, t):
    """'on 26.0 %, 299 mW': a phone's LTE radio in a run."""
    r = radio(f, run, t)["lte"]
    return "on %s %%, %s mW" % (num(100 * r["connected_share"]), num(r["avg_mw"], 0))


def cheatsheet_table(f):
    w = f.wire
    m = {t: f.main(t) for t in TRANSPORTS}
    sp3 = f.res("sp3000", "short_poll")
    interval = f.params("main")["poll_interval_ms"]
    rows = [
        ("", "short polling", "long polling", "Server-Sent Events", "WebSocket"),
        ("direction", "client asks, server answers", "client asks, server answers when there is news",
         "server to client (publish with a POST)", "both ways on one connection"),
        ("pushlab endpoint", "`GET /api/rooms/R/messages?since=`", "`GET /api/rooms/R/poll?since=&timeout=`",
         "`GET /api/rooms/R/events`", "`ws://HOST:8081/ws/R?since=`"),
        ("framing", "one HTTP response (JSON page) per request", "one HTTP response per message or batch",
         "`id:`/`event:`/`data:` lines in one endless response",
         "one WebSocket text frame (2-4 B header) per message"),
        ("one 64 B message on the wire ¹",
         "%d B per page (%d B more than an empty one)" % (w["short_poll_page"], w["short_poll_page"] - w["short_poll_empty"]),
         "%d B per page" % w["long_poll_page"], "%d B per event" % w["sse_event"],
         "%d B per frame" % w["ws_message"]),
        ("cost when nothing happens ¹",
         "%d B answer to every poll, plus the request (curl's: %d B)" % (w["short_poll_empty"], w["curl_poll_request"]),
         "%d B answer per timeout (25 s default), plus the request" % w["long_poll_empty"],
         "`: ping` comment, %d B on the wire, per heartbeat (15 s default)" % w["sse_ping"],
         "the client's pings, if it sends any (`ping` %d B in, `pong` %d B out); to a client silent "
         "for a heartbeat, the server's control ping (%d B) and the client's pong (%d B)" % (
             w["ws_app_ping_in"], w["ws_app_pong_out"], w["ws_server_ping"], w["ws_pong_reply"])),
        ("connection setup ¹", "per request (or reused with keep-alive)", "per request (or reused)",
         "once: response head + `retry:` line (%d + %d B)" % (w["sse_head"], w["sse_retry"]),
         "once: 101 handshake (%d B answer)" % w["ws_handshake"]),
        ("latency, p50 / p99 ²", "%s at a %d ms interval; %s at 3000 ms" % (lat(m["short_poll"]), interval, lat(sp3)),
         lat(m["long_poll"]), lat(m["sse"]), lat(m["ws"])),
        ("subscriber's TCP bytes in / out per message, busy room ²",
         "%s / %s (each poll brings back a page of many messages)" % (
             num(m["short_poll"]["bytes_in_per_msg"]), num(m["short_poll"]["bytes_out_per_msg"])),
         "%s / %s (a request and a response per message)" % (
             num(m["long_poll"]["bytes_in_per_msg"]), num(m["long_poll"]["bytes_out_per_msg"])),
         "%s / %s" % (num(m["sse"]["bytes_in_per_msg"]), num(m["sse"]["bytes_out_per_msg"])),
         "%s / %s" % (num(m["ws"]["bytes_in_per_msg"]), num(m["ws"]["bytes_out_per_msg"]))),
        ("server's bytes out per delivered message ²", srv_b(m["short_poll"]), srv_b(m["long_poll"]),
         srv_b(m["sse"]) + " (heartbeats included)", srv_b(m["ws"])),
        ("HTTP requests per message ²", num(m["short_poll"]["http_requests_per_msg"], 3),
         num(m["long_poll"]["http_requests_per_msg"], 1), "0 (one per connection)", "0 (one handshake)"),
        ("server CPU per 1000 deliveries ²",) + tuple(
            "%s ms" % num(m[t]["server_cpu_ms_per_1000"]) for t in TRANSPORTS),
        ("battery: a phone's LTE radio, quiet chat ³",
         "%s (polling every 3 s)" % on_mw(f, "radio-quiet", "short_poll"),
         "%s (25 s timeout)" % on_mw(f, "radio-quiet", "long_poll"),
         "%s with a 15 s heartbeat; %s with 60 s" % (
             on_mw(f, "radio-quiet", "sse"), on_mw(f, "radio-quiet-hb60", "sse")),
         "%s with a 15 s heartbeat; %s with 60 s" % (
             on_mw(f, "radio-quiet", "ws"), on_mw(f, "radio-quiet-hb60", "ws"))),
        ("resume after a drop", "next `since=`", "next `since=`", "automatic: `Last-Event-ID` (or `?since=`)",
         "your code: reconnect with `?since=`"),
        ("browser API", "`fetch` + timer", "`fetch` in a loop",
         "`EventSource` (reconnects by itself, but gives up for good on a non-200 answer, "
         "a wrong Content-Type or a 204)", "`WebSocket` (you reconnect)"),
        ("HTTP/1.1 connection held", "only during each request", "one per client, always",
         "one per client, always", "its own connection, outside the six-per-origin HTTP pool"),
        ("proxies", "fine", "fine if the timeout is below their idle timeout",
         "need unbuffered, uncompressed streaming", "need `Upgrade` support; once upgraded, never buffered"),
        ("choose it when", "updates are rare and seconds of delay are fine, or nothing else gets through",
         "you need push through hostile proxies", "one-way feeds: notifications, dashboards, tickers",
         "chat, collaboration, games: both directions, high rates, or a path that buffers streams"),
    ]
    out = ["| " + " | ".join(rows[0]) + " |", "| --- | --- | --- | --- | --- |"]
    out += ["| " + " | ".join(r) + " |" for r in rows[1:]]
    return "\n".join(out)


def cheatsheet_footnotes(f):
    return (
        "¹ Measured with [`scripts/wire-bytes.sh`](#bytes-per-message-and-when-idle-scriptswire-bytessh):\n"
        "TCP payload on the client's own sockets, HTTP headers and framing included, TCP/IP\n"
        "headers not. One message with 64 bytes of text in a room with an 8-character\n"
        "name, the server's default settings, pushlab %s. The request side is the\n"
        "client's: curl's poll request for that room, to 127.0.0.1 on a 5-digit port, is\n"
        "%d B; browsers send more (cookies, user agent).\n\n"
        "² From `pushlab-bench` runs on this project's machine (%s, everything on\n"
        "loopback), %s, below. Loopback has no network delay: compare the transports\n"
        "with each other, not with your network. Your machine will give other absolute\n"
        "numbers. The bench's messages carry its `meta` and `cid` and a longer room\n"
        "name, so its bytes per message are larger than the one-message figures above.\n\n"
        "³ A model with published parameters, not a measurement of a phone: each\n"
        "subscriber's own socket reads and writes through AT&T ARO's default LTE\n"
        "profile (Huang et al., MobiSys 2012), from\n`%s` and\n`%s`\n"
        "(one message every %g s, %g s per transport, %d phones each). What matters\n"
        "is how often something crosses, not how much: see [lesson 8](workshop/08-mobile.md)."
    ) % (f.env["version"], f.wire["curl_poll_request"], f.machine(), f.date(),
         command("radio-quiet"), command("radio-quiet-hb60"), 1 / f.params("radio-quiet")["rate"],
         f.params("radio-quiet")["duration_s"], f.params("radio-quiet")["subscribers"])


def run_block(f, name):
    return "```sh\n%s\n```\n\n```text\n%s\n```" % (command(name), f.txt(name))


def cheatsheet_main_run(f):
    p = f.params("main")
    return ("%d subscribers per transport in one room, %g messages per second with %d\n"
            "bytes of text, %g s warm-up, then %g s measured, each transport in turn, short\n"
            "polling every %d ms:\n\n%s") % (
        p["subscribers"], p["rate"], p["size"], p["warmup_s"], p["duration_s"],
        p["poll_interval_ms"], run_block(f, "main"))


def cheatsheet_sp3000(f):
    return "Short polling at the seed story's 3-second interval, %g s measured:\n\n%s" % (
        f.params("sp3000")["duration_s"], run_block(f, "sp3000"))


def own_cost_summary(f):
    fcpu, fsys, bcpu, blib = floor_spans(f)
    c = f.cost_results()
    return (
        "The floor was %s per delivery, %s of it in the kernel (`sys_us/d`): one small\n"
        "TCP segment received and its ACK sent per delivery, which on loopback also runs\n"
        "the server socket's ACK processing in the receiver's system call. The bench's\n"
        "subscribers spent %s, with about the same kernel part (%s); the rest, %s, is\n"
        "their reading of each stream (16 KB `recv()`s off the socket libcurl connected,\n"
        "then the SSE parser or the client's own WebSocket frame reader,\n"
        "`client/ws_plain.c`) and the bench's scan of each message for its id and send\n"
        "time (`common/jscan.c`; no JSON tree is built)."
    ) % (fcpu, fsys, bcpu, span([r["bench_sys_us_per_delivery"] for r in c]), blib)


def cheatsheet_own_cost(f):
    costs = [f.txt("cost-%d" % i).split("\n") for i in range(1, ROUNDS + 1)]
    floors = [f.txt("floor-%d" % i).split("\n") for i in range(1, ROUNDS + 1)]
    rows = [costs[0][0]] + [l for c in costs for l in c[1:3]]
    frows = [floors[0][0]] + [fl[1] for fl in floors]
    return ("%d rounds of 1,000 subscribers at 50 messages per second, 5 s measured, each\n"
            "round the two streams and then the floor, on the same machine as above:\n\n"
            "```sh\n%s\n%s\n```\n\n```text\n%s\n\n%s\n```\n\n%s") % (
        ROUNDS, command("cost-1"), command("floor-1"), "\n".join(rows), "\n".join(frows),
        own_cost_summary(f))


def wire_output(f):
    lines = []
    for key, label in WIRE_LABELS:
        v = "..." if key == "curl_poll_request" else str(f.wire[key])
        lines.append("%-36s %5s B" % (label, v))
    return "```output\n%s\n```" % "\n".join(lines)


def lesson1_answer(f):
    w = f.wire
    per = f.per_poll()
    hour = per * 1200
    return ("With our figures (cheat sheet): curl's request was %d B (its `Host:` header\n"
            "held 127.0.0.1 and a 5-digit port, the room an 8-letter name) and the empty\n"
            "answer %d B, so one poll moves %d B of HTTP; 1,200 polls an hour make\n"
            "%s B (about %d KiB), and a day (28,800 polls) about %.1f MB per tab, before\n"
            "TCP/IP and TLS overhead, with the connection kept alive; 1,000 tabs left open\n"
            "all day, about %.1f GB. A browser's request is larger than curl's.") % (
        w["curl_poll_request"], w["short_poll_empty"], per, "{:,}".format(hour), round(hour / 1024),
        per * 28800 / 1e6, per * 28800 * 1000 / 1e9)


def lesson3_exercise(f):
    lp, sp = f.main("long_poll"), f.main("short_poll")
    return ("(Our run, in the cheat sheet: p50 %s against %s, but %s request and %s B\n"
            "received per message against %s and %s B.)") % (
        ms(lp["latency_us"]["p50"]), ms(sp["latency_us"]["p50"]), num(lp["http_requests_per_msg"], 1),
        num(lp["bytes_in_per_msg"], 0), num(sp["http_requests_per_msg"], 3), num(sp["bytes_in_per_msg"], 0))


def lesson4_exercise(f):
    s, lp = f.main("sse"), f.main("long_poll")
    return ("(Our run, in the cheat sheet: p50 %s and %s B per message for SSE, %s and\n"
            "%s B for long polling.)") % (
        ms(s["latency_us"]["p50"]), num(s["bytes_in_per_msg"], 0), ms(lp["latency_us"]["p50"]),
        num(lp["bytes_in_per_msg"], 0))


def lesson4_ping(f):
    w = f.wire
    return ("(`: ping` plus two newlines is 8 bytes of text; on the wire, in pushlab's\n"
            "close-delimited stream, it is %d B: measure it below.)") % w["sse_ping"]


def lesson5_exercise(f):
    ws, s, lp = f.main("ws"), f.main("sse"), f.main("long_poll")
    return ("(Our run, in the cheat sheet: %s B for WebSocket, %s B for SSE, %s B for long\n"
            "polling. One frame of a message published with curl is %d B\n"
            "(`wire-bytes.sh`): the bench's frames are %s B bigger because each of its\n"
            "messages carries `meta` (its sequence number and two send times), a `cid`\n"
            "for safe retries, and a longer room name.)") % (
        num(ws["bytes_in_per_msg"], 0), num(s["bytes_in_per_msg"], 0), num(lp["bytes_in_per_msg"], 0),
        f.wire["ws_message"], num(ws["bytes_in_per_msg"] - f.wire["ws_message"], 0))


def floor_spans(f):
    """(floor cpu, floor sys, bench cpu, bench cpu minus its sys) as ranges."""
    fl, c = f.floors(), f.cost_results()
    return (span([x["cpu_us_per_delivery"] for x in fl]), span([x["sys_us_per_delivery"] for x in fl]),
            span([r["bench_cpu_us_per_delivery"] for r in c]),
            span([r["bench_cpu_us_per_delivery"] - r["bench_sys_us_per_delivery"] for r in c], 0))


def lesson6_floor(f):
    return ("With 1,000 subscribers at 50 messages per second on the %d-core VM this\n"
            "project is built on, the floor was %s per delivery, %s of it\n"
            "in the kernel (`sys_us/d`): one small TCP segment received, its ACK sent, one\n"
            "`epoll` wake-up shared by many sockets. The bench's own SSE and WebSocket\n"
            "subscribers spent %s, with about the same kernel part: the other\n"
            "%s are reading the streams and scanning each message. See the\n"
            "[cheat sheet](../cheatsheet.md#the-benchs-own-cost) for the runs.") % (
        (f.env["cpus"],) + floor_spans(f))


def readme_floor(f):
    fcpu, fsys, bcpu, _ = floor_spans(f)
    return ("`floor` runs bare SSE sockets that only `recv()` and count, on the same\n"
            "publisher and schedule: on this project's %d-core VM it spends %s per\n"
            "delivery, %s of it in the kernel's receive path, against %s for the\n"
            "bench's SSE and WebSocket subscribers (1,000 subscribers x 50 msg/s; runs in\n"
            "[the cheat sheet](docs/cheatsheet.md#the-benchs-own-cost).") % (f.env["cpus"], fcpu, fsys, bcpu)


def lesson2_solution(f):
    sp, sp3 = f.main("short_poll"), f.res("sp3000", "short_poll")
    return ("Our runs (cheat sheet): at 1000 ms the median latency was %s and the server\n"
            "wrote %s B per delivered message (`srvB/msg`); at 3000 ms, %s and %s B. The\n"
            "median is about half the interval, and fewer polls each carry more messages.") % (
        ms(sp["latency_us"]["p50"]), srv_b(sp), ms(sp3["latency_us"]["p50"]), srv_b(sp3))


def lesson4_idle(f):
    w = f.wire
    return ("With the default heartbeat of 15 s: 240 pings an hour x %d B = %s B an hour of\n"
            "TCP payload, against %s B for the 3-second poll of lesson 1 (1,200 x %d B). Each\n"
            "ping is a TCP segment of its own, so on the wire add its TCP/IP header and the\n"
            "ACK that answers it, and on a phone one radio wake-up.") % (
        w["sse_ping"], "{:,}".format(240 * w["sse_ping"]), "{:,}".format(1200 * f.per_poll()), f.per_poll())


def lesson5_idle(f):
    w = f.wire
    page = w["ws_json_ping_in"] + w["ws_json_pong_out"]
    silent = w["ws_server_ping"] + w["ws_pong_reply"]
    return ("The page's ping every 15 s: `{\"type\":\"ping\"}` is %d B from the client (2 B\n"
            "header, 4 B mask, 15 B of text), `{\"type\":\"pong\"}` %d B back: %d B x 240 =\n"
            "%s B an hour (bare `ping`/`pong`: %d + %d B). A client that never pings gets\n"
            "the server's control ping once per heartbeat instead: %d B + its %d B pong,\n"
            "%s B an hour. The 3-second poll of lesson 1: %s B an hour.") % (
        w["ws_json_ping_in"], w["ws_json_pong_out"], page, "{:,}".format(240 * page), w["ws_app_ping_in"],
        w["ws_app_pong_out"], w["ws_server_ping"], w["ws_pong_reply"], "{:,}".format(240 * silent),
        "{:,}".format(1200 * f.per_poll()))


def lesson5_lb_output(f):
    w = f.wire
    mb = (w["ws_json_ping_in"] + w["ws_json_pong_out"]) * 3600 // 25 * 100000 // 1000000
    return "```output\n%d MB an hour for 100,000 connections\n```" % mb


def lesson5_lb_text(f):
    w = f.wire
    per_h = (w["ws_json_ping_in"] + w["ws_json_pong_out"]) * 3600 / 25 * 100000
    return ("That is %.1f Mbit/s, little for a server; the real cost is 144 wake-ups an hour\n"
            "for every phone, and 14.4 million pings an hour, and as many pongs, for the\n"
            "server to handle.") % (per_h * 8 / 3600 / 1e6)


def wire_notes(f):
    w = f.wire
    return ("- The SSE `: ping` is 8 bytes of text (`: ping` and two newlines), and %d B\n"
            "  on the wire: pushlab's stream is close-delimited (protocol 1.3), so no\n"
            "  framing is added. A chunked stream (most servers, nchan too) adds 5 B\n"
            "  to each write: its length line (`8` CRLF) and a CRLF after it.\n"
            "- The WebSocket `ping` and `pong` are the application's text frames, the\n"
            "  JSON ones what the demo page sends every 15 s. The server also sends its own\n"
            "  RFC 6455 ping control frame to a peer that has been silent for a heartbeat,\n"
            "  which every client (a browser by itself) answers with a masked pong: %d B per\n"
            "  heartbeat for a quiet client that does not ping.") % (
        w["sse_ping"], w["ws_server_ping"] + w["ws_pong_reply"])


def wire_output_idle(f):
    lines = ["%-36s %5s B" % (label, f.wire[key]) for key, label in WIRE_LABELS
             if "empty" in label or "ping" in label or "pong" in label]
    return "```output\n%s\n```" % "\n".join(lines)


def wire_output_ws(f):
    lines = ["%-36s %5s B" % (label, f.wire[key]) for key, label in WIRE_LABELS
             if label.startswith("WebSocket") and ("ping" in label or "pong" in label)]
    return "```output\n%s\n```" % "\n".join(lines)


def lesson6_table(f):
    m = {t: f.main(t) for t in TRANSPORTS}
    names = {"short_poll": "short poll (1000 ms)", "long_poll": "long poll", "sse": "SSE", "ws": "WebSocket"}
    rows = ["| transport | p50 latency | p99 latency | requests / msg | bytes in / msg |",
            "| --- | --- | --- | --- | --- |"]
    for t in TRANSPORTS:
        r = m[t]
        rows.append("| %s | %s | %s | %s | %s |" % (
            names[t], ms(r["latency_us"]["p50"]), ms(r["latency_us"]["p99"]),
            num(r["http_requests_per_msg"], 3), num(r["bytes_in_per_msg"])))
    sp3 = f.res("sp3000", "short_poll")
    return "\n".join(rows) + (
        "\n\nShort polling at 3000 ms: p50 %s, %s requests per message (cheat sheet, %s).") % (
        ms(sp3["latency_us"]["p50"]), num(sp3["http_requests_per_msg"], 3), command("sp3000"))


def radio_commands(runs):
    return "```sh\n%s\n```" % "\n".join(command(n) for n in runs)


def radio_table(f, rows, cols):
    """A markdown table of phones' radio figures: `rows` are (label, run,
    transport), `cols` (header, function of a result's radio object)."""
    out = ["| %s |" % " | ".join(["the page" if len(cols) < 4 else "transport"] + [c[0] for c in cols]),
           "| --- |" + " --- |" * len(cols)]
    for label, run, t in rows:
        x = radio(f, run, t)
        out.append("| %s |" % " | ".join([label] + [c[1](x) for c in cols]))
    return "\n".join(out)


LTE_ON = ("LTE radio on", lambda x: "%s %%" % num(100 * x["lte"]["connected_share"]))
LTE_MW = ("LTE radio power", lambda x: "%s mW" % num(x["lte"]["avg_mw"], 0))
G3_MW = ("3G radio power", lambda x: "%s mW" % num(x["3g"]["avg_mw"], 0))
LTE_PROM = ("LTE promotions per hour", lambda x: num(x["lte"]["promotions_per_hour"], 0))


def lesson1_radio(f):
    rows = [("polls every 3 s", "radio-quiet", "short_poll"),
            ("WebSocket, `ping` every 5 s", "radio-quiet-ping5", "ws"),
            ("WebSocket, the server's default heartbeat (15 s)", "radio-quiet", "ws"),
            ("WebSocket, a 60 s heartbeat", "radio-quiet-hb60", "ws")]
    return radio_table(f, rows, [LTE_ON, LTE_MW, G3_MW]) + "\n\n" + radio_commands(
        ["radio-quiet", "radio-quiet-ping5", "radio-quiet-hb60"])


def lesson8_radio(f):
    rows = [("short polling, every 3 s", "radio-quiet", "short_poll"),
            ("long polling, 25 s timeout", "radio-quiet", "long_poll"),
            ("WebSocket, `ping` every 5 s", "radio-quiet-ping5", "ws"),
            ("SSE, 15 s heartbeat", "radio-quiet", "sse"),
            ("WebSocket, 15 s heartbeat", "radio-quiet", "ws"),
            ("SSE, 60 s heartbeat", "radio-quiet-hb60", "sse"),
            ("WebSocket, 60 s heartbeat", "radio-quiet-hb60", "ws")]
    r = f.res("radio-quiet", "short_poll")
    p = f.params("radio-quiet")
    return ("%s\n\nEach window (%g s) got %d messages; %d phones per transport,\non %s, %s.\n\n%s") % (
        radio_commands(["radio-quiet", "radio-quiet-hb60", "radio-quiet-ping5"]), p["duration_s"],
        r["delivered"] // r["radio"]["devices"], r["radio"]["devices"], f.machine(), f.date(),
        radio_table(f, rows, [LTE_ON, LTE_MW, G3_MW, LTE_PROM]))


RENDERERS = {
    "lesson1-radio": lesson1_radio,
    "lesson8-radio": lesson8_radio,
    "lesson2-solution": lesson2_solution,
    "lesson4-idle": lesson4_idle,
    "lesson5-idle": lesson5_idle,
    "lesson5-lb-output": lesson5_lb_output,
    "lesson5-lb-text": lesson5_lb_text,
    "wire-output-ws": wire_output_ws,
    "wire-output-idle": wire_output_idle,
    "wire-notes": wire_notes,
    "lesson6-table": lesson6_table,
    "cheatsheet-table": cheatsheet_table,
    "cheatsheet-footnotes": cheatsheet_footnotes,
    "cheatsheet-main-run": cheatsheet_main_run,
    "cheatsheet-sp3000": cheatsheet_sp3000,
    "cheatsheet-own-cost": cheatsheet_own_cost,
    "wire-output": wire_output,
    "lesson1-answer": lesson1_answer,
    "lesson3-exercise": lesson3_exercise,
    "lesson4-exercise": lesson4_exercise,
    "lesson4-ping": lesson4_ping,
    "lesson5-exercise": lesson5_exercise,
    "lesson6-floor": lesson6_floor,
    "readme-floor": readme_floor,
}
RENDERERS.update(figures_deploy.RENDERERS)
RENDERERS.update(figures_targets.RENDERERS)
RENDERERS.update(figures_scale.RENDERERS)


def slides_data(f):
    """web/slides/figures.js: the same figures for the slides, as data."""
    per_t = {}
    for t in TRANSPORTS:
        r = f.main(t)
        per_t[t] = {
            "p50_ms": round(r["latency_us"]["p50"] / 1000.0, 2),
            "p99_ms": round(r["latency_us"]["p99"] / 1000.0, 2),
            "bytes_in_per_msg": round(r["bytes_in_per_msg"], 1),
            "requests_per_msg": round(r["http_requests_per_msg"], 3),
            "server_cpu_ms_per_1000": round(r["server_cpu_ms_per_1000"], 2),
        }
    sp3 = f.res("sp3000", "short_poll")
    data = {
        "source": "docs/figures/ through scripts/figures.py: do not edit",
        "machine": f.machine(),
        "date": f.date(),
        "bench": {"command": command("main"), "transports": per_t,
                  "short_poll_3000": {"p50_ms": round(sp3["latency_us"]["p50"] / 1000.0, 1),
                                      "bytes_in_per_msg": round(sp3["bytes_in_per_msg"], 1)}},
        "wire": f.wire,
        "per_poll_bytes": f.per_poll(),
    }
    return ("// Generated by scripts/figures.py from docs/figures/: do not edit. The\n"
            "// slides read their figures from here, the docs from the same data.\n"
            "export const FIGURES = %s;\n") % json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False)
