"""Self-check of tests/harness/fault_server.py: every fault misbehaves exactly as documented.

Runs without goinstall: `python3 tests/integration/test_fault_server_selfcheck.py` (~10 s).
Clients: raw sockets (exact bytes on the wire), http.client, urllib, and curl when installed.
"""

import collections
import email.utils
import hashlib
import http.client
import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
import fault_server as fs  # noqa: E402
import goinstall_harness as h  # noqa: E402

DATA = bytes((i * 7 + (i >> 8)) & 0xFF for i in range(100_000))   # 100 kB, deterministic
SHA = hashlib.sha256(DATA).hexdigest()
PATH = "dl/go1.21.3.linux-amd64.tar.gz"

Resp = collections.namedtuple("Resp", "status status_line headers body eof_error")

# urllib must never use a proxy from the environment: loopback only.
_NO_PROXY = urllib.request.ProxyHandler({})


def raw_request(srv, path, headers=(), method="GET", timeout=5.0, ctx=None):
    """One request over a raw socket; reads until EOF (the server always closes). Returns the
    exact status line, headers (lowercased) and every body byte received."""
    s = socket.create_connection((srv.host, srv.port), timeout=timeout)
    try:
        if ctx is not None:
            s = ctx.wrap_socket(s, server_hostname="localhost")
        req = (f"{method} /{path.lstrip('/')} HTTP/1.1\r\nHost: localhost\r\n"
               + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n")
        s.sendall(req.encode())
        buf, err = b"", None
        deadline = time.monotonic() + timeout
        for _ in range(100_000):
            if time.monotonic() > deadline:
                raise TimeoutError("raw_request: no EOF in time")
            try:
                d = s.recv(65536)
            except (ssl.SSLError, ConnectionResetError) as e:
                err = e
                break
            if not d:
                break
            buf += d
    finally:
        s.close()
    head, _, body = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    hdrs = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    return Resp(int(lines[0].split()[1]), lines[0], hdrs, body, err)


def hc_get(srv, path, headers=None, method="GET", timeout=5.0, ctx=None):
    """http.client request -> (response, body or IncompleteRead)."""
    if srv.tls:
        c = http.client.HTTPSConnection("localhost", srv.port, timeout=timeout, context=ctx)
    else:
        c = http.client.HTTPConnection(srv.host, srv.port, timeout=timeout)
    try:
        c.request(method, "/" + path.lstrip("/"), headers=headers or {})
        r = c.getresponse()
        try:
            return r, r.read()
        except http.client.IncompleteRead as e:
            return r, e
    finally:
        c.close()


def fetch(url, headers=None, timeout=5.0, ctx=None):
    handlers = [_NO_PROXY] + ([urllib.request.HTTPSHandler(context=ctx)] if ctx else [])
    req = urllib.request.Request(url, headers=headers or {})
    with urllib.request.build_opener(*handlers).open(req, timeout=timeout) as r:
        return r.status, r.headers, r.read()


class DefaultBehaviourTests(unittest.TestCase):
    def setUp(self):
        self.srv = fs.start_fault_server(self, {PATH: DATA, "dl/index.json": b"[]\n"})

    def test_get_head_404(self):
        srv = self.srv
        self.assertRegex(srv.url, r"^http://127\.0\.0\.1:\d+/$")
        r = raw_request(srv, PATH)
        self.assertEqual(r.status_line, "HTTP/1.1 200 OK")
        self.assertEqual(r.body, DATA)
        self.assertEqual(r.headers["content-length"], "100000")
        self.assertEqual(r.headers["etag"], f'"{SHA[:16]}"')
        self.assertEqual(r.headers["etag"], fs.strong_etag(DATA))
        self.assertEqual(r.headers["etag"], srv.etag(PATH))
        self.assertEqual(r.headers["accept-ranges"], "bytes")
        self.assertEqual(r.headers["connection"], "close")
        self.assertIsNotNone(email.utils.parsedate_to_datetime(r.headers["last-modified"]))
        self.assertEqual(r.headers["last-modified"], srv.last_modified(PATH))
        self.assertEqual(r.headers["content-type"], "application/gzip")

        r = raw_request(srv, PATH, method="HEAD")
        self.assertEqual((r.status, r.body, r.headers["content-length"]), (200, b"", "100000"))
        self.assertEqual(r.headers["etag"], f'"{SHA[:16]}"')

        r = raw_request(srv, "nope/missing.tar.gz")
        self.assertEqual((r.status, r.body), (404, b"404 Not Found\n"))
        self.assertEqual(r.headers["content-length"], str(len(r.body)))

        # go.dev-style index URL resolves to dl/index.json (like the Nginx helper).
        status, hdrs, body = fetch(srv.url_for("dl/?mode=json&include=all"))
        self.assertEqual((status, body, hdrs["Content-Type"]), (200, b"[]\n", "application/json"))

        recs = srv.wait_for_requests(4)
        self.assertEqual([(x.method, x.path, x.status, x.completed) for x in recs],
                         [("GET", "/" + PATH, 200, True), ("HEAD", "/" + PATH, 200, True),
                          ("GET", "/nope/missing.tar.gz", 404, True),
                          ("GET", "/dl/", 200, True)])
        self.assertEqual(recs[3].query, "mode=json&include=all")
        self.assertEqual(recs[0].body_bytes_sent, len(DATA))
        self.assertGreater(recs[0].bytes_sent, len(DATA))
        self.assertEqual(recs[0].headers["host"], "localhost")
        self.assertIsNone(recs[0].fault)
        self.assertLessEqual(recs[0].t_start, recs[0].t_end)
        self.assertEqual(recs[0].response_header("etag"), f'"{SHA[:16]}"')

    def test_range_and_if_range_rules(self):
        srv, etag, lm = self.srv, self.srv.etag(PATH), self.srv.last_modified(PATH)
        cases = [
            # headers, expected status, expected Content-Range, expected body
            ([("Range", "bytes=40000-")], 206, "bytes 40000-99999/100000", DATA[40000:]),
            ([("Range", "bytes=0-")], 206, "bytes 0-99999/100000", DATA),
            ([("Range", "bytes=99999-")], 206, "bytes 99999-99999/100000", DATA[99999:]),
            ([("Range", "bytes=10-19")], 206, "bytes 10-19/100000", DATA[10:20]),
            ([("Range", "bytes=-5")], 206, "bytes 99995-99999/100000", DATA[-5:]),
            ([("Range", "bytes=40000-"), ("If-Range", etag)], 206, "bytes 40000-99999/100000",
             DATA[40000:]),
            ([("Range", "bytes=40000-"), ("If-Range", lm)], 206, "bytes 40000-99999/100000",
             DATA[40000:]),
            ([("Range", "bytes=40000-"), ("If-Range", '"0000000000000000"')], 200, None, DATA),
            ([("Range", "bytes=40000-"), ("If-Range", "W/" + etag)], 200, None, DATA),
            ([("Range", "bytes=40000-"), ("If-Range", "Mon, 01 Jan 2001 00:00:00 GMT")], 200,
             None, DATA),
            ([("Range", "bytes=100000-")], 416, "bytes */100000", None),
            ([("Range", "bytes=250000-")], 416, "bytes */100000", None),
            # a non-matching If-Range wins over an unsatisfiable range: 200 whole body
            ([("Range", "bytes=250000-"), ("If-Range", '"other"')], 200, None, DATA),
            ([("Range", "bytes=0-1,5-6")], 200, None, DATA),       # multi-range: ignored
            ([("Range", "items=0-")], 200, None, DATA),              # not bytes: ignored
        ]
        for hdrs, st, cr, body in cases:
            with self.subTest(hdrs=hdrs):
                r = raw_request(srv, PATH, hdrs)
                self.assertEqual(r.status, st)
                self.assertEqual(r.headers.get("content-range"), cr)
                if body is not None:
                    self.assertEqual(r.body, body)
                    self.assertEqual(r.headers["content-length"], str(len(body)))
        recs = srv.wait_for_requests(len(cases))
        self.assertEqual([x.range_start for x in recs[:3]], [40000, 0, 99999])
        self.assertIsNone(recs[4].range_start)          # suffix range
        self.assertEqual(recs[4].range, "bytes=-5")
        self.assertEqual(recs[5].if_range, etag)
        self.assertEqual([x.status for x in recs], [c[1] for c in cases])
        self.assertEqual(recs[0].body_bytes_sent, 60000)
        self.assertEqual(fs.parse_range("bytes=5-", 3), "unsatisfiable")
        self.assertIsNone(fs.parse_range("bytes=9-2", 30))

    def test_concurrent_clients(self):
        results, errors = [], []

        def worker(i):
            try:
                hdrs = {"Range": f"bytes={i * 1000}-"} if i % 2 else {}
                status, _, body = fetch(self.srv.url_for(PATH), headers=hdrs)
                results.append((i, status, body == (DATA[i * 1000:] if i % 2 else DATA)))
            except Exception as e:  # noqa: BLE001
                errors.append(repr(e))

        threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        self.assertEqual(errors, [])
        self.assertEqual(sorted(results), [(i, 206 if i % 2 else 200, True) for i in range(16)])
        recs = self.srv.wait_for_requests(16)
        self.assertEqual(sorted(x.range_start or 0 for x in recs),
                         sorted(i * 1000 if i % 2 else 0 for i in range(16)))
        self.assertTrue(all(x.completed for x in recs))
        self.assertEqual(self.srv.connections, 16)

    def test_wait_for_requests_is_bounded(self):
        t0 = time.monotonic()
        self.assertEqual(self.srv.wait_for_requests(1, timeout=0.3), [])
        # Separates "returned at its 0.3 s timeout" from "waited for a request that never comes".
        self.assertLess(time.monotonic() - t0, 5.0)


class FaultTests(unittest.TestCase):
    def setUp(self):
        self.srv = fs.start_fault_server(self, {PATH: DATA, "other.txt": b"other\n"})

    def test_status_faults(self):
        srv = self.srv
        html = b"<html><body>Forbidden by policy</body></html>"
        srv.set_fault(fs.status(403, body=html))
        r = raw_request(srv, PATH)
        self.assertEqual((r.status_line, r.body), ("HTTP/1.1 403 Forbidden", html))
        self.assertEqual(r.headers["content-type"], "text/html")
        srv.set_fault(fs.status(404), path=PATH)           # path fault wins over server-wide
        self.assertEqual(raw_request(srv, PATH).status, 404)
        self.assertEqual(raw_request(srv, "other.txt").status, 403)
        srv.clear_faults()

        srv.set_fault(fs.status(503, {"Retry-After": "1"}, times=1))
        r = raw_request(srv, PATH)
        self.assertEqual((r.status, r.headers["retry-after"], r.body), (503, "1", b""))
        self.assertEqual(raw_request(srv, PATH).body, DATA)      # times=1: then normal

        f = fs.status(429, {"Retry-After": "2", "Content-Type": "application/json"},
                      body='{"error":"slow down"}', times=2)
        srv.set_fault(f)
        with self.assertRaises(urllib.error.HTTPError) as cm:
            fetch(srv.url_for(PATH))
        self.assertEqual((cm.exception.code, cm.exception.headers["Retry-After"]), (429, "2"))
        self.assertEqual(cm.exception.headers["Content-Type"], "application/json")
        self.assertEqual(raw_request(srv, PATH).status, 429)
        self.assertEqual((f.used, f.remaining, f.exhausted), (2, 0, True))
        self.assertEqual(raw_request(srv, PATH).status, 200)
        recs = srv.wait_for_requests(8)
        self.assertEqual([x.fault for x in recs],
                         ["status"] * 4 + [None, "status", "status", None])
        self.assertEqual([x.status for x in recs],
                         [403, 404, 403, 503, 200, 429, 429, 200])

    def test_truncate_at_fraction_then_resume(self):
        srv = self.srv
        srv.set_fault(fs.truncate(at_fraction=0.4, times=1))
        r = raw_request(srv, PATH)
        self.assertEqual((r.status, r.headers["content-length"]), (200, "100000"))
        self.assertEqual(len(r.body), 40_000)            # then EOF
        self.assertEqual(r.body, DATA[:40_000])
        # resume: normal again (times=1)
        r = raw_request(srv, PATH, [("Range", "bytes=40000-"), ("If-Range", srv.etag(PATH))])
        self.assertEqual((r.status, r.headers["content-range"]), (206, "bytes 40000-99999/100000"))
        self.assertEqual(r.body, DATA[40_000:])
        first, resumed = srv.wait_for_requests(2)
        self.assertEqual((first.fault, first.status, first.body_bytes_sent, first.completed,
                          first.content_length), ("truncate", 200, 40_000, False, 100_000))
        self.assertEqual((resumed.fault, resumed.range_start, resumed.if_range, resumed.completed,
                          resumed.body_bytes_sent), (None, 40_000, srv.etag(PATH), True, 60_000))

        # http.client sees the same: IncompleteRead with 40 000 bytes.
        srv.set_fault(fs.truncate(at_fraction=0.4, times=1))
        resp, body = hc_get(srv, PATH)
        self.assertIsInstance(body, http.client.IncompleteRead)
        self.assertEqual((len(body.partial), body.expected), (40_000, 60_000))

    def test_truncate_range_at_bytes(self):
        srv = self.srv
        srv.set_fault(fs.truncate(at_bytes=5000))
        r = raw_request(srv, PATH, [("Range", "bytes=10000-")])
        self.assertEqual((r.status, r.headers["content-range"], r.headers["content-length"]),
                         (206, "bytes 10000-99999/100000", "90000"))
        self.assertEqual(r.body, DATA[10_000:15_000])
        # fraction of the requested range, not of the file
        srv.set_fault(fs.truncate(at_fraction=0.5))
        r = raw_request(srv, PATH, [("Range", "bytes=90000-")])
        self.assertEqual(r.body, DATA[90_000:95_000])
        # HEAD and 404 are not truncated and do not use up the fault
        f = fs.truncate(times=1)
        srv.set_fault(f)
        self.assertEqual(raw_request(srv, PATH, method="HEAD").status, 200)
        self.assertEqual(raw_request(srv, "missing").status, 404)
        self.assertEqual(f.used, 0)

    def test_ignore_range(self):
        srv = self.srv
        f = fs.ignore_range(times=1)
        srv.set_fault(f)
        self.assertEqual(raw_request(srv, PATH).status, 200)       # no Range: not consumed
        self.assertEqual(f.used, 0)
        r = raw_request(srv, PATH, [("Range", "bytes=40000-")])
        self.assertEqual((r.status, r.body, r.headers.get("content-range")), (200, DATA, None))
        r = raw_request(srv, PATH, [("Range", "bytes=40000-")])
        self.assertEqual((r.status, r.body), (206, DATA[40_000:]))
        srv.set_fault(fs.ignore_range())
        r = raw_request(srv, PATH, [("Range", "bytes=500000-")])   # would be 416
        self.assertEqual((r.status, r.body), (200, DATA))
        recs = srv.wait_for_requests(4)
        self.assertEqual([(x.fault, x.range_start) for x in recs],
                         [(None, None), ("ignore_range", 40000), (None, 40000),
                          ("ignore_range", 500000)])

    def test_changing_etag(self):
        srv = self.srv
        srv.set_fault(fs.changing_etag())
        a = raw_request(srv, PATH, method="HEAD").headers
        b = raw_request(srv, PATH, method="HEAD").headers
        self.assertNotEqual(a["etag"], b["etag"])
        self.assertNotEqual(a["last-modified"], b["last-modified"])
        self.assertTrue(a["etag"].startswith('"') and not a["etag"].startswith("W/"))
        r = raw_request(srv, PATH, [("Range", "bytes=40000-"), ("If-Range", b["etag"])])
        self.assertEqual((r.status, r.body), (200, DATA))
        self.assertNotEqual(r.headers["etag"], b["etag"])
        r = raw_request(srv, PATH, [("Range", "bytes=40000-"), ("If-Range", b["last-modified"])])
        self.assertEqual((r.status, r.body), (200, DATA))
        r = raw_request(srv, PATH, [("Range", "bytes=40000-")])     # no If-Range: still ranges
        self.assertEqual((r.status, r.body), (206, DATA[40_000:]))

    def test_wrong_content_range(self):
        srv = self.srv
        f = fs.wrong_content_range(times=2)
        srv.set_fault(f)
        self.assertEqual(raw_request(srv, PATH).status, 200)        # not a range: not consumed
        r = raw_request(srv, PATH, [("Range", "bytes=40000-")])
        self.assertEqual((r.status, r.headers["content-range"]), (206, "bytes 20000-99999/100000"))
        self.assertEqual((r.body, r.headers["content-length"]), (DATA[20_000:], "80000"))
        r = raw_request(srv, PATH, [("Range", "bytes=0-")])
        self.assertEqual((r.status, r.headers["content-range"], r.body),
                         (206, "bytes 50000-99999/100000", DATA[50_000:]))
        r = raw_request(srv, PATH, [("Range", "bytes=40000-")])     # times used up
        self.assertEqual(r.headers["content-range"], "bytes 40000-99999/100000")
        srv.set_fault(fs.wrong_content_range(start=123))
        r = raw_request(srv, PATH, [("Range", "bytes=40000-")])
        self.assertEqual((r.headers["content-range"], r.body), ("bytes 123-99999/100000", DATA[123:]))

    def test_corrupt(self):
        srv = self.srv
        srv.set_fault(fs.corrupt(times=1))
        r = raw_request(srv, PATH)
        self.assertEqual((r.status, len(r.body), r.headers["etag"]), (200, len(DATA), f'"{SHA[:16]}"'))
        self.assertNotEqual(hashlib.sha256(r.body).hexdigest(), SHA)
        self.assertEqual([i for i in range(len(DATA)) if r.body[i] != DATA[i]], [50_000])
        self.assertEqual(raw_request(srv, PATH).body, DATA)
        srv.set_fault(fs.corrupt(positions=[0, 5]))
        r = raw_request(srv, PATH, [("Range", "bytes=99990-")])
        self.assertEqual([i for i in range(10) if r.body[i] != DATA[99990 + i]], [0, 5])

    def test_drip_rate(self):
        srv = self.srv
        srv.set_fault(fs.drip(bytes_per_second=2000))
        s = socket.create_connection((srv.host, srv.port), timeout=2)
        try:
            # From the request on: the server drips from then, so time this thread lost before
            # it read the headers counts (else the bytes buffered meanwhile inflate the rate).
            t0 = time.monotonic()
            s.sendall(f"GET /{PATH} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            buf = b""
            for _ in range(1000):                     # until the headers arrived
                buf += s.recv(65536)
                if b"\r\n\r\n" in buf:
                    break
            head, _, body = buf.partition(b"\r\n\r\n")
            self.assertIn(b"Content-Length: 100000\r\n", head)
            s.settimeout(0.2)
            for _ in range(100):
                if time.monotonic() - t0 >= 1.0:
                    break
                try:
                    body += s.recv(65536)
                except socket.timeout:
                    pass
            elapsed = time.monotonic() - t0
        finally:
            s.close()
        rate = len(body) / elapsed
        print(f"\n  drip: {len(body)} B in {elapsed:.2f} s = {rate:.0f} B/s (asked 2000)",
              file=sys.stderr)
        # The order of magnitude only (load makes a 1 s sample uneven): 2000 B/s, not the whole
        # 100 kB at once (full speed) and not stuck; 3x either way.
        self.assertGreater(rate, 2000 / 3)
        self.assertLess(rate, 2000 * 3)
        self.assertEqual(body, DATA[:len(body)])
        (rec,) = srv.wait_for_requests(1, timeout=3)
        self.assertTrue(rec.finished, "drip did not notice the client leaving")
        self.assertFalse(rec.completed)
        self.assertIn("client", rec.error)
        # Noticed, not dripped to the end (100 kB at 2000 B/s = 50 s): 15 s bound, 3x under.
        self.assertLess(rec.t_end - t0, 15)

    def test_hang_after_accept(self):
        srv = self.srv
        srv.set_fault(fs.hang_after_accept(times=1))
        t0 = time.monotonic()
        with self.assertRaises((socket.timeout, TimeoutError)):
            hc_get(srv, PATH, timeout=1.0)
        waited = time.monotonic() - t0
        print(f"\n  hang_after_accept: client read timeout after {waited:.2f} s", file=sys.stderr)
        self.assertGreater(waited, 0.9)  # a lower bound: load only lengthens it
        (rec,) = srv.wait_for_requests(1, timeout=3)   # ends once the client has gone
        self.assertTrue(rec.finished)
        self.assertEqual((rec.fault, rec.status, rec.bytes_sent, rec.completed, rec.path),
                         ("hang", None, 0, False, "/" + PATH))
        self.assertEqual(raw_request(srv, PATH).body, DATA)   # times=1: normal again

    def test_lie_content_length(self):
        srv = self.srv
        srv.set_fault(fs.lie_content_length(extra=1000))
        r = raw_request(srv, PATH)
        self.assertEqual((r.status, r.headers["content-length"], r.body), (200, "101000", DATA))
        _, body = hc_get(srv, PATH)
        self.assertIsInstance(body, http.client.IncompleteRead)
        self.assertEqual((len(body.partial), body.expected), (100_000, 1000))
        rec = srv.wait_for_requests(2)[0]
        self.assertEqual((rec.content_length, rec.body_bytes_sent, rec.completed),
                         (101_000, 100_000, False))

    def test_redirect(self):
        srv = self.srv
        srv.set_fault(fs.redirect("/other.txt", times=1), path=PATH)
        r = raw_request(srv, PATH)
        self.assertEqual((r.status_line, r.headers["location"]), ("HTTP/1.1 302 Found", "/other.txt"))
        srv.set_fault(fs.redirect(srv.url_for("other.txt"), code=301, times=1), path=PATH)
        status, _, body = fetch(srv.url_for(PATH))       # urllib follows it
        self.assertEqual((status, body), (200, b"other\n"))
        recs = srv.wait_for_requests(3)
        self.assertEqual([(x.path, x.status, x.fault) for x in recs],
                         [("/" + PATH, 302, "redirect"), ("/" + PATH, 301, "redirect"),
                          ("/other.txt", 200, None)])

    def test_empty_reply_and_delay(self):
        srv = self.srv
        srv.set_fault(fs.empty_reply(times=1))
        with self.assertRaises(http.client.RemoteDisconnected):
            hc_get(srv, PATH)
        srv.set_fault(fs.empty_reply(rst=True, times=1))
        with self.assertRaises((ConnectionResetError, http.client.RemoteDisconnected)):
            hc_get(srv, PATH)
        srv.set_fault(fs.delay(0.3, times=1))
        t0 = time.monotonic()
        self.assertEqual(hc_get(srv, PATH)[1], DATA)
        self.assertGreaterEqual(time.monotonic() - t0, 0.3)  # a lower bound: the wait is the fault

    def test_gate_holds_until_released(self):
        srv = self.srv
        g = fs.gate()
        srv.set_fault(g, path=PATH)
        box = []
        t = threading.Thread(target=lambda: box.append(hc_get(srv, PATH, timeout=30)))
        t.start()
        self.assertTrue(g.wait_held(1))
        held = srv.requests()
        self.assertEqual([(x.path, x.status, x.fault) for x in held], [("/" + PATH, None, "gate")])
        self.assertEqual(box, [])          # nothing answered while the gate is shut
        self.assertEqual(hc_get(srv, "other.txt")[1], b"other\n")   # other paths pass
        g.release()
        t.join(30)
        self.assertEqual(box[0][1], DATA)
        self.assertEqual(hc_get(srv, PATH)[1], DATA)                 # open for good

    def test_script_and_per_path(self):
        srv = self.srv
        # fails once (truncated), the resume ignores the Range once, then normal
        srv.set_fault([fs.truncate(at_bytes=1000, times=1), fs.ignore_range(times=1)], path=PATH)
        srv.set_fault(fs.status(503))                    # everything else
        self.assertEqual(len(raw_request(srv, PATH).body), 1000)
        r = raw_request(srv, PATH, [("Range", "bytes=1000-")])
        self.assertEqual((r.status, r.body), (200, DATA))
        r = raw_request(srv, PATH, [("Range", "bytes=1000-")])
        # the path's script is used up: the server-wide fault applies again
        self.assertEqual(r.status, 503)
        self.assertEqual(raw_request(srv, "other.txt").status, 503)
        srv.set_fault(fs.ok(), path="/other.txt")        # shields one path
        self.assertEqual(raw_request(srv, "other.txt").body, b"other\n")
        srv.set_fault(None)
        srv.set_fault(None, path=PATH)
        self.assertEqual(raw_request(srv, PATH).status, 200)
        srv.clear_requests()
        self.assertEqual(srv.requests(), [])

    def test_stop_cuts_hanging_and_dripping_connections(self):
        srv = fs.FaultServer({"a": DATA, "b": DATA}).start()
        self.addCleanup(srv.stop)
        srv.set_fault(fs.hang_after_accept(), path="a")
        srv.set_fault(fs.drip(bytes_per_second=100), path="b")
        socks = []
        for p in ("a", "b"):
            s = socket.create_connection((srv.host, srv.port), timeout=3)
            self.addCleanup(s.close)
            s.sendall(f"GET /{p} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            socks.append(s)
        recs = srv.wait_for_requests(2, finished=False)
        self.assertEqual(len(recs), 2)
        self.assertTrue(h.wait_until(lambda: sorted(str(r.fault) for r in srv.requests()) == ["drip", "hang"]))
        srv.stop()
        # What happened: no connection thread outlived stop() (the hang would last 120 s and the
        # drip 1000 s), and both clients see EOF.
        self.assertFalse([t for t in threading.enumerate() if t.name.startswith(
            f"faultsrv-conn-{srv.port}-") and t.is_alive()])
        for s in socks:                                    # both see EOF (or reset) promptly
            got = b""
            for _ in range(1000):
                try:
                    d = s.recv(65536)
                except ConnectionResetError:
                    break
                if not d:
                    break
                got += d
        self.assertTrue(all(r.finished and not r.completed for r in srv.requests()))
        with self.assertRaises(OSError):
            socket.create_connection((srv.host, srv.port), timeout=1).close()


class TlsTests(unittest.TestCase):
    def test_tls_fresh_cert_and_truncate(self):
        srv = fs.start_fault_server(self, {PATH: DATA}, tls_cert=True)
        self.assertRegex(srv.url, r"^https://localhost:\d+/$")
        ctx = srv.client_ssl_context()
        status, hdrs, body = fetch(srv.url_for(PATH), ctx=ctx)
        self.assertEqual((status, body, hdrs["ETag"]), (200, DATA, f'"{SHA[:16]}"'))
        srv.set_fault(fs.truncate(at_fraction=0.4, times=1))
        r = raw_request(srv, PATH, ctx=ctx)
        self.assertEqual((r.status, r.headers["content-length"], len(r.body)), (200, "100000", 40_000))
        r = raw_request(srv, PATH, [("Range", "bytes=40000-")], ctx=ctx)
        self.assertEqual((r.status, r.body), (206, DATA[40_000:]))
        recs = srv.wait_for_requests(3)
        self.assertTrue(all(x.tls for x in recs))
        # a client that does not trust the CA: handshake fails, nothing recorded as a request
        with self.assertRaises(urllib.error.URLError) as cm:
            fetch(srv.url_for(PATH), ctx=ssl.create_default_context())
        self.assertIsInstance(cm.exception.reason, ssl.SSLCertVerificationError)
        self.assertTrue(h.wait_until(lambda: srv.handshake_errors, timeout=10))
        self.assertEqual(len(srv.requests()), 3)

    def test_tls_with_make_cert(self):
        d = h.tmpfs_path(self, "faultsrv-pki-")
        cert = h.make_cert(d, h.make_ca(d))
        srv = fs.start_fault_server(self, {"x": b"hello"}, tls_cert=cert)
        self.assertEqual(srv.ca_cert, cert.ca_cert)
        self.assertEqual(fetch(srv.url_for("x"), ctx=srv.client_ssl_context())[2], b"hello")


@unittest.skipUnless(socket.has_ipv6, "no IPv6")
class Ipv6Tests(unittest.TestCase):
    def test_ipv6_loopback(self):
        try:
            srv = fs.start_fault_server(self, {"x": b"v6"}, host="::1")
        except OSError as e:
            self.skipTest(f"::1 unavailable: {e}")
        self.assertRegex(srv.url, r"^http://\[::1\]:\d+/$")
        self.assertEqual(fetch(srv.url_for("x"))[2], b"v6")


class UnreachableTests(unittest.TestCase):
    def test_closed_port_refuses(self):
        port = fs.closed_port()
        with self.assertRaises(ConnectionRefusedError):  # refused, not the 2 s timeout
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
        with self.assertRaises(urllib.error.URLError):
            fetch(f"http://127.0.0.1:{port}/x", timeout=2)

    def test_blackhole_connect_times_out(self):
        with fs.Blackhole() as bh:
            self.assertRegex(bh.url, r"^http://127\.0\.0\.1:\d+/$")
            outcome, secs = bh.probe(1.5)
            print(f"\n  Blackhole: mode={bh.mode} setup={bh.setup_seconds:.2f} s; "
                  f"connect(timeout=1.5) -> {outcome} after {secs:.2f} s", file=sys.stderr)
            if bh.mode == "syn_drop":
                self.assertEqual(outcome, "timeout")
            else:
                self.assertEqual(outcome, "connected-silent")
            self.assertGreater(secs, 1.4)
            # The probe's 1.5 s timeout, not the kernel's SYN retries (~2 min): 10 s bound.
            self.assertLess(secs, 10)
            # several clients at once: all time out (the queue stays full)
            t0 = time.monotonic()
            with self.assertRaises((urllib.error.URLError, socket.timeout, TimeoutError)):
                fetch(bh.url_for("x"), timeout=1.0)
            # Their own 1 s timeout ended them, not the kernel's SYN retries (~2 min): 10 s bound.
            self.assertLess(time.monotonic() - t0, 10)
        with fs.Blackhole(https=True) as bh:
            self.assertEqual(bh.url, f"https://localhost:{bh.port}/")

    def test_blackhole_silent_accept_mode(self):
        with fs.Blackhole(mode="silent_accept") as bh:
            self.assertEqual(bh.mode, "silent_accept")
            outcome, secs = bh.probe(1.0)
            self.assertEqual(outcome, "connected-silent")
            self.assertGreater(secs, 0.9)


def _curl_env():
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["HOME"] = "/nonexistent"   # no ~/.curlrc
    return env


@unittest.skipUnless(shutil.which("curl"), "curl not installed")
class CurlTests(unittest.TestCase):
    """A real client sees the same bytes."""

    def curl(self, url, *args, timeout=10):
        out = os.path.join(h.tmpfs_path(self, "faultsrv-curl-"), "out")
        r = subprocess.run(["curl", "-sS", "-q", "--noproxy", "*", "-o", out,
                            "-w", "%{http_code} %{size_download}", *args, url],
                           capture_output=True, text=True, timeout=timeout, env=_curl_env(),
                           stdin=subprocess.DEVNULL)
        body = b""
        if os.path.exists(out):
            with open(out, "rb") as f:
                body = f.read()
        code, size = r.stdout.split()
        return r.returncode, int(code), int(size), body, r.stderr

    def test_curl_truncate_and_range(self):
        srv = fs.start_fault_server(self, {PATH: DATA})
        srv.set_fault(fs.truncate(at_fraction=0.4, times=1))
        rc, code, size, body, err = self.curl(srv.url_for(PATH))
        self.assertEqual((rc, code, size, body), (18, 200, 40_000, DATA[:40_000]), err)  # 18: partial file
        rc, code, size, body, err = self.curl(srv.url_for(PATH), "-r", "40000-")
        self.assertEqual((rc, code, body), (0, 206, DATA[40_000:]), err)
        rc, code, _, _, err = self.curl(srv.url_for(PATH), "-r", "100000-")
        self.assertEqual((rc, code), (0, 416), err)
        srv.set_fault(fs.ignore_range(times=1))
        rc, code, size, body, err = self.curl(srv.url_for(PATH), "-r", "40000-")
        self.assertEqual((rc, code, body), (0, 200, DATA), err)
        recs = srv.wait_for_requests(4)
        self.assertEqual([(x.range_start, x.status, x.body_bytes_sent) for x in recs],
                         [(None, 200, 40_000), (40_000, 206, 60_000), (100_000, 416, 26),
                          (40_000, 200, 100_000)])
        self.assertTrue(recs[0].headers["user-agent"].startswith("curl/"))

    def test_curl_tls_truncate(self):
        srv = fs.start_fault_server(self, {PATH: DATA}, tls_cert=True)
        srv.set_fault(fs.truncate(at_fraction=0.4, times=1))
        rc, code, size, body, err = self.curl(srv.url_for(PATH), "--cacert", srv.ca_cert)
        print(f"\n  curl over TLS, truncated at 40%: exit {rc}, {size} B ({err.strip()})",
              file=sys.stderr)
        self.assertIn(rc, (18, 56), err)   # 18 partial file; 56 recv error (unexpected TLS EOF)
        self.assertEqual((code, size, body), (200, 40_000, DATA[:40_000]))
        rc, code, size, body, err = self.curl(srv.url_for(PATH), "--cacert", srv.ca_cert,
                                              "-C", "40000")
        self.assertEqual((rc, code, body), (0, 206, DATA[40_000:]), err)

    def test_curl_timeouts_and_refused(self):
        srv = fs.start_fault_server(self, {PATH: DATA})
        srv.set_fault(fs.hang_after_accept())
        t0 = time.monotonic()
        rc, code, *_ = self.curl(srv.url_for(PATH), "--max-time", "1")
        self.assertEqual((rc, code), (28, 0))                 # operation timed out
        # --max-time 1, not the hang's 120 s: 40 s bound, 3x under.
        self.assertLess(time.monotonic() - t0, 40)
        self.assertEqual(self.curl(f"http://127.0.0.1:{fs.closed_port()}/", "--max-time", "2")[0], 7)
        with fs.Blackhole() as bh:
            t0 = time.monotonic()
            rc, *_ = self.curl(bh.url, "--connect-timeout", "1", "--max-time", "2")
            took = time.monotonic() - t0
            print(f"\n  curl to Blackhole ({bh.mode}): exit {rc} after {took:.2f} s", file=sys.stderr)
            self.assertEqual(rc, 28)
            # --max-time 2, not the kernel's SYN retries (~2 min): 30 s bound, 4x under.
            self.assertLess(took, 30)


if __name__ == "__main__":
    unittest.main(verbosity=2)
