"""A scripted, fault-injecting HTTP/1.1 server for tests (standard library only).

    import fault_server as fs
    with fs.FaultServer({"dl/go.tar.gz": data}) as srv:          # http://127.0.0.1:<port>/
        srv.set_fault(fs.truncate(at_fraction=0.4, times=1))       # first GET cut at 40 %
        ... run the client against srv.url_for("dl/go.tar.gz") ...
        first, resumed = srv.wait_for_requests(2)
        assert (first.completed, resumed.range_start) == (False, 40000)

HTTP is written by hand (one request per connection, `Connection: close`), so every byte on the
wire is under control: status line, headers, Content-Length, Range / If-Range, closing mid-body.
See README.md beside this file for the full list of faults and their exact behaviour.

Also: `Blackhole` (a port where TCP connect() times out), `closed_port()` (connection refused).
House rules: loopback only, ephemeral ports, every wait bounded, `stop()` (also from `with`)
closes every connection and joins every thread with a deadline.
"""

from __future__ import annotations

import _socket
import atexit
import dataclasses
import email.utils
import hashlib
import http
import math
import os
import select
import socket
import ssl
import struct
import threading
import time
import unittest
import urllib.parse
import weakref
from typing import Optional, Sequence, Union

__all__ = [
    "FaultServer", "RequestRecord", "Fault", "start_fault_server",
    "ok", "status", "truncate", "ignore_range", "changing_etag", "wrong_content_range", "corrupt",
    "drip", "hang_after_accept", "lie_content_length", "redirect", "empty_reply", "delay",
    "Blackhole", "closed_port", "release_closed_ports",
    "parse_range", "strong_etag",
]

_MAX_HEADER_BYTES = 64 * 1024
_MAX_REQUEST_BODY = 1024 * 1024
_CHUNK = 64 * 1024
_ETAG_HEX = 16          # ETag: "<first 16 hex digits of the body's sha256>"
_LINGER_SECONDS = 1.0   # after our FIN: wait this long (at most) for the client's EOF


# ------------------------------------------------------------------------------------------------
# Faults
# ------------------------------------------------------------------------------------------------

@dataclasses.dataclass(eq=False)
class Fault:
    """One misbehaviour. Build with the factory functions (`truncate(...)`, `status(...)`, ...).

    `times`: apply to the first `times` requests it matches, then behave normally (None: always).
    `used` counts the requests it has been applied to (the object is shared state: giving the
    same Fault to two paths shares its count).
    """
    kind: str
    params: dict = dataclasses.field(default_factory=dict)
    times: Optional[int] = None
    used: int = 0

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.used >= self.times

    @property
    def remaining(self) -> Optional[int]:
        return None if self.times is None else max(0, self.times - self.used)

    def release(self) -> None:
        """For a `gate()` fault: let the held requests (and every later one) through."""
        self.params["open"].set()

    def wait_held(self, count: int = 1, timeout: float = 10.0) -> bool:
        """For a `gate()` fault: wait (bounded) until `count` requests have reached the gate."""
        cond = self.params["cond"]
        with cond:
            return cond.wait_for(lambda: self.params["held"] >= count, timeout)

    def __repr__(self) -> str:
        p = ", ".join(f"{k}={v!r}" for k, v in self.params.items() if k not in ("body", "open", "cond"))
        return f"Fault({self.kind}{', ' + p if p else ''}, times={self.times}, used={self.used})"


def _times(times: Optional[int]) -> Optional[int]:
    if times is not None and (not isinstance(times, int) or times < 0):
        raise ValueError(f"times must be None or an int >= 0, not {times!r}")
    return times


def ok(times: Optional[int] = None) -> Fault:
    """No fault: serve normally (a placeholder in a script, or shields one path from the
    server-wide fault)."""
    return Fault("ok", {}, _times(times))


def status(code: int, headers: Optional[dict] = None, body: Union[bytes, str] = b"",
           times: Optional[int] = None) -> Fault:
    """Answer `code` with `headers` (they override the defaults: Content-Type, Content-Length,
    Date, Server, Connection) and `body`. E.g. status(503, {"Retry-After": "1"})."""
    if isinstance(body, str):
        body = body.encode()
    return Fault("status", {"code": int(code), "headers": dict(headers or {}), "body": bytes(body)},
                 _times(times))


def truncate(at_fraction: Optional[float] = None, at_bytes: Optional[int] = None,
             times: Optional[int] = None) -> Fault:
    """Correct headers (full Content-Length), then only floor(len*at_fraction) or `at_bytes` bytes
    of the response body (of the requested range, for a 206), then FIN (no TLS close_notify).
    Default: at_fraction=0.4."""
    if at_fraction is not None and at_bytes is not None:
        raise ValueError("give at_fraction or at_bytes, not both")
    if at_fraction is None and at_bytes is None:
        at_fraction = 0.4
    if at_fraction is not None and not 0 <= at_fraction <= 1:
        raise ValueError("at_fraction must be in [0, 1]")
    if at_bytes is not None and at_bytes < 0:
        raise ValueError("at_bytes must be >= 0")
    return Fault("truncate", {"at_fraction": at_fraction, "at_bytes": at_bytes}, _times(times))


def ignore_range(times: Optional[int] = None) -> Fault:
    """A request with a Range header gets 200 and the whole body (no Content-Range)."""
    return Fault("ignore_range", {}, _times(times))


def changing_etag(times: Optional[int] = None) -> Fault:
    """A new ETag (and Last-Modified) on every response for a known file, so If-Range never
    matches and a Range + If-Range request gets 200 with the whole body (RFC 9110 13.1.5)."""
    return Fault("changing_etag", {}, _times(times))


