#!/usr/bin/env python3
"""GET /metrics: what each transport, the store and the process report,
checked by value after known traffic, by `promtool check metrics`, and by a
real Prometheus (started on a free port with its data in a temporary
folder) scraping the server and answering a query. A second server, with
--header-timeout 1 and --max-lag 5, cuts a slowloris head and an SSE and a
WebSocket subscriber that never read: /metrics counts each cut where
/api/stats does.
usage: test_metrics.py SERVER   (TAP output)"""
import http.client as http_client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

SERVER = sys.argv[1]
results = []


def check(name, ok, detail=""):
    results.append((name, bool(ok), detail))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(url, data=None, ctype="application/json", method=None, headers=None):
    req = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    if data is not None:
        req.add_header("Content-Type", ctype)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def samples(text):
    """{(name, frozenset(labels)): value} of an exposition."""
    out = {}
    for line in text.splitlines():
        m = re.match(r'^([a-z_:]+)(?:\{(.*)\})? (\S+)$', line)
        if m:
            labels = frozenset(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))
            out[(m.group(1), labels)] = float(m.group(3))
    return out


def value(s, name, **labels):
    return s.get((name, frozenset(labels.items())))


def traffic(http):
    """Known traffic: 5 stored publishes in room m (history 3: 2 trimmed),
    one duplicate, one refused, and one read on each transport."""
    pub = lambda text, cid=None: request(f"{http}/api/rooms/m/messages", json.dumps(
        {"user": "ann", "text": text, **({"cid": cid} if cid else {})}).encode())
    for i in range(1, 5):
        pub(f"m{i}")
    pub("m5", "c5")
    pub("m5", "c5")  # a repeated cid: duplicate
    request(f"{http}/api/rooms/m/messages", b"x", ctype="text/plain")  # 415: refused
    request(f"{http}/api/rooms/m/events?since=x")  # 400 on the SSE endpoint
    request(f"{http}/api/rooms/m/messages?since=4")  # short poll: one message
    request(f"{http}/api/rooms/m/poll?since=3&timeout=1")  # long poll: two
    sse = socket.create_connection(("127.0.0.1", int(http.rsplit(":", 1)[1])), timeout=5)
    sse.sendall(b"GET /api/rooms/m/events HTTP/1.1\r\nHost: x\r\nLast-Event-ID: 0\r\n\r\n")
    data, end = b"", time.monotonic() + 5
    while data.count(b"\nid: ") + data.startswith(b"id: ") < 3 and time.monotonic() < end:
        data += sse.recv(65536)
    sse.close()
    return ws_reads(http, 3)


def ws_reads(http, n):
    """A bare WebSocket from cursor 2 reads `n` message frames (the C
    client would add a restart probe, a short poll of its own)."""
    cfg = json.loads(request(http + "/api/config")[2])
    host, port = cfg["ws_url"].split("//", 1)[1].rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=5)
    s.sendall(b"GET /ws/m?since=2 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
              b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
              b"Sec-WebSocket-Version: 13\r\n\r\n")
    data, end = b"", time.monotonic() + 5
    while data.count(b'"type":"message"') < n and time.monotonic() < end:
        data += s.recv(65536)
    s.close()
    return data.startswith(b"HTTP/1.1 101") and data.count(b'"type":"message"') == n


def check_values(s):
    check("publishes count stored, duplicate and refused apart",
          (value(s, "pushlab_publishes_total", result="stored"),
           value(s, "pushlab_publishes_total", result="duplicate"),
           value(s, "pushlab_publishes_total", result="refused")) == (5, 1, 1),
          str([value(s, "pushlab_publishes_total", result=r)
               for r in ("stored", "duplicate", "refused")]))
    check("a full history's trims are counted", value(s, "pushlab_history_trimmed_total") == 2)
    check("rooms are a gauge of the store", value(s, "pushlab_rooms") == 1)
    sent = {t: value(s, "pushlab_messages_sent_total", transport=t)
            for t in ("short_poll", "long_poll", "sse", "ws")}
    check("each transport counts what it delivered",
          sent == {"short_poll": 1, "long_poll": 2, "sse": 3, "ws": 3}, str(sent))
    counts = {t: value(s, "pushlab_delivery_seconds_count", transport=t) for t in sent}
    infs = {t: value(s, "pushlab_delivery_seconds_bucket", transport=t, le="+Inf") for t in sent}
    check("every delivery is in the store-to-socket histogram", counts == sent == infs,
          f"{counts} {infs}")
    check("a stream resumed from a trimmed cursor counts a gap served",
          value(s, "pushlab_gaps_served_total", transport="sse") == 1 and
          value(s, "pushlab_gaps_served_total", transport="ws") == 0)
    check("errors count under the endpoint that answered them",
          value(s, "pushlab_errors_total", endpoint="sse", status="400") == 1 and
          value(s, "pushlab_errors_total", endpoint="publish", status="415") == 1)
    check("the process reports CPU, memory and open fds",
          value(s, "process_cpu_seconds_total") > 0 and
          value(s, "process_resident_memory_bytes") > 1e6 and
          value(s, "process_open_fds") >= 4)


def slowloris(http):
    """A request head sent one byte every 0.2 s: the server cuts it
    (--header-timeout) and closes the socket. Returns the seconds it
    took, or None when it was still open after 10 s."""
    s = socket.create_connection(("127.0.0.1", int(http.rsplit(":", 1)[1])), timeout=0.2)
    head, t0 = b"GET /api/rooms/s/messages HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"p" * 200, time.monotonic()
    try:
        for i in range(50):
            s.send(head[i:i + 1])
            try:
                if s.recv(4096) == b"":
                    return time.monotonic() - t0
            except socket.timeout:
                pass
    except OSError:  # the reset of the cut
        return time.monotonic() - t0
    finally:
        s.close()
    return None


