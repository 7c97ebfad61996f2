"""An emulated mirror link for the benchmark: a TCP relay on 127.0.0.1 in front of nginx whose
connections all share one token bucket.

nginx's `limit_rate` cannot stand in for a mirror's link when goinstall fetches ranges: it limits
each request on its own and lets every request send a whole second's worth at once (its write
filter allows rate × (elapsed + 1 s)), so a 4 MiB range at "10 MiB/s" leaves in one burst and
three such "mirrors" measured 5× one. A link is shared by every connection to that host and has
no such credit; this relay gives each mirror that: at most `rate` bytes a second in total, with a
bucket of 50 ms and a 64 KiB socket send buffer so that neither holds a burst."""
from __future__ import annotations

import socket
import threading
import time

_CHUNK = 16 * 1024


class SharedLink:
    def __init__(self, target_port: int, rate: float):
        self.target_port = target_port
        self.rate = float(rate)
        self.capacity = self.rate * 0.05
        self.tokens = 0.0
        self.last = time.monotonic()
        self.lock = threading.Lock()
        self.stopped = False
        self.socks = []
        self.srv = socket.socket()
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(64)
        self.srv.settimeout(0.5)
        self.port = self.srv.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self.stopped = True
        for s in [self.srv, *self.socks]:
            try:
                s.close()
            except OSError:
                pass

    def _take(self, n: int) -> None:
        while not self.stopped:
            with self.lock:
                now = time.monotonic()
                self.tokens = min(self.capacity, self.tokens + (now - self.last) * self.rate)
                self.last = now
                if self.tokens >= n:
                    self.tokens -= n
                    return
                wait = (n - self.tokens) / self.rate
            time.sleep(wait)

    def _accept(self) -> None:
        while not self.stopped:
            try:
                client, _ = self.srv.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                up = socket.create_connection(("127.0.0.1", self.target_port), timeout=10)
            except OSError:
                client.close()
                continue
            client.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 * 1024)
            self.socks += [client, up]
            threading.Thread(target=self._pump, args=(client, up, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(up, client, True), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, limited: bool) -> None:
        deadline = time.monotonic() + 600   # bounded, whatever the peers do
        try:
            src.settimeout(60)
            while not self.stopped and time.monotonic() < deadline:
                data = src.recv(_CHUNK)
                if not data:
                    break
                if limited:
                    self._take(len(data))
                dst.sendall(data)
        except OSError:
            pass
        finally:
            try:
                dst.shutdown(socket.SHUT_WR)
            except OSError:
                pass