def wrong_content_range(start: Optional[int] = None, times: Optional[int] = None) -> Fault:
    """A request that would get 206 gets 206 with `Content-Range: bytes W-(len-1)/len` and the
    bytes from W, where W != the requested start: `start` if given, else requested//2 (or len//2
    when the request starts at 0)."""
    return Fault("wrong_content_range", {"start": start}, _times(times))


def corrupt(positions: Optional[Sequence[int]] = None, times: Optional[int] = None) -> Fault:
    """Same length, but bytes flipped (XOR 0xFF) at `positions` of the body sent (default: the
    middle byte), so its SHA-256 does not match."""
    return Fault("corrupt", {"positions": list(positions) if positions is not None else None},
                 _times(times))


def drip(bytes_per_second: float = 10, max_seconds: float = 120.0,
         times: Optional[int] = None) -> Fault:
    """Headers at once, then the body at `bytes_per_second` (writes every 0.1 s or less); stops
    when the client disconnects, at stop(), or after `max_seconds` (then closes: truncated)."""
    if bytes_per_second <= 0:
        raise ValueError("bytes_per_second must be > 0")
    return Fault("drip", {"bytes_per_second": float(bytes_per_second),
                          "max_seconds": float(max_seconds)}, _times(times))


def hang_after_accept(max_seconds: float = 120.0, times: Optional[int] = None) -> Fault:
    """Accept (and finish TLS), read the request, never answer: until the client closes, stop(),
    or `max_seconds`."""
    return Fault("hang", {"max_seconds": float(max_seconds)}, _times(times))


def lie_content_length(extra: int = 1000, times: Optional[int] = None) -> Fault:
    """Content-Length announces `extra` more bytes than the body; the body is sent, then FIN."""
    return Fault("lie_content_length", {"extra": int(extra)}, _times(times))


def redirect(location: str, code: int = 302, times: Optional[int] = None) -> Fault:
    """`code` with `Location: location` (sent as given: absolute or relative)."""
    return Fault("redirect", {"location": location, "code": int(code)}, _times(times))


def empty_reply(rst: bool = False, times: Optional[int] = None) -> Fault:
    """Read the request, then close without a byte of response (FIN; `rst=True`: RST)."""
    return Fault("empty_reply", {"rst": bool(rst)}, _times(times))


def delay(seconds: float, times: Optional[int] = None) -> Fault:
    """Wait `seconds` (interrupted by stop()) before answering normally (slow first byte)."""
    return Fault("delay", {"seconds": float(seconds)}, _times(times))


def gate(max_seconds: float = 120.0, times: Optional[int] = None) -> Fault:
    """Hold each request (read, nothing answered) until `release()` is called on the returned
    fault (or stop() / max_seconds), then answer normally: a test decides when a transfer may go on
    instead of guessing with a slow drip. A held request is in requests() with t_end None."""
    return Fault("gate", {"open": threading.Event(), "cond": threading.Condition(), "held": 0,
                          "max_seconds": float(max_seconds)}, _times(times))


# Which requests each kind applies to (a fault that does not apply is not consumed).
def _fault_applies(kind: str, method: str, known: bool, has_range: bool, normal_status: int) -> bool:
    if kind in ("ok", "status", "redirect", "hang", "empty_reply", "delay", "gate"):
        return True
    if kind == "changing_etag":
        return known
    if kind == "ignore_range":
        return known and has_range
    if kind == "wrong_content_range":
        return known and normal_status == 206
    if kind in ("truncate", "corrupt", "drip", "lie_content_length"):
        return known and method == "GET" and normal_status in (200, 206)
    raise ValueError(f"unknown fault kind {kind!r}")


# ------------------------------------------------------------------------------------------------
# Range / validators
# ------------------------------------------------------------------------------------------------

def parse_range(value: Optional[str], length: int):
    """Parse a Range header for a body of `length` bytes.

    Returns None (absent, not `bytes=`, malformed or several ranges: ignore it, serve 200),
    "unsatisfiable" (416), or (first, last) inclusive. Forms: N-, N-M, -S.
    """
    if value is None:
        return None
    v = value.strip()
    if not v[:6].lower() == "bytes=":
        return None
    spec = v[6:].strip()
    if "," in spec or "-" not in spec:
        return None
    a, _, b = spec.partition("-")
    a, b = a.strip(), b.strip()
    try:
        if a == "":
            if not b.isdigit():
                return None
            n = int(b)
            if n == 0 or length == 0:
                return "unsatisfiable"
            return (max(0, length - n), length - 1)
        if not a.isdigit() or (b and not b.isdigit()):
            return None
        first = int(a)
        last = int(b) if b else length - 1
    except ValueError:
        return None
    if b and last < first:
        return None
    if first >= length:
        return "unsatisfiable"
    return (first, min(last, length - 1))


def _range_start(value: Optional[str]) -> Optional[int]:
    if value is None:
        return None
    v = value.strip()
    if v[:6].lower() != "bytes=":
        return None
    a = v[6:].split(",")[0].partition("-")[0].strip()
    return int(a) if a.isdigit() else None


def strong_etag(data: bytes) -> str:
    """The ETag FaultServer sends for `data`: '"<sha256 hex prefix>"' (with the quotes)."""
    return '"' + hashlib.sha256(data).hexdigest()[:_ETAG_HEX] + '"'


class _Entry:
    __slots__ = ("data", "mtime", "_etag")

    def __init__(self, data: bytes, mtime: int):
        self.data = data
        self.mtime = mtime
        self._etag = None

    @property
    def etag(self) -> str:
        if self._etag is None:
            self._etag = strong_etag(self.data)
        return self._etag


