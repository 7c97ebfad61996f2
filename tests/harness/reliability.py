"""Helpers for the reliability tests (kill anywhere, signals, disk full, races, hostile input).

Standard library only. Everything here stays on loopback or inside namespaces it creates.

- `padded_fake_archive(version, dest, files=0, blob=0)`: a fake toolchain with `files` extra small
  files (so extraction takes measurable time) and an incompressible `blob` of that many bytes (so
  a throttled transfer takes measurable time).
- `snapshot(path)`: {relative path: (kind, mode, size, sha256 | link target)} of a tree.
- `tree_state(root, allowed)`: checks that <root>/current names one of the allowed complete
  trees; returns the version or raises AssertionError.
- `CurrentWatcher(root, allowed)`: a thread that polls `tree_state` while a test runs.
- `JsonRun`: goinstall --json started in the background, events read as they arrive.
- `MountNamespace(dir, size)`: a private mount namespace with a small tmpfs on `dir`, kept alive by
  a sleeping process; commands run in it with nsenter, and its files are reachable from outside
  through /proc/<pid>/root.
"""
import hashlib
import json
import os
import queue
import select
import shutil
import stat
import subprocess
import threading
import time
from typing import Dict, Iterable, Optional, Sequence, Tuple

import goinstall_harness as h


def padded_fake_archive(version: str, dest: str, files: int = 0, blob: int = 0,
                        **kw) -> h.ToolchainArchive:
    extra = dict(kw.pop("extra_files", None) or {})
    for i in range(files):
        extra[f"src/pad/p{i // 100:02d}/f{i:04d}.go"] = f"package pad // {version} {i}\n"
    if blob:
        # Incompressible, but deterministic per version so repeated runs build identical bytes.
        seed = hashlib.sha256(version.encode()).digest()
        out, block = bytearray(), seed
        while len(out) < blob:
            block = hashlib.sha256(block).digest()
            out += block
        extra["pkg/blob.bin"] = bytes(out[:blob])
    return h.fake_toolchain_archive(version, dest, extra_files=extra, **kw)


Snapshot = Dict[str, Tuple]


def snapshot(path: str) -> Snapshot:
    """Every entry under `path` (not following symlinks), with content hashes."""
    out: Snapshot = {}
    path = os.fspath(path)
    if not os.path.lexists(path):
        return out
    for dirpath, dirs, files in os.walk(path):
        for name in dirs + files:
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, path)
            st = os.lstat(full)
            mode = stat.S_IMODE(st.st_mode)
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", 0, 0, os.readlink(full))
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir", mode, 0, "")
            elif stat.S_ISREG(st.st_mode):
                with open(full, "rb") as f:
                    digest = hashlib.sha256(f.read()).hexdigest()
                out[rel] = ("file", mode, st.st_size, digest)
            else:
                out[rel] = ("other", mode, 0, "")
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(dirpath, d))]
    return out


def diff_snapshots(before: Snapshot, after: Snapshot) -> list:
    """Human-readable differences: '+path', '-path', '~path'."""
    out = []
    for k in sorted(set(before) | set(after)):
        if k not in before:
            out.append("+" + k)
        elif k not in after:
            out.append("-" + k)
        elif before[k] != after[k]:
            out.append("~" + k)
    return out


def _complete_tree(tree: str, label: str, allowed: Dict[str, Sequence[str]]) -> str:
    """The version of the toolchain tree at `tree` after checking that it is complete: its VERSION
    names an allowed version and its file list is exactly the one given for it. Raises
    AssertionError (naming `label`) otherwise."""
    try:
        with open(os.path.join(tree, "VERSION")) as f:
            version = f.readline().strip()
    except OSError as e:
        raise AssertionError(f"{label}: no readable VERSION ({e})")
    if version not in allowed:
        raise AssertionError(f"{label}: VERSION says {version!r}, not one of {sorted(allowed)}")
    files = h.tree_files(tree)
    if files != list(allowed[version]):
        missing = sorted(set(allowed[version]) - set(files))[:5]
        extra = sorted(set(files) - set(allowed[version]))[:5]
        raise AssertionError(f"{label} ({version}) is not a complete tree: missing {missing}, extra {extra}")
    return version


def tree_state(root: str, allowed: Dict[str, Sequence[str]], allow_missing: bool = False) -> Optional[str]:
    """The version <root>/current points at, after checking that the tree there is complete:
    its VERSION names an allowed version and its file list is exactly the one given for it.
    Raises AssertionError otherwise. `allowed` maps version → sorted relative file list."""
    link = os.path.join(root, "current")
    try:
        target = os.readlink(link)
    except FileNotFoundError:
        if allow_missing:
            return None
        raise AssertionError(f"{link} is missing")
    tree = os.path.join(root, target)
    version = _complete_tree(tree, f"current → {target}", allowed)
    if target != version:
        raise AssertionError(f"current → {target} but its VERSION says {version}")
    go = os.path.join(tree, "bin", "go")
    if not os.access(go, os.X_OK):
        raise AssertionError(f"current → {target}: bin/go is not executable")
    return version


