"""A plain mirror: Python's http.server serving a directory, the way people put up a quick mirror
(`python3 -m http.server`), with the range quirks such servers have. Standard library only.

Run as a program (the test starts it as a subprocess; it prints `PORT <n>` once listening):

    python3 plain_mirror.py --root DIR --log FILE [--mode MODE] [--host 127.0.0.1] [--lifetime 600]

or from a test through `PlainMirror(root, mode)` (context manager: starts the subprocess, reads its
port, stops it with SIGTERM then SIGKILL). Modes (how a GET of a file is answered):

| mode      | Range: bytes=A-B / A-                         | otherwise                          |
|-----------|-----------------------------------------------|------------------------------------|
| exact     | 206, Content-Range bytes A-B/len, that part   | 200, Content-Length, keep-alive    |
| more      | 206, Content-Range bytes A-(len-1)/len, all of the file from A (ignores the range end) | 200 |
| norange   | 200, the whole file (no Accept-Ranges)        | 200                                |
| nolength  | 206 as `exact`, but no Content-Length: the body ends when the server closes | 200, no Content-Length, close |
| http10    | `exact`, answered as HTTP/1.0 without keep-alive (one request per connection) | 200 |

Access log: one JSON object per line in FILE, written and flushed *before* the response head is
sent (so once the client has exited, every request it made is in the log):
`{"kind": "request", "method", "path", "range", "status", "content_range", "protocol"}`; and after
the response `{"kind": "end", "path", "status", "sent", "completed"}` (`completed`: the whole
body was written; false when the client went away first).
"""
import argparse
import json
import os
import re
import select
import signal
import subprocess
import sys
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

MODES = ("exact", "more", "norange", "nolength", "http10")
_RANGE = re.compile(r"^bytes=(\d+)-(\d*)$")


class _Handler(SimpleHTTPRequestHandler):
    mode = "exact"
    log_file = None
    log_lock = threading.Lock()

    def log_message(self, format, *args):  # noqa: A002 - http.server's signature
        pass  # the JSON access log is ours; stderr stays quiet

    def _log(self, obj):
        with self.log_lock:
            self.log_file.write(json.dumps(obj) + "\n")
            self.log_file.flush()

    def do_GET(self):  # noqa: N802 - http.server's naming
        path = self.translate_path(self.path)
        if not os.path.isfile(path):
            self._log({"kind": "request", "method": "GET", "path": self.path.split("?")[0],
                       "range": self.headers.get("Range"), "status": 404, "content_range": None,
                       "protocol": self.request_version})
            self.send_error(404)
            return
        with open(path, "rb") as f:
            data = f.read()
        size = len(data)
        status, first, last = 200, 0, size - 1
        m = _RANGE.match(self.headers.get("Range") or "")
        if m and self.mode != "norange":
            a = int(m.group(1))
            b = int(m.group(2)) if m.group(2) else size - 1
            if a >= size:
                status = 416
            else:
                status, first = 206, a
                last = size - 1 if self.mode == "more" else min(b, size - 1)
        content_range = None
        if status == 206:
            content_range = f"bytes {first}-{last}/{size}"
        elif status == 416:
            content_range = f"bytes */{size}"
        self._log({"kind": "request", "method": "GET", "path": self.path.split("?")[0],
                   "range": self.headers.get("Range"), "status": status, "content_range": content_range,
                   "protocol": self.request_version})
        body = b"" if status == 416 else data[first:last + 1]
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        if self.mode != "norange":
            self.send_header("Accept-Ranges", "bytes")
        if content_range:
            self.send_header("Content-Range", content_range)
        if self.mode == "nolength":
            self.send_header("Connection", "close")
            self.close_connection = True
        else:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        sent, completed = 0, False
        try:
            view = memoryview(body)
            while sent < len(body):
                n = self.wfile.write(view[sent:sent + 65536])
                sent += n if n else 0
            self.wfile.flush()
            completed = True
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True
        self._log({"kind": "end", "path": self.path.split("?")[0], "status": status, "sent": sent,
                   "completed": completed})


def serve(argv=None):
    p = argparse.ArgumentParser(description="plain http.server mirror with range quirks")
    p.add_argument("--root", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--mode", choices=MODES, default="exact")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--lifetime", type=float, default=600.0, help="exit after this many seconds")
    a = p.parse_args(argv)
    if not (a.host.startswith("127.") or a.host == "::1"):
        p.error("loopback only")
    log = open(a.log, "a", encoding="utf-8")  # noqa: SIM115 - open for the server's life

    class Handler(_Handler):
        mode = a.mode
        log_file = log
        protocol_version = "HTTP/1.0" if a.mode == "http10" else "HTTP/1.1"

        def __init__(self, *args, **kw):
            super().__init__(*args, directory=a.root, **kw)

    srv = ThreadingHTTPServer((a.host, 0), Handler)
    srv.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=srv.shutdown, daemon=True).start())
    threading.Timer(a.lifetime, srv.shutdown).start()
    print(f"PORT {srv.server_address[1]}", flush=True)
    srv.serve_forever(poll_interval=0.1)
    srv.server_close()
    os._exit(0)  # the lifetime timer thread must not keep the process


class PlainMirror:
    """Starts plain_mirror.py as a subprocess serving `root` in `mode`; `url`, `port`,
    `requests(path_suffix=None)` (the access log's "request" entries), `ends()`, `stop()`."""

    def __init__(self, root, mode="exact", host="127.0.0.1", lifetime=600.0):
        if mode not in MODES:
            raise ValueError(mode)
        self.root, self.mode, self.host = root, mode, host
        self.log_path = root.rstrip("/") + ".access.jsonl"  # beside the served dir, not in it
        open(self.log_path, "w").close()
        self.proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--root", root, "--log", self.log_path, "--mode", mode,
             "--host", host, "--lifetime", str(lifetime)],
            stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
        ready, _, _ = select.select([self.proc.stdout], [], [], 10)
        line = self.proc.stdout.readline() if ready else ""
        if not line.startswith("PORT "):
            self.stop()
            raise RuntimeError(f"plain_mirror did not start: {line!r}")
        self.port = int(line.split()[1])
        host_part = f"[{host}]" if ":" in host else host
        self.url = f"http://{host_part}:{self.port}/"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def _entries(self):
        with open(self.log_path, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]

    def requests(self, path_suffix=None):
        return [e for e in self._entries() if e["kind"] == "request"
                and (path_suffix is None or e["path"].endswith(path_suffix))]

    def ends(self, path_suffix=None):
        return [e for e in self._entries() if e["kind"] == "end"
                and (path_suffix is None or e["path"].endswith(path_suffix))]

    def clear_log(self):
        open(self.log_path, "w").close()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc.stdout:
            self.proc.stdout.close()


if __name__ == "__main__":
    serve()
