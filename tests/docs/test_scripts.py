#!/usr/bin/env python3
"""Specifies the scripts the workshop tells people to run: scripts/demo.sh
says where the page is from the flags it was given, scripts/wire-bytes.sh
fails loudly (one stderr line, exit 1) instead of printing zeros when it
cannot measure, and scripts/wire-capture.sh's tcpdump counts agree with the
bytes curl itself received for the same answers (needs root and tcpdump,
as CI has; skipped otherwise). argv[1]: the pushlab-server binary. TAP."""
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
results = []


def run(cmd, env=None):
    e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    e.update(env or {})
    return subprocess.run(cmd, capture_output=True, text=True, env=e, timeout=30)


def test(name, ok, diag):
    results.append((name, ok, diag))


demo = os.path.join(ROOT, "scripts", "demo.sh")
for args, want in ((["--http-port", "9090"], "http://127.0.0.1:9090/"),
                   (["--http-port=9091", "--history", "3"], "http://127.0.0.1:9091/"),
                   (["--bind", "127.0.0.2"], "http://127.0.0.2:8080/"),
                   ([], "http://127.0.0.1:8080/")):
    r = run([demo, "--where"] + args)
    test("demo.sh %s names %s" % (" ".join(args), want), r.returncode == 0 and want in r.stdout,
         r.stdout + r.stderr)

wire = os.path.join(ROOT, "scripts", "wire-bytes.sh")
r = run([wire], {"HTTP": "http://127.0.0.1:9"})
test("wire-bytes.sh without $WS says so and exits 1",
     r.returncode == 1 and "$WS" in r.stderr and r.stdout == "", repr((r.returncode, r.stdout, r.stderr)))
r = run([wire], {"HTTP": "http://127.0.0.1:9", "WS": "ws://127.0.0.1:10"})
test("wire-bytes.sh against no server says so and exits 1, printing no figure",
     r.returncode == 1 and "no answer" in r.stderr and r.stdout == "", repr((r.returncode, r.stdout, r.stderr)))


def figures_check_fails_on_a_hand_edit():
    """A copy of the tree where one quoted figure was changed by hand."""
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        for d in ("scripts", "docs", os.path.join("web", "slides")):
            shutil.copytree(os.path.join(ROOT, d), os.path.join(tmp, d))
        shutil.copy(os.path.join(ROOT, "README.md"), tmp)
        fig = os.path.join(tmp, "scripts", "figures.py")
        clean = run([sys.executable, fig, "--check"])
        sheet = os.path.join(tmp, "docs", "cheatsheet.md")
        text = open(sheet).read()
        edited = re.sub(r"(\| one 64 B message on the wire ¹ \| )(\d+)", lambda m: m.group(1) + str(int(m.group(2)) + 1), text)
        open(sheet, "w").write(edited)
        dirty = run([sys.executable, fig, "--check"])
    test("figures.py --check passes on the tree and fails when a figure is edited by hand",
         clean.returncode == 0 and edited != text and dirty.returncode == 1 and "cheatsheet.md" in dirty.stdout,
         clean.stdout[-500:] + dirty.stdout[-500:])


figures_check_fails_on_a_hand_edit()

fig = os.path.join(ROOT, "scripts", "figures.py")
r = run([sys.executable, fig, "--refresh", "--only", "main,no-such-run"])
test("figures.py --refresh --only with a name no bench run has says which and measures nothing",
     r.returncode == 1 and "no bench run named no-such-run" in r.stdout, repr((r.returncode, r.stdout, r.stderr)))


def start_server(exe):
    proc = subprocess.Popen([exe, "--http-port", "0", "--ws-port", "0"], stdout=subprocess.PIPE, text=True)
    m = re.match(r"pushlab-server listening http=(\S+) ws=(\S+)", proc.stdout.readline())
    return proc, m.group(1), m.group(2)


