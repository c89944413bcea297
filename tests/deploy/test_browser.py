#!/usr/bin/env python3
"""Runs tests/web/deploy.test.mjs against pushlab behind a real nginx: a
server, nginx with docs/deploy/pushlab.conf, a CA made for the test and an
NSS database in a temporary $HOME that trusts it, as a user would add their
own CA to Chromium. Passes node's TAP output through.
usage: test_browser.py SERVER WEB_ROOT NODE"""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxy  # noqa: E402

SERVER, WEB_ROOT, NODE = sys.argv[1:4]
TEST = os.path.join(proxy.ROOT, "tests", "web", "deploy.test.mjs")


def trusting_home(folder, ca):
    home = os.path.join(folder, "home")
    db = os.path.join(home, ".pki", "nssdb")
    os.makedirs(db)
    subprocess.run(["certutil", "-d", f"sql:{db}", "-N", "--empty-password"], check=True)
    subprocess.run(["certutil", "-d", f"sql:{db}", "-A", "-t", "C,,", "-n", "pushlab test CA",
                    "-i", ca], check=True)
    return home


def main():
    folder = proxy.tempdir()
    ca = proxy.make_ca(folder)
    srv = proxy.Server(SERVER, "--trust-proxy", "--web-root", WEB_ROOT)
    ng = proxy.Nginx(folder, srv)
    try:
        home = trusting_home(folder, ca)
        r = subprocess.run([NODE, "--test-reporter=tap", TEST, f"https://127.0.0.1:{ng.tls}",
                            f"http://127.0.0.1:{ng.plain}", f"http://127.0.0.1:{srv.http_port}",
                            home], timeout=170)
        return r.returncode
    finally:
        ng.stop()
        srv.stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
