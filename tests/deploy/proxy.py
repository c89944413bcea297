"""Shared by the deploy tests: a CA and a certificate made with openssl,
pushlab-server and nginx started on free ports with every file in one
temporary folder, each stopped by its pid. nginx runs the site file shipped
in docs/deploy/ with only its ports, upstreams and certificate paths
replaced, so the test proves that very file."""
import os
import re
import signal
import socket
import ssl
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SITE = os.path.join(ROOT, "docs", "deploy", "pushlab.conf")
NGINX = "/usr/sbin/nginx"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_ca(folder):
    """A CA and a server certificate for 127.0.0.1 and localhost."""
    def run(*args):
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
        "/CN=pushlab test CA", "-keyout", "ca.key", "-out", "ca.pem")
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
        "-keyout", "server.key", "-out", "server.csr")
    with open(os.path.join(folder, "san.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-days", "2", "-extfile", "san.ext", "-out", "server.pem")
    return os.path.join(folder, "ca.pem")


class Server:
    def __init__(self, exe, *args):
        self.p = subprocess.Popen([exe, "--http-port", "0", "--ws-port", "0", *args],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.p.stdout.readline().split()
        if len(line) != 4:
            raise RuntimeError("pushlab-server did not start: " + self.p.stderr.read())
        urls = dict(kv.split("=", 1) for kv in line[2:])
        self.http_port = int(urls["http"].rsplit(":", 1)[1])
        self.ws_port = int(urls["ws"].rsplit(":", 1)[1])

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        self.p.wait(timeout=10)


def site_config(text, plain, tls, srv, folder):
    """The shipped site file with this run's ports and paths. Every line
    it expects must be there: a changed file fails here, not silently."""
    subs = [("listen 80;", f"listen 127.0.0.1:{plain};"),
            ("listen 443 ssl http2;", f"listen 127.0.0.1:{tls} ssl http2;"),
            ("server 127.0.0.1:8080;", f"server 127.0.0.1:{srv.http_port};"),
            ("server 127.0.0.1:8081;", f"server 127.0.0.1:{srv.ws_port};"),
            ("/etc/ssl/certs/chat.example.org.pem", os.path.join(folder, "server.pem")),
            ("/etc/ssl/private/chat.example.org.key", os.path.join(folder, "server.key"))]
    for old, new in subs:
        if old not in text:
            raise RuntimeError(f"{SITE} no longer has '{old}'")
        text = text.replace(old, new)
    return text


class Nginx:
    """nginx running the shipped site file (or `site`, a function of the
    plain port giving the server blocks), under its own prefix; never
    /etc/nginx."""

    def __init__(self, folder, srv, edit=None, site=None):
        self.folder, self.plain, self.tls = folder, free_port(), free_port()
        if site:
            site = site(self.plain)
        else:
            site = site_config(open(SITE).read(), self.plain, self.tls, srv, folder)
        if edit:
            site = edit(site)
        conf = os.path.join(folder, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"""worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
{site}
}}
""")
        os.chmod(folder, 0o755)  # workers run as nobody when we are root
        self.p = subprocess.Popen([NGINX, "-p", folder, "-e", f"{folder}/error.log", "-c", conf,
                                   "-g", "daemon off;"], stderr=subprocess.PIPE, text=True)
        for _ in range(100):
            if self.p.poll() is not None:
                raise RuntimeError("nginx did not start: " + self.p.stderr.read())
            try:
                socket.create_connection(("127.0.0.1", self.plain), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("nginx did not listen")

    def stop(self):
        self.p.send_signal(signal.SIGQUIT)
        try:
            self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()


def tls_socket(port, ca):
    ctx = ssl.create_default_context(cafile=ca)
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    return ctx.wrap_socket(raw, server_hostname="127.0.0.1")


def read_until(sock, marker, timeout):
    """Reads until `marker` (bytes) is in what arrived, or `timeout` s."""
    sock.settimeout(0.2)
    data, end = b"", time.monotonic() + timeout
    while marker not in data and time.monotonic() < end:
        try:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        except (socket.timeout, ssl.SSLWantReadError):
            pass
    return data


def ws_handshake(port, ca, path, origin=None):
    s = tls_socket(port, ca)
    hdr = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
           "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
           "Sec-WebSocket-Version: 13\r\n")
    if origin:
        hdr += f"Origin: {origin}\r\n"
    s.sendall((hdr + "\r\n").encode())
    head = read_until(s, b"\r\n\r\n", 5)
    s.close()
    m = re.match(rb"HTTP/1\.1 (\d{3})", head)
    return int(m.group(1)) if m else 0


def tempdir():
    return tempfile.mkdtemp(prefix="pushlab-deploy-")