def capture_checks(exe):
    proc, http, ws = start_server(exe)
    try:
        r = run([os.path.join(ROOT, "scripts", "wire-capture.sh")], {"HTTP": http, "WS": ws})
        summary = {m.group(1): (int(m.group(2)), int(m.group(3)), int(m.group(4))) for m in re.finditer(
            r"^(short_poll|long_poll|sse|ws) +(\d+) +(\d+) B +(\d+) B$", r.stdout, re.M)}
        test("wire-capture.sh captures all four transports", r.returncode == 0 and len(summary) == 4,
             r.stdout[-2000:] + r.stderr)
        room = re.search(r"GET /api/rooms/(cap\d+)/", r.stdout)
        for name, query in (("short_poll", "messages?since=0&limit=1"), ("long_poll", "messages?since=1&limit=1")):
            # The same answer again (one message; last_id has as many digits).
            got = run(["curl", "-s", "-o", "/dev/null", "-w", "%{size_header} %{size_download}",
                       "%s/api/rooms/%s/%s" % (http, room.group(1) if room else "x", query)]).stdout.split()
            want = sum(map(int, got)) if len(got) == 2 else -1
            test("wire-capture.sh: %s server->client is what curl received (%d B)" % (name, want),
                 summary.get(name, (0, 0, -2))[2] == want, repr(summary.get(name)))
        test("wire-capture.sh shows the stream's retry line, the event and the 101 answer",
             all(x in r.stdout for x in ("retry: 2000", "id: 3", "101 Switching Protocols")),
             "missing: %r; stderr: %s" % ([x for x in ("retry: 2000", "id: 3", "101 Switching Protocols")
                                           if x not in r.stdout], r.stderr))
    finally:
        proc.terminate()
        proc.wait(10)


def rps_checks(exe):
    """scripts/short-poll-rps.sh: a benchmark, so only what it must do is
    checked (both servers answer the page, every answer a 200, a ratio),
    never a figure."""
    script = os.path.join(ROOT, "scripts", "short-poll-rps.sh")
    build = os.path.dirname(os.path.dirname(os.path.abspath(exe)))
    r = run([script, "-d", "1", "-r", "1", "-c", "10", "-b", build])
    runs = re.findall(r"^(pushlab|nchan) +round 1 +([\d.]+) GETs/s +p99 +\S+ +non-2xx (\d+)"
                      r" +srv_us/GET +([\d.]+) +wrk_cpu (\d+)%$", r.stdout, re.M)
    test("short-poll-rps.sh runs wrk on both servers, every answer a 200, and prints their ratio",
         r.returncode == 0 and sorted(x[0] for x in runs) == ["nchan", "pushlab"] and
         all(float(x[1]) > 0 and x[2] == "0" for x in runs) and re.search(r"pushlab/nchan \d+\.\d\d", r.stdout),
         r.stdout[-1500:] + r.stderr[-1500:])
    test("short-poll-rps.sh gives each server's CPU per GET and wrk's share of a core, and their ratio",
         all(float(x[3]) > 0 and int(x[4]) > 0 for x in runs) and len(runs) == 2 and
         re.search(r"^median +server CPU per GET: pushlab [\d.]+ us, nchan [\d.]+ us: "
                   r"GETs per CPU-second pushlab/nchan \d+\.\d\d$", r.stdout, re.M),
         r.stdout[-1500:] + r.stderr[-1500:])
    r = run([script, "-b", "/nonexistent"])
    test("short-poll-rps.sh without a built server says so in one line and exits 1",
         r.returncode == 1 and r.stdout == "" and r.stderr.count("\n") == 1 and "pushlab-server" in r.stderr,
         repr((r.returncode, r.stdout, r.stderr)))


if len(sys.argv) > 1 and all(shutil.which(t) for t in ("wrk", "nginx", "curl")) and \
        os.path.exists("/usr/lib/nginx/modules/ngx_nchan_module.so"):
    rps_checks(sys.argv[1])
else:
    results.append(("short-poll-rps.sh # SKIP needs wrk, nginx with nchan and the server binary", True, ""))

if len(sys.argv) > 1 and os.geteuid() == 0 and shutil.which("tcpdump"):
    capture_checks(sys.argv[1])
else:
    results.append(("wire-capture.sh # SKIP needs root, tcpdump and the server binary", True, ""))

print("1..%d" % len(results))
for i, (name, ok, diag) in enumerate(results, 1):
    print("%s %d - %s" % ("ok" if ok else "not ok", i, name))
    if not ok:
        print("#   " + diag.replace("\n", "\n#   "))
        # meson's --print-errorlogs shows a TAP test's stderr, not its diagnostics.
        print("not ok %d - %s\n  %s" % (i, name, diag.replace("\n", "\n  ")), file=sys.stderr)
sys.exit(0)
