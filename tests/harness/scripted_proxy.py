"""Small proxies for tests that tinyproxy cannot play (loopback only, bounded in time).

    SCRIPTED_PROXY_PASSWORD=... python3 scripted_proxy.py digest PORT MAX_SECONDS USER
        An HTTP forward proxy that demands Digest authentication (RFC 7616, algorithm MD5, qop auth)
        and then tunnels CONNECT or forwards a plain GET. Logs one line per request to stdout:
        `407 <method> <target>` (challenged), `DENIED <method> <target> user=<name>` (a wrong
        response; the password is never logged), `OK <method> <target> user=<name>`.
    python3 scripted_proxy.py tls PORT MAX_SECONDS CERT KEY UPSTREAM_PORT
        A TLS terminator: accepts TLS on PORT and relays the plaintext to 127.0.0.1:UPSTREAM_PORT
        (tinyproxy), which makes an `https://` proxy. Logs `TLS accepted` per handshake.

Upstream connections go only to names that resolve to 127.0.0.0/8; run the digest proxy through
proxy_harness.in_hosts_namespace to resolve test names.
"""
import hashlib
import os
import select
import socket
import ssl
import sys
import threading
import time

REALM = "goinstall-test"
MAX_HEAD = 16 * 1024
MAX_REQUESTS_PER_CONNECTION = 20


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def relay(a, b, deadline):
    """Copies bytes both ways until either side closes or the deadline passes (TLS-aware)."""
    socks = [a, b]
    while time.monotonic() < deadline:
        ready = [s for s in socks if isinstance(s, ssl.SSLSocket) and s.pending()]
        if not ready:
            ready, _, _ = select.select(socks, [], [], 1.0)
        for s in ready:
            try:
                data = s.recv(65536)
            except ssl.SSLWantReadError:
                continue
            if not data:
                return
            (b if s is a else a).sendall(data)


def read_head(conn, buf: bytes):
    """(head, rest) for the next request on conn, or (None, b"") when the client is gone."""
    while b"\r\n\r\n" not in buf:
        if len(buf) > MAX_HEAD:
            return None, b""
        chunk = conn.recv(4096)
        if not chunk:
            return None, b""
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    return head.decode("latin-1"), rest


def parse_auth(value: str) -> dict:
    """The parameters of a `Digest k=v, k="v"` header value."""
    if not value.lower().startswith("digest "):
        return {}
    out, s = {}, value[7:]
    while s:
        s = s.lstrip(" ,")
        key, _, s = s.partition("=")
        if s.startswith('"'):
            val, _, s = s[1:].partition('"')
        else:
            val, _, s = s.partition(",")
        out[key.strip().lower()] = val.strip()
    return out


def upstream(target: str):
    host, _, port = target.rpartition(":")
    addr = socket.gethostbyname(host.strip("[]"))
    if not addr.startswith("127."):
        return None
    return socket.create_connection((addr, int(port)), timeout=10)


class Digest:
    def __init__(self, user: str, password: str):
        self.user, self.password = user, password
        self.nonce = os.urandom(16).hex()

    def check(self, method: str, auth: dict) -> bool:
        if auth.get("username") != self.user or auth.get("nonce") != self.nonce or auth.get("qop") != "auth":
            return False
        ha1 = md5(f"{self.user}:{REALM}:{self.password}")
        ha2 = md5(f"{method}:{auth.get('uri', '')}")
        expected = md5(f"{ha1}:{self.nonce}:{auth.get('nc', '')}:{auth.get('cnonce', '')}:auth:{ha2}")
        return auth.get("response", "").lower() == expected

    def challenge(self) -> bytes:
        return (f'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Digest realm="{REALM}", '
                f'nonce="{self.nonce}", qop="auth", algorithm=MD5\r\nContent-Length: 0\r\n\r\n').encode()


def handle_digest(conn, digest: Digest, deadline):
    buf = b""
    for _ in range(MAX_REQUESTS_PER_CONNECTION):
        head, buf = read_head(conn, buf)
        if head is None:
            return
        lines = head.split("\r\n")
        method, target, _ = (lines[0].split(" ") + ["", ""])[:3]
        headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
        auth = parse_auth(headers.get("proxy-authorization", ""))
        if not auth:
            print(f"407 {method} {target}", flush=True)
            conn.sendall(digest.challenge())
            continue
        if not digest.check(method, auth):
            print(f"DENIED {method} {target} user={auth.get('username', '')}", flush=True)
            conn.sendall(digest.challenge())
            continue
        print(f"OK {method} {target} user={auth['username']}", flush=True)
        if method == "CONNECT":
            up = upstream(target)
            if up is None:
                conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                return
            conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            if buf:
                up.sendall(buf)
        else:  # GET http://host:port/path: forwarded as is, one request per connection
            hostport = target.split("/")[2] if target.startswith("http://") else ""
            up = upstream(hostport if ":" in hostport else hostport + ":80")
            if up is None:
                conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                return
            kept = [ln for ln in lines[1:] if not ln.lower().startswith(("proxy-", "connection"))]
            path = "/" + target.split("/", 3)[3] if target.count("/") >= 3 else "/"
            up.sendall(("\r\n".join([f"{method} {path} HTTP/1.1", *kept, "Connection: close"]) + "\r\n\r\n").encode()
                       + buf)
        conn.settimeout(None)
        relay(conn, up, deadline)
        up.close()
        return


def handle_tls(conn, ctx, upstream_port, deadline):
    tls = ctx.wrap_socket(conn, server_side=True)
    print("TLS accepted", flush=True)
    up = socket.create_connection(("127.0.0.1", upstream_port), timeout=10)
    tls.settimeout(None)
    relay(tls, up, deadline)
    up.close()
    tls.close()


def serve(port: int, seconds: float, handler):
    deadline = time.monotonic() + seconds
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(16)
    srv.settimeout(1.0)
    while time.monotonic() < deadline:
        try:
            conn, _ = srv.accept()
        except socket.timeout:
            continue

        def run(c=conn):
            try:
                c.settimeout(10)
                handler(c, deadline)
            except (OSError, ValueError, ssl.SSLError):
                pass
            finally:
                c.close()
        threading.Thread(target=run, daemon=True).start()


def main():
    mode, port, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    if mode == "digest":
        digest = Digest(sys.argv[4], os.environ["SCRIPTED_PROXY_PASSWORD"])
        serve(port, seconds, lambda c, d: handle_digest(c, digest, d))
    elif mode == "tls":
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(sys.argv[4], sys.argv[5])
        up = int(sys.argv[6])
        serve(port, seconds, lambda c, d: handle_tls(c, ctx, up, d))
    else:
        sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