class CurrentWatcher(threading.Thread):
    """Polls tree_state() every `interval` seconds until stop(); collects violations and the
    versions seen. A tree can change between two reads of one poll only by a commit the test
    expects, so a failed poll is retried once before it counts."""

    def __init__(self, root: str, allowed: Dict[str, Sequence[str]], interval: float = 0.002,
                 allow_missing: bool = False, state_fn=None):
        """`state_fn(root, allowed, allow_missing)`: tree_state by default; prefix_state for --prefix."""
        super().__init__(daemon=True)
        self.root, self.allowed, self.interval = root, allowed, interval
        self.allow_missing = allow_missing
        self.state_fn = state_fn or tree_state
        self.violations: list = []
        self.seen: set = set()
        self.polls = 0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            for attempt in (0, 1):
                try:
                    self.seen.add(self.state_fn(self.root, self.allowed, self.allow_missing))
                    break
                except AssertionError as e:
                    if attempt == 1:
                        self.violations.append(str(e))
            self.polls += 1
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=5)


class JsonRun:
    """goinstall started with --json (the caller passes it); a reader thread queues each stdout
    line as a dict (non-JSON lines as {"event": "text", "message": line})."""

    def __init__(self, args: Sequence[str], home: str, env_extra=None, prefix: Sequence[str] = ()):
        """`prefix`: a wrapper command (e.g. MountNamespace.wrap([])) put before the binary."""
        env = h.isolated_env(home, env_extra)
        self.proc = subprocess.Popen([*prefix, h.goinstall_bin(), *args], env=env, cwd=home,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, errors="replace",
                                     start_new_session=True)
        self.events: list = []
        self._q: "queue.Queue" = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.t0 = time.monotonic()

    def _read(self) -> None:
        for line in self.proc.stdout:
            try:
                ev = json.loads(line)
            except ValueError:
                ev = {"event": "text", "message": line.rstrip("\n")}
            ev["_t"] = time.monotonic()
            self._q.put(ev)
        self._q.put(None)

    def next_event(self, timeout: float) -> Optional[dict]:
        """The next event, or None at end of output or after `timeout` seconds."""
        try:
            ev = self._q.get(timeout=max(0.0, timeout))
        except queue.Empty:
            return None
        if ev is not None:
            self.events.append(ev)
        return ev

    def wait_for(self, pred, timeout: float) -> Optional[dict]:
        deadline = time.monotonic() + timeout
        while True:
            ev = self.next_event(deadline - time.monotonic())
            if ev is None or pred(ev):
                return ev

    def drain(self) -> None:
        while True:
            try:
                ev = self._q.get_nowait()
            except queue.Empty:
                return
            if ev is not None:
                self.events.append(ev)

    def finish(self, timeout: float = 30) -> Tuple[int, str]:
        """Waits for exit (killing the process group after `timeout`); returns (rc, stderr)."""
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            h.kill_process_group(self.proc, 1)
            raise
        self._reader.join(timeout=5)
        self.drain()
        err = self.proc.stderr.read() if self.proc.stderr else ""
        for f in (self.proc.stdout, self.proc.stderr):
            if f:
                f.close()
        return self.proc.returncode, err

    def kinds(self) -> list:
        return [e.get("event") for e in self.events]


def prefix_state(prefix: str, allowed: Dict[str, Sequence[str]], allow_missing: bool = False) -> Optional[str]:
    """--prefix mode's tree_state: the version in <prefix>/go, after checking that the tree there
    is complete (VERSION names an allowed version, the file list is exactly its)."""
    tree = os.path.join(prefix, "go")
    if not os.path.isdir(tree):
        if allow_missing:
            return None
        raise AssertionError(f"{tree} is missing")
    return _complete_tree(tree, tree, allowed)


def root_entries(root: str) -> list:
    """Top-level names in the root plus the names in .downloads (as '.downloads/<name>')."""
    out = sorted(os.listdir(root)) if os.path.isdir(root) else []
    dl = os.path.join(root, ".downloads")
    if os.path.isdir(dl):
        out += sorted(".downloads/" + n for n in os.listdir(dl))
    return out


def copy_root(template: str, dest: str) -> None:
    shutil.copytree(template, dest, symlinks=True)