def _http_date(t: float) -> str:
    return email.utils.formatdate(t, usegmt=True)


def _content_type(path: str) -> str:
    p = path.split("?")[0].lower()
    for ext, ct in ((".json", "application/json"), (".html", "text/html"), (".txt", "text/plain"),
                    (".gz", "application/gzip"), (".tgz", "application/gzip"),
                    (".zip", "application/zip")):
        if p.endswith(ext):
            return ct
    return "application/octet-stream"


def _reason(code: int) -> str:
    try:
        return http.HTTPStatus(code).phrase
    except ValueError:
        return "Unknown"


# ------------------------------------------------------------------------------------------------
# Records
# ------------------------------------------------------------------------------------------------

@dataclasses.dataclass
class RequestRecord:
    """One request as the server saw it and what it answered. Times are time.monotonic()."""
    method: str
    path: str                       # request path as sent, without the query ("/dl/x.tar.gz")
    query: str                      # "" when none
    target: str                     # request-target as sent
    version: str                    # "HTTP/1.1"
    headers: dict                   # lowercased names; repeated headers joined with ", "
    range: Optional[str]            # raw Range header
    range_start: Optional[int]      # N of "bytes=N-" / "bytes=N-M"; None if absent or suffix
    if_range: Optional[str]         # raw If-Range header
    peer: tuple = ()
    tls: bool = False
    fault: Optional[str] = None     # kind of the fault applied (None: served normally)
    status: Optional[int] = None    # status sent (None: nothing sent)
    response_headers: list = dataclasses.field(default_factory=list)   # [(name, value)]
    content_length: Optional[int] = None   # as announced
    body_bytes_sent: int = 0
    bytes_sent: int = 0             # including the status line and headers
    completed: bool = False         # the whole announced response was sent
    error: Optional[str] = None     # why it ended early (client gone, stop(), ...)
    t_start: float = 0.0
    t_end: Optional[float] = None   # None while in flight

    @property
    def finished(self) -> bool:
        return self.t_end is not None

    def response_header(self, name: str) -> Optional[str]:
        n = name.lower()
        for k, v in self.response_headers:
            if k.lower() == n:
                return v
        return None


class _Stopped(Exception):
    pass


class _ClientGone(Exception):
    pass


# ------------------------------------------------------------------------------------------------
# The server
# ------------------------------------------------------------------------------------------------

def _fam(host: str) -> int:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _close_at_exit(stop_event: threading.Event, holder: list) -> None:
    stop_event.set()
    for s in list(holder):
        try:
            s.close()
        except OSError:
            pass


