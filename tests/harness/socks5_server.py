"""A minimal SOCKS server for tests: SOCKS5 (RFC 1928: no authentication, CONNECT only, IPv4 and
domain names) and SOCKS4 / SOCKS4a (CONNECT only; 4a's 0.0.0.x address means "the name follows").
With socks5h:// or socks4a:// the client sends the name and this server resolves it, so run it
through proxy_harness.in_hosts_namespace to resolve test names. Logs one line per CONNECT to stdout:
`CONNECT host:port atyp=N` (SOCKS5) or `CONNECT4 host:port` / `CONNECT4a host:port`.

    python3 socks5_server.py PORT [MAX_SECONDS]
"""
import socket
import struct
import sys

from scripted_proxy import relay, serve  # the same directory (a script's own is on sys.path)


def recv_exact(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise ValueError("short read")
        data += chunk
    return data


def recv_cstring(conn, limit=255):
    data = b""
    while len(data) <= limit:
        c = recv_exact(conn, 1)
        if c == b"\0":
            return data.decode()
        data += c
    raise ValueError("string too long")


def tunnel(host, port):
    """A connection to host:port when it resolves to loopback (whatever the client asks), else None."""
    addr = socket.gethostbyname(host)
    if not addr.startswith("127."):
        return None
    return socket.create_connection((addr, port), timeout=10)


def handle_socks4(conn, deadline):
    cmd = recv_exact(conn, 1)[0]
    port = struct.unpack(">H", recv_exact(conn, 2))[0]
    ip = recv_exact(conn, 4)
    recv_cstring(conn)  # user id
    if ip[:3] == b"\0\0\0" and ip[3] != 0:
        host, kind = recv_cstring(conn), "CONNECT4a"
    else:
        host, kind = socket.inet_ntoa(ip), "CONNECT4"
    print(f"{kind} {host}:{port}", flush=True)
    up = tunnel(host, port) if cmd == 1 else None
    if not up:
        conn.sendall(b"\x00\x5b" + b"\x00" * 6)  # rejected or failed
        return
    conn.sendall(b"\x00\x5a" + b"\x00" * 6)
    conn.settimeout(None)
    relay(conn, up, deadline)
    up.close()


def handle(conn, deadline):
    try:
        conn.settimeout(10)
        ver = recv_exact(conn, 1)[0]
        if ver == 4:
            handle_socks4(conn, deadline)
            return
        n = recv_exact(conn, 1)[0]
        recv_exact(conn, n)
        conn.sendall(b"\x05\x00")  # no authentication
        ver, cmd, _, atyp = recv_exact(conn, 4)
        if atyp == 1:
            host = socket.inet_ntoa(recv_exact(conn, 4))
        elif atyp == 3:
            host = recv_exact(conn, recv_exact(conn, 1)[0]).decode()
        else:
            conn.sendall(b"\x05\x08\x00\x01" + b"\x00" * 6)
            return
        port = struct.unpack(">H", recv_exact(conn, 2))[0]
        print(f"CONNECT {host}:{port} atyp={atyp}", flush=True)
        if cmd != 1:
            conn.sendall(b"\x05\x07\x00\x01" + b"\x00" * 6)
            return
        up = tunnel(host, port)
        if not up:
            conn.sendall(b"\x05\x02\x00\x01" + b"\x00" * 6)
            return
        conn.sendall(b"\x05\x00\x00\x01" + socket.inet_aton("127.0.0.1") + struct.pack(">H", 0))
        conn.settimeout(None)
        relay(conn, up, deadline)
        up.close()
    except (OSError, ValueError):
        pass
    finally:
        conn.close()


def main():
    serve(int(sys.argv[1]), float(sys.argv[2]) if len(sys.argv) > 2 else 300, handle)


if __name__ == "__main__":
    main()
