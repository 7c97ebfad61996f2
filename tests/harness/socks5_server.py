"""A minimal SOCKS5 server (RFC 1928: no authentication, CONNECT only, IPv4 and domain names) for
tests. With socks5h:// the client sends the name and this server resolves it, so run it through
proxy_harness.in_hosts_namespace to resolve test names. Logs one line per CONNECT to stdout.

    python3 socks5_server.py PORT [MAX_SECONDS]
"""
import select
import socket
import struct
import sys
import threading
import time


def relay(a, b, deadline):
    socks = [a, b]
    while time.monotonic() < deadline:
        r, _, _ = select.select(socks, [], [], 1.0)
        for s in r:
            data = s.recv(65536)
            if not data:
                return
            (b if s is a else a).sendall(data)


def handle(conn, deadline):
    try:
        conn.settimeout(10)
        ver, n = conn.recv(2)
        conn.recv(n)
        conn.sendall(b"\x05\x00")  # no authentication
        ver, cmd, _, atyp = conn.recv(4)
        if atyp == 1:
            host = socket.inet_ntoa(conn.recv(4))
        elif atyp == 3:
            host = conn.recv(conn.recv(1)[0]).decode()
        else:
            conn.sendall(b"\x05\x08\x00\x01" + b"\x00" * 6)
            return
        port = struct.unpack(">H", conn.recv(2))[0]
        print(f"CONNECT {host}:{port} atyp={atyp}", flush=True)
        if cmd != 1:
            conn.sendall(b"\x05\x07\x00\x01" + b"\x00" * 6)
            return
        addr = socket.gethostbyname(host)
        if not addr.startswith("127."):  # loopback only, whatever the client asks
            conn.sendall(b"\x05\x02\x00\x01" + b"\x00" * 6)
            return
        up = socket.create_connection((addr, port), timeout=10)
        conn.sendall(b"\x05\x00\x00\x01" + socket.inet_aton("127.0.0.1") + struct.pack(">H", 0))
        conn.settimeout(None)
        relay(conn, up, deadline)
        up.close()
    except (OSError, ValueError):
        pass
    finally:
        conn.close()


def main():
    port = int(sys.argv[1])
    deadline = time.monotonic() + (float(sys.argv[2]) if len(sys.argv) > 2 else 300)
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
        threading.Thread(target=handle, args=(conn, deadline), daemon=True).start()


if __name__ == "__main__":
    main()