def non_reader(addr, head):
    """A subscriber that sends its request and never reads; a small
    receive buffer so the server's side fills soon."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(addr)
    s.sendall(head)
    return s


def cuts(http):
    """Slowloris and slow-consumer cuts, read from /metrics and /api/stats."""
    cfg = json.loads(request(http + "/api/config")[2])
    host, port = cfg["ws_url"].split("//", 1)[1].rsplit(":", 1)
    hport = int(http.rsplit(":", 1)[1])
    took = slowloris(http)
    check("a slowloris head is cut within --header-timeout and a sweep", took is not None
          and 1 <= took < 4, str(took))
    subs = [non_reader(("127.0.0.1", hport),
                       b"GET /api/rooms/s/events HTTP/1.1\r\nHost: x\r\n\r\n"),
            non_reader((host, int(port)),
                       b"GET /ws/s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                       b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                       b"Sec-WebSocket-Version: 13\r\n\r\n")]
    time.sleep(0.5)  # both subscribed before the first publish
    # Published in batches until both are cut: how much the sockets between
    # hold depends on the kernel's buffer tuning (here up to 4 MiB sent).
    want = {("pushlab_connection_errors_total", "kind", "http_timeout"): 1,
            ("pushlab_slow_consumers_dropped_total", "transport", "sse"): 1,
            ("pushlab_slow_consumers_dropped_total", "transport", "ws"): 1}
    body = json.dumps({"user": "ann", "text": "y" * 4096}).encode()
    pub = http_client.HTTPConnection("127.0.0.1", hport, timeout=10)
    got, sent, end = {}, 0, time.monotonic() + 30
    while got != want and time.monotonic() < end:
        if sent < 3000:
            for _ in range(100):
                pub.request("POST", "/api/rooms/s/messages", body,
                            {"Content-Type": "application/json"})
                pub.getresponse().read()
            sent += 100
        time.sleep(0.25)  # the SSE check runs 2 s after a publish
        m = samples(request(http + "/metrics")[2].decode())
        got = {k: value(m, k[0], **{k[1]: k[2]}) for k in want}
    pub.close()
    for s in subs:
        s.close()
    check("/metrics counts the slowloris cut and one slow consumer per stream transport",
          got == want, f"{got} after {sent} messages")
    st = json.loads(request(http + "/api/stats")[2])
    check("/api/stats counts the same cuts",
          (st["errors"]["http_timeout"], st["transports"]["sse"]["slow_consumers_dropped"],
           st["transports"]["ws"]["slow_consumers_dropped"]) == (1, 1, 1),
          json.dumps(st["errors"]) + json.dumps(st["transports"]))


def promtool(text):
    r = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                       text=True, timeout=30)
    check("promtool check metrics finds nothing to fix", r.returncode == 0 and not r.stdout.strip()
          and not r.stderr.strip(), r.stdout + r.stderr)


def prometheus_scrapes(http, folder):
    port = free_port()
    conf = os.path.join(folder, "prometheus.yml")
    with open(conf, "w") as f:
        f.write(f"""global:
  scrape_interval: 1s
scrape_configs:
  - job_name: pushlab
    static_configs:
      - targets: ['{http.split('//', 1)[1]}']
""")
    p = subprocess.Popen(["prometheus", f"--config.file={conf}",
                          f"--storage.tsdb.path={folder}/data",
                          f"--web.listen-address=127.0.0.1:{port}"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    q = urllib.parse.quote('pushlab_publishes_total{result="stored"}')
    got, end = None, time.monotonic() + 30
    try:
        while time.monotonic() < end and got is None:
            time.sleep(0.5)
            try:
                _, _, body = request(f"http://127.0.0.1:{port}/api/v1/query?query={q}")
                res = json.loads(body)["data"]["result"]
                got = float(res[0]["value"][1]) if res else None
            except (OSError, ValueError, KeyError):
                pass
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=20)
    check("a real Prometheus scrapes the server and answers a query", got == 5, str(got))


def main():
    folder = tempfile.mkdtemp(prefix="pushlab-metrics-")
    p = subprocess.Popen([SERVER, "--http-port", "0", "--ws-port", "0", "--history", "3"],
                         stdout=subprocess.PIPE, text=True)
    http = dict(kv.split("=", 1) for kv in p.stdout.readline().split()[2:])["http"]
    try:
        check("the ws subscriber got its messages", traffic(http))
        status, headers, body = request(http + "/metrics")
        check("GET /metrics is the text exposition format",
              status == 200 and headers["Content-Type"].startswith("text/plain; version=0.0.4"))
        text = body.decode()
        check_values(samples(text))
        promtool(text)
        status, _, _ = request(http + "/metrics", b"", method="POST")
        check("only GET is allowed", status == 405)
        prometheus_scrapes(http, folder)
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)
    p = subprocess.Popen([SERVER, "--http-port", "0", "--ws-port", "0", "--history", "1000",
                          "--header-timeout", "1", "--max-lag", "5"],
                         stdout=subprocess.PIPE, text=True)
    try:
        cuts(dict(kv.split("=", 1) for kv in p.stdout.readline().split()[2:])["http"])
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=10)
    print(f"1..{len(results)}")
    for i, (name, ok, detail) in enumerate(results, 1):
        print(f"{'ok' if ok else 'not ok'} {i} - {name}")
        if not ok and detail:
            print(f"# {detail}"[:2000])
    return 0 if all(ok for _, ok, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
