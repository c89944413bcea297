#!/usr/bin/env python3
"""The install is usable on its own: `meson install` into a temporary
prefix, then the installed server, client and bench run from another
directory, a program builds against the installed library with pkg-config
alone, and the man pages are there. TAP output.
usage: test_install.py BUILD_DIR SANITIZE(none|address,undefined|...)"""
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.request

BUILD, SANITIZE = sys.argv[1], sys.argv[2]
HERE = os.path.dirname(os.path.abspath(__file__))
results = []


def check(name, ok, detail=""):
    results.append((name, ok, detail))


def installed(root, pattern):
    hits = glob.glob(os.path.join(root, "**", pattern), recursive=True)
    return hits[0] if hits else None


def start_server(bin_path, cwd):
    p = subprocess.Popen([bin_path, "--http-port", "0", "--ws-port", "0"], cwd=cwd,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline().split()
    urls = dict(kv.split("=", 1) for kv in line[2:]) if len(line) == 4 else {}
    return p, urls.get("http")


def main():
    tmp = tempfile.mkdtemp(prefix="pushlab-install-")
    dest, elsewhere = os.path.join(tmp, "dest"), os.path.join(tmp, "elsewhere")
    os.makedirs(elsewhere)
    env = dict(os.environ, DESTDIR=dest)
    r = subprocess.run(["meson", "install", "-C", BUILD, "--no-rebuild", "--quiet"],
                       env=env, capture_output=True, text=True)
    check("meson_install_succeeds", r.returncode == 0, r.stderr[-500:])
    server, client, bench = (installed(dest, "bin/" + n)
                             for n in ("pushlab-server", "pushlab-client", "pushlab-bench"))
    check("the_three_programs_are_installed", all((server, client, bench)),
          f"server={server} client={client} bench={bench}")
    web = installed(dest, "share/pushlab/web/index.html")
    check("the_page_is_installed_in_the_data_directory", web is not None)
    for man in ("pushlab-server.1", "pushlab-client.1", "pushlab-bench.1"):
        check(f"man_page_{man}_is_installed", installed(dest, "man1/" + man) is not None)
    pc = installed(dest, "pkgconfig/pushlab-client.pc")
    header = installed(dest, "include/pushlab/client.h")
    check("header_and_pkg_config_file_are_installed", pc is not None and header is not None)
    if not (server and client and bench and web):
        return finish(tmp)

    help_text = subprocess.run([server, "--help"], capture_output=True, text=True).stdout
    web_dir = os.path.realpath(os.path.dirname(web))
    shown = [w for w in help_text.split() if w.rstrip(")").endswith("/web")]
    check("help_shows_the_installed_web_root",
          bool(shown) and os.path.realpath(shown[0].rstrip(")")) == web_dir, str(shown))

    proc, http = start_server(server, elsewhere)
    try:
        check("installed_server_starts_from_another_directory", http is not None)
        if http:
            page = urllib.request.urlopen(http + "/", timeout=5).read()
            check("installed_server_serves_the_installed_page",
                  page == open(web, "rb").read())
            run_client(client, http, elsewhere)
            run_consumer(pc, header, http, dest, tmp)
        run_bench(bench, elsewhere)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return finish(tmp)


def run_client(client, http, cwd):
    s = subprocess.run([client, "--url", http, "--room", "inst", "send", "hello"],
                       cwd=cwd, capture_output=True, text=True, timeout=20)
    check("installed_client_sends", s.returncode == 0, s.stderr)
    l = subprocess.run([client, "--url", http, "--room", "inst", "--transport", "sse",
                        "--since", "0", "--count", "1", "--json", "--quiet", "listen"],
                       cwd=cwd, capture_output=True, text=True, timeout=20)
    got = [json.loads(x) for x in l.stdout.splitlines() if x.strip()]
    check("installed_client_listens",
          l.returncode == 0 and len(got) == 1 and got[0].get("text") == "hello",
          l.stdout + l.stderr)


def run_consumer(pc, header, http, dest, tmp):
    """Compiles consumer.c with only what pkg-config says about the
    installed tree, its prefix moved under DESTDIR."""
    env = dict(os.environ, PKG_CONFIG_PATH=os.path.dirname(pc))
    prefix = subprocess.run(["pkg-config", "--variable=prefix", "pushlab-client"], env=env,
                            capture_output=True, text=True).stdout.strip()
    flags = subprocess.run(["pkg-config", f"--define-variable=prefix={dest}{prefix}",
                            "--cflags", "--libs", "pushlab-client"],
                           env=env, capture_output=True, text=True)
    check("pkg_config_knows_pushlab_client", flags.returncode == 0, flags.stderr)
    exe = os.path.join(tmp, "consumer")
    san = [] if SANITIZE in ("none", "") else ["-fsanitize=" + SANITIZE]
    cc = shutil.which("cc") or "gcc"
    build = subprocess.run([cc, "-std=c11", "-Wall", "-Werror", *san,
                            os.path.join(HERE, "consumer.c"), "-o", exe,
                            *flags.stdout.split()], capture_output=True, text=True)
    check("a_program_builds_against_the_installed_library", build.returncode == 0,
          build.stderr[-800:])
    if build.returncode != 0:
        return
    libdir = os.path.dirname(installed(dest, "libpushlab-client.so"))
    run = subprocess.run([exe, http], env=dict(os.environ, LD_LIBRARY_PATH=libdir),
                         capture_output=True, text=True, timeout=20)
    check("the_program_publishes_through_the_installed_library",
          run.returncode == 0 and run.stdout.startswith("published id="),
          run.stdout + run.stderr)
    exports = subprocess.run(["nm", "-D", "--defined-only", installed(dest, "libpushlab-client.so")],
                             capture_output=True, text=True).stdout.split()
    api = set(re.findall(r"\bpl_\w+", open(header).read()))
    leaked = [s for s in exports if s.startswith("pl_") and s not in api]
    check("the_library_exports_only_its_header_api", "pl_sub_open" in exports and not leaked,
          " ".join(leaked[:10]))


def run_bench(bench, cwd):
    b = subprocess.run([bench, "--transports", "sse", "--subscribers", "2", "--rate", "10",
                        "--duration", "1", "--warmup", "0", "--quiet",
                        "--json", os.path.join(cwd, "run.json")],
                       cwd=cwd, capture_output=True, text=True, timeout=60)
    ok = b.returncode == 0 and os.path.exists(os.path.join(cwd, "run.json"))
    if ok:
        res = json.load(open(os.path.join(cwd, "run.json")))["results"][0]
        ok = res["delivered"] == res["expected"] > 0
    check("installed_bench_starts_the_installed_server_and_delivers", ok, b.stderr[-500:])


def finish(tmp):
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"1..{len(results)}")
    for i, (name, ok, detail) in enumerate(results, 1):
        print(f"{'ok' if ok else 'not ok'} {i} - {name}")
        if not ok and detail:
            for line in str(detail).splitlines()[-15:]:
                print(f"# {line}")
    return 0 if all(ok for _, ok, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