class FaultServer:
    """Scripted HTTP/1.1 server serving `files` ({path: bytes}) on host:<ephemeral port>.

    Context manager (start/stop). Thread-safe: put()/set_fault()/requests() may be called while
    requests are in flight. `tls_cert`: a CertFiles from goinstall_harness.make_cert (or any
    object with .cert/.key, or a (certfile, keyfile) tuple), or True for a fresh test CA + cert
    (then `.ca_cert` / `client_ssl_context()`).

    Paths are matched without the leading "/": first path?query exactly, then the path, then for
    a path ending in "/" path+"index.json" and path+"index.html" (like the Nginx helper, so
    put("dl/index.json", ...) answers /dl/?mode=json&include=all).
    """

    def __init__(self, files: Optional[dict] = None, tls_cert=None, host: str = "127.0.0.1",
                 request_timeout: float = 10.0, io_timeout: float = 30.0,
                 max_lifetime: float = 3600.0):
        self.host = host
        self.max_lifetime = max_lifetime
        self.request_timeout = request_timeout
        self.io_timeout = io_timeout
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._files: dict = {}
        self._faults: dict = {}            # key (None: all paths) -> list[Fault]
        self._records: list = []
        self._etag_counter = 0
        self._conns: dict = {}             # thread -> socket
        self._stop_event = threading.Event()
        self._listener: Optional[socket.socket] = None
        self._accept_thread: Optional[threading.Thread] = None
        self._holder: list = []
        self._finalizer = weakref.finalize(self, _close_at_exit, self._stop_event, self._holder)
        self._tmp = None
        self.port: Optional[int] = None
        self.connections = 0               # TCP connections accepted
        self.handshake_errors: list = []   # TLS handshake failures (str), e.g. client rejected cert
        self.ca_cert: Optional[str] = None
        self.cert = None
        self._ssl_ctx: Optional[ssl.SSLContext] = None
        if tls_cert is not None and tls_cert is not False:
            self._setup_tls(tls_cert)
        for p, d in (files or {}).items():
            self.put(p, d)

    # -- setup ---------------------------------------------------------------------------------
    def _setup_tls(self, tls_cert) -> None:
        if tls_cert is True:
            import goinstall_harness as h  # same directory; imported lazily
            self._tmp = h.tmpfs_dir("goinstall-faultsrv-")
            ca = h.make_ca(self._tmp.name)
            tls_cert = h.make_cert(self._tmp.name, ca)
        if isinstance(tls_cert, (tuple, list)):
            certfile, keyfile = tls_cert[0], tls_cert[1]
            self.ca_cert = tls_cert[2] if len(tls_cert) > 2 else None
        else:
            certfile, keyfile = tls_cert.cert, tls_cert.key
            self.ca_cert = getattr(tls_cert, "ca_cert", None)
        self.cert = tls_cert
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(certfile, keyfile)
        ctx.set_alpn_protocols(["http/1.1"])
        self._ssl_ctx = ctx

    @property
    def tls(self) -> bool:
        return self._ssl_ctx is not None

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> "FaultServer":
        if self._listener is not None:
            raise RuntimeError("FaultServer already started")
        if self._stop_event.is_set():
            raise RuntimeError("FaultServer cannot be restarted; make a new one")
        ls = socket.socket(_fam(self.host), socket.SOCK_STREAM)
        try:
            ls.bind((self.host, 0))
            ls.listen(64)
            ls.settimeout(0.1)
        except BaseException:
            ls.close()
            raise
        self._listener = ls
        self._holder.append(ls)
        self.port = ls.getsockname()[1]
        t = threading.Thread(target=self._accept_loop, name=f"faultsrv-accept-{self.port}",
                             daemon=True)
        self._accept_thread = t
        t.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop accepting, cut every open connection, join all threads (bounded); idempotent."""
        self._stop_event.set()
        deadline = time.monotonic() + timeout
        if self._accept_thread is not None:
            self._accept_thread.join(max(0.0, deadline - time.monotonic()))
        if self._listener is not None:
            try:
                self._listener.close()
            except OSError:
                pass
        with self._lock:
            conns = list(self._conns.items())
        for _t, s in conns:
            try:
                _socket.socket.shutdown(s, socket.SHUT_RDWR)   # wakes blocked recv/send
            except OSError:
                pass
        for t, _s in conns:
            t.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            left = [t for t in self._conns if t.is_alive()]
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
        if left:
            raise RuntimeError(f"FaultServer.stop: {len(left)} connection thread(s) still running")

    close = stop

    def __enter__(self) -> "FaultServer":
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- URLs ----------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """http://127.0.0.1:<port>/, or with TLS https://localhost:<port>/ ([::1] for ::1)."""
        if self.tls and self.host == "127.0.0.1":
            return f"https://localhost:{self.port}/"
        return self.url_ip

    @property
    def url_ip(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}/"

    def url_for(self, path: str) -> str:
        return self.url + path.lstrip("/")

    def client_ssl_context(self) -> ssl.SSLContext:
        """A verifying client context trusting ca_cert."""
        return ssl.create_default_context(cafile=self.ca_cert)

    # -- content -------------------------------------------------------------------------------
    @staticmethod
    def _key(path: str) -> str:
        return path.lstrip("/")

    def put(self, path: str, data: Union[bytes, str], mtime: Optional[float] = None) -> None:
        """Serve `data` at `path` (Last-Modified: `mtime`, default now)."""
        if isinstance(data, str):
            data = data.encode()
        e = _Entry(bytes(data), int(time.time() if mtime is None else mtime))
        with self._lock:
            self._files[self._key(path)] = e

    def put_file(self, path: str, src: Union[str, os.PathLike]) -> None:
        """Serve the contents of file `src` (read into memory) at `path`."""
        with open(src, "rb") as f:
            self.put(path, f.read(), mtime=os.stat(src).st_mtime)

    def remove(self, path: str) -> None:
        with self._lock:
            self._files.pop(self._key(path), None)

    def etag(self, path: str) -> str:
        """The (normal) ETag of `path`, quotes included."""
        with self._lock:
            return self._files[self._key(path)].etag

    def last_modified(self, path: str) -> str:
        with self._lock:
            return _http_date(self._files[self._key(path)].mtime)

    # -- faults --------------------------------------------------------------------------------
    def set_fault(self, fault: Union[Fault, Sequence[Fault], None], path: Optional[str] = None) -> None:
        """Set (replace) the fault for all paths (`path=None`) or one path (query ignored).

        `fault` may be a list: a script. Each request takes the first fault in it that is not
        exhausted (`times` used up); a fault that does not apply to the request (e.g.
        ignore_range and no Range header) leaves it normal and is not consumed. A path's own
        script wins over the server-wide one while it has a fault left; `ok()` (times=None)
        shields a path. None clears.
        """
        key = None if path is None else self._key(path.split("?")[0])
        if fault is None:
            faults = []
        elif isinstance(fault, Fault):
            faults = [fault]
        else:
            faults = list(fault)
            if not all(isinstance(f, Fault) for f in faults):
                raise TypeError("set_fault takes a Fault, a list of Faults, or None")
        with self._lock:
            if faults:
                self._faults[key] = faults
            else:
                self._faults.pop(key, None)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _pick_fault(self, key: str, applies) -> Optional[Fault]:
        with self._lock:
            for k in (key, None):
                script = self._faults.get(k)
                if not script:
                    continue
                f = next((f for f in script if not f.exhausted), None)
                if f is None:
                    continue        # the path's script is used up: fall back to server-wide
                if applies(f.kind):
                    f.used += 1
                    return f
                return None
            return None

    # -- records -------------------------------------------------------------------------------
    def requests(self) -> list:
        """Snapshot (copies) of every request so far, in arrival order, in-flight ones included
        (t_end None)."""
        with self._lock:
            return [dataclasses.replace(r, headers=dict(r.headers),
                                        response_headers=list(r.response_headers))
                    for r in self._records]

    def wait_for_requests(self, n: int, timeout: float = 5.0, finished: bool = True) -> list:
        """Wait (bounded) until `n` requests have arrived and (finished=True) the first `n` have
        ended; returns requests() (possibly fewer/unfinished on timeout: check it)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            for _ in range(int(timeout / 0.1) + 100):     # each wait <= 0.1 s; bounded
                recs = self._records
                done = len(recs) >= n and (not finished or all(r.t_end is not None
                                                                for r in recs[:n]))
                left = deadline - time.monotonic()
                if done or left <= 0:
                    break
                self._cond.wait(min(left, 0.1))
        return self.requests()

    def clear_requests(self) -> None:
        with self._lock:
            self._records = [r for r in self._records if r.t_end is None]

    def _finish(self, rec: RequestRecord, completed: bool, error: Optional[str] = None) -> None:
        with self._cond:
            if rec.t_end is None:
                rec.completed = completed
                if error and not rec.error:
                    rec.error = error
                rec.t_end = time.monotonic()
            self._cond.notify_all()

    # -- accept loop ---------------------------------------------------------------------------
    def _accept_loop(self) -> None:
        ls = self._listener
        deadline = time.monotonic() + self.max_lifetime
        for _ in range(int(self.max_lifetime / 0.1) + 10):   # each turn: <= 0.1 s or 1 accept
            if self._stop_event.is_set() or time.monotonic() > deadline:
                return
            try:
                conn, peer = ls.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self._lock:
                if self._stop_event.is_set():
                    conn.close()
                    return
                self.connections += 1
                t = threading.Thread(target=self._serve_conn, args=(conn, peer),
                                     name=f"faultsrv-conn-{self.port}-{self.connections}",
                                     daemon=True)
                self._conns[t] = conn
            t.start()

    # -- one connection ------------------------------------------------------------------------
    def _serve_conn(self, conn: socket.socket, peer) -> None:
        me = threading.current_thread()
        sock = conn
        box: list = []     # the RequestRecord, once the request is read
        try:
            conn.settimeout(0.25)
            if self._ssl_ctx is not None:
                tls_sock = self._handshake(conn)
                if tls_sock is None:
                    return          # (closed by _handshake)
                sock = tls_sock
                with self._lock:
                    self._conns[me] = sock
            self._handle(sock, peer, box)
        except _Stopped:
            if box:
                self._finish(box[0], False, "server stopped")
        except Exception as e:  # noqa: BLE001 - a test server must not die on a bad client
            if box:
                self._finish(box[0], False, f"{type(e).__name__}: {e}")
        finally:
            if box:
                self._finish(box[0], False, "connection ended")   # no-op if already finished
            try:
                sock.close()
            except OSError:
                pass
            with self._cond:
                self._conns.pop(me, None)
                self._cond.notify_all()

    def _handshake(self, conn: socket.socket):
        try:
            s = self._ssl_ctx.wrap_socket(conn, server_side=True, do_handshake_on_connect=False)
        except (OSError, ssl.SSLError) as e:
            with self._lock:
                self.handshake_errors.append(f"{type(e).__name__}: {e}")
            return None
        deadline = time.monotonic() + self.request_timeout
        for _ in range(int(self.request_timeout / 0.25) + 10):   # recv timeout 0.25 s a turn
            if self._stop_event.is_set() or time.monotonic() > deadline:
                with self._lock:
                    self.handshake_errors.append("handshake timeout/stop")
                s.close()
                return None
            try:
                s.do_handshake()
                return s
            except socket.timeout:
                continue
            except (OSError, ssl.SSLError) as e:
                with self._lock:
                    self.handshake_errors.append(f"{type(e).__name__}: {e}")
                s.close()
                return None
        s.close()
        return None

    def _check_stop(self) -> None:
        if self._stop_event.is_set():
            raise _Stopped()

    def _read_request(self, sock) -> Optional[tuple]:
        buf = b""
        deadline = time.monotonic() + self.request_timeout
        sock.settimeout(0.25)
        for _ in range(int(self.request_timeout / 0.25) + _MAX_HEADER_BYTES + 10):
            if b"\r\n\r\n" in buf:
                break
            self._check_stop()
            if time.monotonic() > deadline or len(buf) > _MAX_HEADER_BYTES:
                return None
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                continue
            except (OSError, ssl.SSLError):
                return None
            if not chunk:
                return None
            buf += chunk
        else:
            return None
        head, _, rest = buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3:
            return None
        method, target, version = parts
        headers: dict = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                continue
            n, v = name.strip().lower(), value.strip()
            headers[n] = f"{headers[n]}, {v}" if n in headers else v
        # Discard a request body (bounded); we never use it.
        try:
            need = min(int(headers.get("content-length", "0")), _MAX_REQUEST_BODY) - len(rest)
        except ValueError:
            need = 0
        for _ in range(_MAX_REQUEST_BODY + 100):     # each turn reads >= 1 byte or times out
            if need <= 0 or time.monotonic() > deadline:
                break
            self._check_stop()
            try:
                chunk = sock.recv(min(need, 65536))
            except socket.timeout:
                continue
            if not chunk:
                break
            need -= len(chunk)
        return method, target, version, headers

    def _lookup(self, path: str, query: str) -> tuple:
        key = self._key(urllib.parse.unquote(path))
        with self._lock:
            cands = ([f"{key}?{query}"] if query else []) + [key]
            if key == "" or key.endswith("/"):
                cands += [key + "index.json", key + "index.html"]
            for c in cands:
                e = self._files.get(c)
                if e is not None:
                    return key, c, e
        return key, None, None

    def _handle(self, sock, peer, box: list) -> None:
        req = self._read_request(sock)
        if req is None:
            return
        method, target, version, headers = req
        path, _, query = target.partition("?")
        if target.startswith(("http://", "https://")):   # absolute-form
            u = urllib.parse.urlsplit(target)
            path, query = u.path or "/", u.query
        rng_raw, if_range = headers.get("range"), headers.get("if-range")
        rec = RequestRecord(method=method, path=path, query=query, target=target, version=version,
                            headers=headers, range=rng_raw, range_start=_range_start(rng_raw),
                            if_range=if_range, peer=tuple(peer[:2]), tls=self.tls,
                            t_start=time.monotonic())
        box.append(rec)
        with self._cond:
            self._records.append(rec)
            self._cond.notify_all()

        key, fkey, entry = self._lookup(path, query)
        known = entry is not None and method in ("GET", "HEAD")
        normal_status = 404
        if entry is not None and method not in ("GET", "HEAD"):
            normal_status = 405
        elif known:
            normal_status = self._plan_file(entry, entry.etag, _http_date(entry.mtime),
                                            rng_raw, if_range)[0]
        fault = self._pick_fault(key, lambda kind: _fault_applies(
            kind, method, known, rng_raw is not None, normal_status))
        kind = fault.kind if fault is not None else "ok"
        rec.fault = None if kind == "ok" else kind
        p = fault.params if fault is not None else {}

        # -- faults that answer without a (normal) response ---------------------------------
        if kind == "hang":
            self._wait_client_gone(sock, p["max_seconds"])
            self._finish(rec, False, "hang: no answer")
            return
        if kind == "empty_reply":
            self._finish(rec, False, "empty_reply (fault)")
            if p["rst"]:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                return      # close() now sends RST
            self._close_abruptly(sock)
            return
        if kind == "delay":
            if self._stop_event.wait(p["seconds"]):
                raise _Stopped()
        if kind == "gate":
            with p["cond"]:
                p["held"] += 1
                p["cond"].notify_all()
            deadline = time.monotonic() + p["max_seconds"]
            while not p["open"].wait(0.05):
                if self._stop_event.is_set():
                    raise _Stopped()
                if time.monotonic() > deadline:
                    break
        if kind == "status":
            body = p["body"]
            ct = "text/html" if body.lstrip()[:1] == b"<" else "text/plain"
            hdrs = self._base_headers([("Content-Type", ct), ("Content-Length", str(len(body)))])
            hdrs = self._override(hdrs, p["headers"])
            self._respond(sock, rec, method, p["code"], hdrs, body)
            return
        if kind == "redirect":
            body = (f"<html><body><a href=\"{p['location']}\">moved</a></body></html>\n").encode()
            hdrs = self._base_headers([("Location", p["location"]), ("Content-Type", "text/html"),
                                       ("Content-Length", str(len(body)))])
            self._respond(sock, rec, method, p["code"], hdrs, body)
            return

        # -- normal response, maybe altered ----------------------------------------------
        if entry is None or method not in ("GET", "HEAD"):
            if entry is None:
                code, body, extra = 404, b"404 Not Found\n", []
            else:
                code, body, extra = 405, b"405 Method Not Allowed\n", [("Allow", "GET, HEAD")]
            hdrs = self._base_headers([("Content-Type", "text/plain"),
                                       ("Content-Length", str(len(body))), *extra])
            self._respond(sock, rec, method, code, hdrs, body)
            return

        etag, lm = entry.etag, _http_date(entry.mtime)
        if kind == "changing_etag":
            with self._lock:
                self._etag_counter += 1
                n = self._etag_counter
            etag = f'"{entry.etag.strip(chr(34))}-{n}"'
            lm = _http_date(max(entry.mtime, int(time.time())) + n)
        code, first, last, cr = self._plan_file(entry, etag, lm, rng_raw,
                                                if_range if kind != "ignore_range" else None)
        data = entry.data
        L = len(data)
        if kind == "ignore_range":
            code, first, last, cr = 200, 0, L - 1, None
        if kind == "wrong_content_range" and code == 206:
            w = p["start"]
            if w is None:
                w = first // 2 if first > 0 else L // 2
            w = min(max(0, w), max(0, L - 1))
            first, last, cr = w, L - 1, f"bytes {w}-{L - 1}/{L}"
        if code == 416:
            body = b"416 Range Not Satisfiable\n"
            hdrs = self._base_headers([("Content-Type", "text/plain"),
                                       ("Content-Length", str(len(body))),
                                       ("Content-Range", f"bytes */{L}"), ("ETag", etag),
                                       ("Last-Modified", lm), ("Accept-Ranges", "bytes")])
            self._respond(sock, rec, method, 416, hdrs, body)
            return
        body = memoryview(data)[first:last + 1] if L else memoryview(b"")
        clen = len(body)
        if kind == "lie_content_length":
            clen += p["extra"]
        if kind == "corrupt" and len(body):
            b = bytearray(body)
            positions = p["positions"] if p["positions"] is not None else [len(b) // 2]
            for i in positions:
                if 0 <= i < len(b):
                    b[i] ^= 0xFF
            body = memoryview(bytes(b))
        hdrs = [("Content-Type", _content_type(fkey)), ("Content-Length", str(clen))]
        if cr is not None:
            hdrs.append(("Content-Range", cr))
        hdrs += [("ETag", etag), ("Last-Modified", lm), ("Accept-Ranges", "bytes")]
        hdrs = self._base_headers(hdrs)
        cut = None
        if kind == "truncate":
            if p["at_bytes"] is not None:
                cut = min(p["at_bytes"], len(body))
            else:
                cut = int(math.floor(len(body) * p["at_fraction"] + 1e-9))
        rate = p["bytes_per_second"] if kind == "drip" else None
        max_s = p["max_seconds"] if kind == "drip" else None
        self._respond(sock, rec, method, code, hdrs, body, announced=clen, cut=cut, rate=rate,
                      max_seconds=max_s)
        return

    @staticmethod
    def _plan_file(entry: _Entry, etag: str, lm: str, rng_raw, if_range):
        """(status, first, last, content_range) for a GET/HEAD of a known file."""
        L = len(entry.data)
        r = parse_range(rng_raw, L)
        if r is not None and if_range is not None:
            ir = if_range.strip()
            if ir.startswith('"'):
                match = ir == etag          # strong comparison; W/ never matches
            elif ir.startswith("W/"):
                match = False
            else:
                match = ir == lm
            if not match:
                r = None
        if r is None:
            return 200, 0, L - 1, None
        if r == "unsatisfiable":
            return 416, 0, -1, f"bytes */{L}"
        return 206, r[0], r[1], f"bytes {r[0]}-{r[1]}/{L}"

    @staticmethod
    def _base_headers(hdrs: list) -> list:
        return [("Date", _http_date(time.time())), ("Server", "goinstall-fault-server"),
                *hdrs, ("Connection", "close")]

    @staticmethod
    def _override(hdrs: list, extra: dict) -> list:
        low = {k.lower() for k in extra}
        return [(k, v) for k, v in hdrs if k.lower() not in low] + [(k, str(v)) for k, v in
                                                                    extra.items()]

    # -- writing -------------------------------------------------------------------------------
    def _send(self, sock, rec: RequestRecord, data, is_body: bool) -> None:
        view = memoryview(data)
        sock.settimeout(self.io_timeout)
        for off in range(0, len(view), _CHUNK):
            self._check_stop()
            chunk = view[off:off + _CHUNK]
            try:
                sock.sendall(chunk)
            except (OSError, ssl.SSLError) as e:
                raise _ClientGone(f"{type(e).__name__}: {e}") from None
            with self._lock:
                rec.bytes_sent += len(chunk)
                if is_body:
                    rec.body_bytes_sent += len(chunk)

    def _respond(self, sock, rec: RequestRecord, method: str, code: int, hdrs: list, body,
                 announced: Optional[int] = None, cut: Optional[int] = None,
                 rate: Optional[float] = None, max_seconds: Optional[float] = None) -> None:
        head = f"HTTP/1.1 {code} {_reason(code)}\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in hdrs) + "\r\n"
        with self._lock:
            rec.status = code
            rec.response_headers = list(hdrs)
            cl = next((v for k, v in hdrs if k.lower() == "content-length"), None)
            rec.content_length = int(cl) if cl is not None and str(cl).isdigit() else None
        if method == "HEAD":
            body = b""
        body = memoryview(body)
        announced = len(body) if announced is None else announced
        try:
            self._send(sock, rec, head.encode("latin-1"), False)
            if rate is not None:
                self._drip(sock, rec, body, rate, max_seconds)
                complete = method == "HEAD" or rec.body_bytes_sent == announced
            elif cut is not None:
                self._send(sock, rec, body[:cut], True)
                complete = False
            else:
                self._send(sock, rec, body, True)
                complete = method == "HEAD" or len(body) == announced
        except _ClientGone as e:
            self._finish(rec, False, f"client gone: {e}")
            return
        if complete:
            self._finish(rec, True)
            self._close_gracefully(sock)
        else:
            self._finish(rec, False, "closed mid-body (fault)" if rec.error is None else None)
            self._close_abruptly(sock)

    def _drip(self, sock, rec, body, rate: float, max_seconds: float) -> None:
        tick = 0.1 if rate >= 10 else max(0.1, min(1.0, 1.0 / rate))
        t0 = time.monotonic()
        sent = 0
        n_ticks = int(max_seconds / tick) + 2
        for _ in range(n_ticks):
            if sent >= len(body):
                return
            elapsed = time.monotonic() - t0
            if elapsed > max_seconds:
                rec.error = "drip: max_seconds reached"
                return
            due = min(len(body), int(rate * elapsed) + 1) - sent
            if due > 0:
                self._send(sock, rec, body[sent:sent + due], True)
                sent += due
            if self._client_gone(sock, tick):
                raise _ClientGone("client closed during drip")
        rec.error = "drip: max_seconds reached"

    def _client_gone(self, sock, wait: float) -> bool:
        """Wait up to `wait` s; True if the client closed its side (EOF/reset). Raises _Stopped."""
        if self._stop_event.is_set():
            raise _Stopped()
        try:
            r, _, _ = select.select([sock.fileno()], [], [], wait)
        except (OSError, ValueError):
            return True
        if r:
            try:
                # Raw read under any TLS layer: we only care about EOF.
                d = _socket.socket.recv(sock, 4096, socket.MSG_DONTWAIT)
            except (BlockingIOError, InterruptedError):
                return False
            except OSError:
                return True
            return d == b""
        return False

    def _wait_client_gone(self, sock, max_seconds: float) -> None:
        deadline = time.monotonic() + max_seconds
        for _ in range(int(max_seconds / 0.1) + 2):
            if time.monotonic() > deadline or self._client_gone(sock, 0.1):
                return

    def _linger(self, sock) -> None:
        deadline = time.monotonic() + _LINGER_SECONDS
        for _ in range(int(_LINGER_SECONDS / 0.05) + 2):
            if time.monotonic() > deadline or self._stop_event.is_set():
                return
            if self._client_gone(sock, 0.05):
                return

    def _close_abruptly(self, sock) -> None:
        """FIN without TLS close_notify (like a server that died), after which close()."""
        try:
            _socket.socket.shutdown(sock, socket.SHUT_WR)
        except OSError:
            return
        try:
            self._linger(sock)
        except _Stopped:
            pass

    def _close_gracefully(self, sock) -> None:
        if isinstance(sock, ssl.SSLSocket):
            try:
                sock.settimeout(0.5)
                sock.unwrap()          # close_notify (waits briefly for the client's)
            except (OSError, ssl.SSLError, ValueError):
                pass
        self._close_abruptly(sock)


def start_fault_server(testcase: unittest.TestCase, files: Optional[dict] = None,
                       **kwargs) -> FaultServer:
    """Start a FaultServer and register its stop() as a cleanup of `testcase`."""
    srv = FaultServer(files, **kwargs)
    srv.start()
    testcase.addCleanup(srv.stop)
    return srv


# ------------------------------------------------------------------------------------------------
# Connection refused / connect timeout
# ------------------------------------------------------------------------------------------------

_closed_port_socks: list = []
_closed_port_lock = threading.Lock()


def closed_port(host: str = "127.0.0.1") -> int:
    """A loopback port where connect() is refused at once (RST). The port stays reserved (bound,
    not listening) until release_closed_ports() or exit, so nothing else can take it meanwhile."""
    s = socket.socket(_fam(host), socket.SOCK_STREAM)
    s.bind((host, 0))
    with _closed_port_lock:
        _closed_port_socks.append(s)
    return s.getsockname()[1]


def release_closed_ports() -> None:
    with _closed_port_lock:
        for s in _closed_port_socks:
            s.close()
        _closed_port_socks.clear()


atexit.register(release_closed_ports)


class Blackhole:
    """A loopback port that never answers.

    mode "syn_drop" (what Linux gives, tried first with mode="auto"): a listen(0) socket that
    never accept()s, its accept queue filled by a connection we open ourselves, so the kernel
    drops further SYNs and a client's connect() times out. If the kernel still completes
    handshakes, mode="auto" falls back to "silent_accept": connections are accepted and held
    but never read or answered (connect succeeds, the first read times out). `.mode` says which.
    `https=True` only changes `.url` (https://localhost:<port>/).
    """

    def __init__(self, host: str = "127.0.0.1", mode: str = "auto", https: bool = False,
                 max_lifetime: float = 3600.0):
        if mode not in ("auto", "syn_drop", "silent_accept"):
            raise ValueError("mode must be 'auto', 'syn_drop' or 'silent_accept'")
        self.host = host
        self.requested_mode = mode
        self.https = https
        self.max_lifetime = max_lifetime
        self.mode: Optional[str] = None
        self.port: Optional[int] = None
        self.setup_seconds = 0.0
        self._listener: Optional[socket.socket] = None
        self._fillers: list = []
        self._held: list = []
        self._stop_event = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._lock = threading.Lock()

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> "Blackhole":
        t0 = time.monotonic()
        if self.requested_mode in ("auto", "syn_drop") and self._try_syn_drop():
            self.mode = "syn_drop"
        elif self.requested_mode == "syn_drop":
            raise RuntimeError("Blackhole: the kernel did not drop SYNs with a full accept queue")
        else:
            self._start_silent()
            self.mode = "silent_accept"
        self.setup_seconds = time.monotonic() - t0
        return self

    def _try_syn_drop(self) -> bool:
        fam = _fam(self.host)
        ls = socket.socket(fam, socket.SOCK_STREAM)
        ls.bind((self.host, 0))
        ls.listen(0)
        addr = ls.getsockname()[:2]
        fillers = []
        for _ in range(4):            # listen(0) queues 1 on Linux; a few more for other kernels
            c = socket.socket(fam, socket.SOCK_STREAM)
            c.setblocking(False)
            c.connect_ex(addr)
            _, w, _ = select.select([], [c], [], 0.2)   # loopback handshakes take microseconds
            if not w:                 # SYN unanswered: the queue is full, SYNs are dropped
                c.close()
                self._listener, self._fillers, self.port = ls, fillers, addr[1]
                return True
            if c.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) != 0:
                c.close()
                break
            fillers.append(c)
        for c in fillers:
            c.close()
        ls.close()
        return False

    def _start_silent(self) -> None:
        ls = socket.socket(_fam(self.host), socket.SOCK_STREAM)
        ls.bind((self.host, 0))
        ls.listen(64)
        ls.settimeout(0.1)
        self._listener, self.port = ls, ls.getsockname()[1]
        self._thread = threading.Thread(target=self._hold_loop, name=f"blackhole-{self.port}",
                                        daemon=True)
        self._thread.start()

    def _hold_loop(self) -> None:
        deadline = time.monotonic() + self.max_lifetime
        for _ in range(int(self.max_lifetime / 0.1) + 1100):   # <= 0.1 s or 1 accept a turn
            if self._stop_event.is_set() or time.monotonic() > deadline:
                return
            try:
                c, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self._lock:
                if len(self._held) < 1024:
                    self._held.append(c)      # never read, never answered
                else:
                    c.close()

    def stop(self) -> None:
        self._stop_event.set()
        if self._thread is not None:
            self._thread.join(5.0)
        with self._lock:
            for s in self._fillers + self._held:
                try:
                    s.close()
                except OSError:
                    pass
            self._fillers, self._held = [], []
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    close = stop

    def __enter__(self) -> "Blackhole":
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self.https and self.host == "127.0.0.1":
            return f"https://localhost:{self.port}/"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.https else 'http'}://{host}:{self.port}/"

    def url_for(self, path: str) -> str:
        return self.url + path.lstrip("/")

    def probe(self, timeout: float = 2.0) -> tuple:
        """Connect once with `timeout`: ("timeout" | "connected" | "refused" | "error:<e>",
        seconds). With "connected" (silent_accept) it also waits `timeout` for a byte and
        reports ("connected-silent", s) if none comes."""
        t0 = time.monotonic()
        with socket.socket(_fam(self.host), socket.SOCK_STREAM) as c:
            c.settimeout(timeout)
            try:
                c.connect((self.host, self.port))
            except socket.timeout:
                return "timeout", time.monotonic() - t0
            except ConnectionRefusedError:
                return "refused", time.monotonic() - t0
            except OSError as e:
                return f"error:{e}", time.monotonic() - t0
            try:
                d = c.recv(1)
                return ("connected-eof" if d == b"" else "connected-data"), time.monotonic() - t0
            except socket.timeout:
                return "connected-silent", time.monotonic() - t0