class MountNamespace:
    """A private mount namespace (unshare --mount, propagation private) with a tmpfs of `size`
    on `mountpoint` (created outside first; the mount is invisible outside). `ro_binds` are
    directories bind-mounted read-only onto themselves inside it. run() executes a command in
    it; path() maps a path inside to one the test can read from outside."""

    def __init__(self, mountpoint: str, size: Optional[str] = None, ro_binds: Iterable[str] = ()):
        self.mountpoint = mountpoint
        os.makedirs(mountpoint, exist_ok=True)
        script = "set -e\n"
        if size:
            script += f"mount -t tmpfs -o size={size},mode=0755 goinstall-test {mountpoint}\n"
        for d in ro_binds:
            script += f"mount --bind {d} {d}\nmount -o remount,bind,ro {d}\n"
        script += "echo ready\nexec sleep 600\n"
        self.proc = subprocess.Popen(["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     start_new_session=True)
        # Bounded: "ready", or the end of the output if set -e stopped the script.
        ready, _, _ = select.select([self.proc.stdout], [], [], 30)
        line = self.proc.stdout.readline() if ready else ""
        if line.strip() != "ready":
            err = self.proc.stderr.read() if self.proc.poll() is not None else ""
            self.close()
            raise RuntimeError(f"cannot set up a mount namespace: {line!r} {err!r}")

    def wrap(self, argv: Sequence[str]) -> list:
        return ["nsenter", "--mount", f"--target={self.proc.pid}", "--", *argv]

    def path(self, p: str) -> str:
        return f"/proc/{self.proc.pid}/root" + os.path.abspath(p)

    def run(self, argv: Sequence[str], timeout: float = 60, **kw) -> subprocess.CompletedProcess:
        return subprocess.run(self.wrap(argv), capture_output=True, text=True, timeout=timeout, **kw)

    def close(self) -> None:
        if self.proc.poll() is None:
            h.kill_process_group(self.proc, 1)
        for f in (self.proc.stdout, self.proc.stderr):
            if f:
                f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class RawServer:
    """A loopback HTTP server that answers each request with exactly what a route says: raw
    response bytes, or a callable(sock, request_line) that writes whatever it likes (e.g. a
    1 GB stream). Unknown paths get a 404. Optional TLS (`cert`: h.CertFiles). One request per
    connection; every connection thread ends by `io_timeout` or at stop()."""

    def __init__(self, routes: dict, cert=None, io_timeout: float = 20.0):
        import socket
        import ssl
        self.routes = dict(routes)
        self.requests: list = []
        self.bytes_sent = 0
        self.io_timeout = io_timeout
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ctx = None
        if cert is not None:
            self._ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self._ctx.load_cert_chain(cert.cert, cert.key)
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        self.scheme = "https" if cert is not None else "http"
        self.host = "localhost" if cert is not None else "127.0.0.1"
        self._threads: list = []
        self._acceptor = threading.Thread(target=self._accept, daemon=True)
        self._acceptor.start()

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}/"

    def _accept(self) -> None:
        import socket
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            t = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            t.start()
            self._threads.append(t)

    def _serve(self, conn) -> None:
        try:
            conn.settimeout(self.io_timeout)
            if self._ctx is not None:
                conn = self._ctx.wrap_socket(conn, server_side=True)
            data = b""
            while b"\r\n\r\n" not in data and len(data) < 65536:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                data += chunk
            line = data.split(b"\r\n", 1)[0].decode("latin-1")
            path = line.split(" ")[1] if line.count(" ") >= 2 else "/"
            with self._lock:
                self.requests.append(data.decode("latin-1"))
            route = self.routes.get(path, self.routes.get(path.split("?")[0]))
            if route is None:
                conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            elif callable(route):
                route(conn, self)
            else:
                conn.sendall(route)
                self.add_sent(len(route))
        except OSError:
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def add_sent(self, n: int) -> None:
        with self._lock:
            self.bytes_sent += n

    def stopped(self) -> bool:
        return self._stop.is_set()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Waits (bounded) until every connection accepted so far has been served and closed,
        e.g. until a stream notices its client left, so `bytes_sent` is final. True if idle."""
        deadline = time.monotonic() + timeout
        for t in list(self._threads):
            t.join(max(0.0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in list(self._threads))

    def stop(self) -> None:
        self._stop.set()
        try:
            self._sock.close()
        except OSError:
            pass
        for t in self._threads:
            t.join(timeout=2)


def http_response(status: str, body: bytes = b"", headers: Sequence[Tuple[str, str]] = (),
                  content_length: Optional[int] = None) -> bytes:
    """Raw bytes of an HTTP/1.1 response (header values are sent as given: latin-1/bytes)."""
    head = f"HTTP/1.1 {status}\r\n".encode("latin-1")
    for k, v in headers:
        head += k.encode("latin-1") + b": " + (v if isinstance(v, bytes) else v.encode("latin-1")) + b"\r\n"
    n = len(body) if content_length is None else content_length
    if n >= 0:
        head += f"Content-Length: {n}\r\n".encode()
    return head + b"Connection: close\r\n\r\n" + body


def stream_body(total: int, chunk: bytes = b" " * 65536, prefix: bytes = b"[", chunked: bool = False,
                content_type: str = "application/json"):
    """A route that streams `total` bytes (prefix, then `chunk` repeated) as fast as the client
    reads, with a Content-Length (or chunked encoding), stopping when the client goes away."""
    def route(conn, server):
        head = f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nConnection: close\r\n"
        head += "Transfer-Encoding: chunked\r\n\r\n" if chunked else f"Content-Length: {total}\r\n\r\n"
        conn.sendall(head.encode())
        sent = 0
        first = prefix
        while sent < total and not server.stopped():
            block = (first + chunk)[: total - sent]
            first = b""
            if chunked:
                conn.sendall(f"{len(block):x}\r\n".encode() + block + b"\r\n")
            else:
                conn.sendall(block)
            sent += len(block)
            server.add_sent(len(block))
        if chunked:
            conn.sendall(b"0\r\n\r\n")
    return route
