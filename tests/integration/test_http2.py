"""HTTP/2 (issue 15): goinstall against Debian's nginx offering h2 by ALPN over TLS (`listen ... ssl
http2`, nginx 1.22). nginx's access log ($server_protocol, $connection, $connection_requests) shows
that the archive's ranges travel as HTTP/2.0 streams and that one worker's ranges share one
connection; an HTTP/1.1-only TLS mirror beside an h2 one still serves (ALPN falls back);
goinstall_session_probe (tests/tools/session_probe.cpp) shows that a stream cancelled mid-body,
by the sink or by its CancelToken, leaves the h2 connection usable for the session's next range.

Servers: two h2 nginx and one HTTP/1.1-only nginx, one certificate, started once for the file.
Archive paths under /slow/ are limited to 4 MB/s a request so that a second mirror surely joins a
17 MiB download with ranges (loopback would otherwise deliver it all from the first mirror at
once); /fast/ is not limited. Through squid (a CONNECT tunnel), goinstall runs in proxy_harness's
hosts namespace, where mirror.test is 127.0.0.1 (loopback names are never proxied)."""
import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
import goinstall_harness as h  # noqa: E402
import proxy_harness as ph  # noqa: E402
import real_proxies as rp  # noqa: E402

VERSION = "go1.21.5"
BLOB = 17 << 20        # the archive just passes the 16 MiB segmented threshold (downloader.hpp)
RANGE = 256 << 10      # the probe's ranges
COUNT = 8
PROBE_PATH = "dl/blob.bin"
CANCEL_PATH = "dl/cancel.bin"
# The first range of CANCEL_PATH trickles (32 KB/s), so that nginx is surely still sending it when
# the probe cancels it: the log then shows it incomplete.
CANCEL_LOCATION = ('location = /%s { if ($http_range = "bytes=0-%d") { set $limit_rate 32k; } }'
                   % (CANCEL_PATH, RANGE - 1))


def probe_bin() -> str:
    return os.path.join(os.environ["GOINSTALL_BUILD_DIR"], "tests", "goinstall_session_probe")


def big_archive(dest_dir: str, blob_bytes: int) -> h.ToolchainArchive:
    """fake_toolchain_archive's tree plus go/pkg/blob.bin, gzip level 0 (stored blocks): as large as
    the tree and built in about a second, where level 9 on random data takes ~10 s here."""
    small = h.fake_toolchain_archive(VERSION, os.path.join(dest_dir, "small"))
    tar = io.BytesIO()
    with tarfile.open(small.path, "r:gz") as src, \
            tarfile.open(fileobj=tar, mode="w", format=tarfile.GNU_FORMAT) as out:
        for m in src.getmembers():
            out.addfile(m, src.extractfile(m) if m.isfile() else None)
        ti = tarfile.TarInfo("go/pkg/blob.bin")
        ti.size, ti.mode = blob_bytes, 0o644
        block = os.urandom(1 << 20)
        out.addfile(ti, io.BytesIO((block * (blob_bytes // len(block) + 1))[:blob_bytes]))
    data = gzip.compress(tar.getvalue(), compresslevel=0, mtime=0)
    path = os.path.join(dest_dir, small.filename)
    with open(path, "wb") as f:
        f.write(data)
    return h.ToolchainArchive(path=path, sha256=hashlib.sha256(data).hexdigest(), size=len(data),
                              version=VERSION, filename=small.filename,
                              file_count=small.file_count + 1)


class Http2(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = h.tmpfs_dir("goinstall-http2-")
        d = str(cls.tmp)
        ca = h.make_ca(os.path.join(d, "ca"))
        cls.cert = h.make_cert(os.path.join(d, "ca"), ca, names=("localhost", "127.0.0.1", "mirror.test"))
        cls.arc = big_archive(os.path.join(d, "a"), BLOB)
        slow = "location /slow/ { limit_rate 4m; }"
        cls.h2a = h.Nginx(tls=True, http2=True, cert=cls.cert, locations=[slow, CANCEL_LOCATION])
        cls.h2b = h.Nginx(tls=True, http2=True, cert=cls.cert, locations=[slow])
        cls.h1 = h.Nginx(tls=True, cert=cls.cert, locations=[slow])
        cls.servers = (cls.h2a, cls.h2b, cls.h1)
        try:
            for ng in cls.servers:
                ng.start()
                for sub in ("slow/", "fast/"):
                    ng.put_file(sub + cls.arc.filename, cls.arc.path, symlink=True)
            cls.h2a.put("dl/index.json", h.make_index([cls.arc]))
            cls.probe_data = os.urandom(RANGE * COUNT)
            cls.h2a.put(PROBE_PATH, cls.probe_data)
            cls.h2a.put(CANCEL_PATH, cls.probe_data)
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for ng in cls.servers:
            ng.close()
        cls.tmp.cleanup()

    # -- goinstall install ---------------------------------------------------------------------
    def install(self, mirrors, extra=()):
        """Runs the install; returns (events, {server: its log entries of the archive})."""
        since = {ng: len(ng.access_log_lines()) for ng in self.servers}
        root = h.tmpfs_path(self, "goinstall-http2-root-")
        r = h.run_goinstall([VERSION, "--index-url", self.h2a.url + "dl/?mode=json&include=all",
                             "--mirror", ",".join(mirrors), "--no-fallback", "--root", root,
                             "--cacert", self.cert.ca_cert, "--json", *extra], timeout=60)
        self.assertEqual(r.returncode, 0, r.output)
        events = [json.loads(x) for x in r.stdout.splitlines() if x.startswith("{")]
        self.assertTrue(events[-1]["ok"], events[-1])
        self.assertEqual(events[-1]["sha256"], self.arc.sha256)
        self.assertEqual(os.path.getsize(os.path.join(root, VERSION, "pkg", "blob.bin")), BLOB)
        logs = {}
        for ng in self.servers:
            logs[ng] = [e for e in ng.requests_until_marker(since=since[ng])
                        if e.path.endswith(self.arc.filename)]
        return events, logs

    def assert_one_connection(self, entries):
        """All on one connection, as its 1st, 2nd, ... request (nginx counts h2 streams)."""
        self.assertEqual(len({e.connection for e in entries}), 1, entries)
        self.assertEqual(sorted(e.connection_requests for e in entries),
                         list(range(1, len(entries) + 1)), entries)

    def assert_sessions_own_connections(self, events, ng, entries):
        """Each worker (one segmented `attempt` event each, so one TransportSession) kept its one
        connection: no more connections than sessions on this mirror, and each connection's
        requests are its 1st, 2nd, ... (nginx counts h2 streams), none lost between."""
        sessions = [e for e in events if e.get("event") == "attempt" and e.get("segmented")
                    and f":{ng.port}/" in e["url"]]
        by_conn = {}
        for e in entries:
            by_conn.setdefault(e.connection, []).append(e.connection_requests)
        self.assertLessEqual(len(by_conn), max(1, len(sessions)), (entries, sessions))
        for numbers in by_conn.values():
            self.assertEqual(sorted(numbers), list(range(1, len(numbers) + 1)), entries)

    def test_single_mirror_over_h2(self):
        _, logs = self.install([self.h2b.url + "fast/"])
        got = logs[self.h2b]
        self.assertEqual([(e.protocol, e.status, e.range) for e in got], [("HTTP/2.0", 200, None)], got)
        self.assertEqual(got[0].bytes, self.arc.size)
        self.assertTrue(got[0].ssl_protocol, got)

    def test_two_h2_mirrors_segmented(self):
        # --connections 2: one worker, so one TransportSession, per mirror.
        events, logs = self.install([self.h2a.url + "slow/", self.h2b.url + "slow/"],
                                    ["--connections", "2"])
        both = logs[self.h2a] + logs[self.h2b]
        self.assertTrue(logs[self.h2a] and logs[self.h2b], both)
        self.assertEqual({e.protocol for e in both}, {"HTTP/2.0"}, both)
        # Each session's requests ride one connection: over h2 even a stream the worker stopped
        # mid-body (a range another mirror finished) leaves it open.
        for ng in (self.h2a, self.h2b):
            self.assert_sessions_own_connections(events, ng, logs[ng])
        ranged = [e for e in both if e.status == 206]
        self.assertTrue(ranged, both)
        seg = [e for e in events if e.get("event") == "attempt" and e.get("segmented")]
        if not any(e["lost_race"] for e in seg):
            # Nobody lost the start race (a loaded machine may make one): the mirror that joined
            # with ranges fetched several, as streams of its one connection.
            self.assertGreaterEqual(max(e.connection_requests for e in both), 2, both)

    def test_http11_mirror_beside_h2(self):
        events, logs = self.install([self.h2a.url + "slow/", self.h1.url + "slow/"], ["--connections", "2"])
        self.assertTrue(logs[self.h2a] and logs[self.h1], logs)
        self.assertEqual({e.protocol for e in logs[self.h2a]}, {"HTTP/2.0"}, logs[self.h2a])
        # ALPN offered h2, nginx chose http/1.1: still TLS, still served.
        self.assertEqual({e.protocol for e in logs[self.h1]}, {"HTTP/1.1"}, logs[self.h1])
        self.assertTrue(all(e.ssl_protocol for e in logs[self.h1]), logs[self.h1])
        self.assertTrue(any(e.status in (200, 206) and e.bytes > 0 for e in logs[self.h1]), logs[self.h1])
        self.assert_sessions_own_connections(events, self.h2a, logs[self.h2a])

    def test_h2_through_a_connect_proxy(self):
        # ALPN rides inside the tunnel: squid relays bytes, the origin still negotiates h2.
        hosts = ph.hosts_file(h.tmpfs_path(self, "goinstall-http2-hosts-"))
        squid = rp.Squid(hosts, {})
        self.addCleanup(squid.close)
        ng = self.h2b
        since = len(ng.access_log_lines())
        base = f"https://mirror.test:{ng.port}/"
        ng.put("dl/index.json", h.make_index([self.arc]))
        home = h.tmpfs_path(self, "goinstall-http2-home-")
        root = os.path.join(home, "root")
        argv = [h.goinstall_bin(), VERSION, "--index-url", base + "dl/?mode=json&include=all", "--mirror",
                base + "fast/", "--no-fallback", "--root", root, "--cacert", self.cert.ca_cert,
                "--no-system-proxy", "--proxy", squid.url()]
        r = subprocess.run(ph.in_hosts_namespace(argv, hosts), env=h.isolated_env(home), capture_output=True,
                           text=True, timeout=60, stdin=subprocess.DEVNULL, cwd=home)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(os.path.getsize(os.path.join(root, VERSION, "pkg", "blob.bin")), BLOB)
        tunnel = f"mirror.test:{ng.port}"
        entries = squid.wait_for_access(lambda e: e.method == "CONNECT" and e.url == tunnel)
        self.assertTrue(any(e.code == "TCP_TUNNEL" and e.status == 200 for e in entries
                            if e.method == "CONNECT" and e.url == tunnel), entries)
        got = ng.requests_until_marker(since=since)
        self.assertEqual({e.path for e in got}, {"/dl/", "/fast/" + self.arc.filename}, got)
        self.assertEqual({e.protocol for e in got}, {"HTTP/2.0"}, got)
        self.assertEqual({e.host for e in got}, {tunnel}, got)

    # -- goinstall_session_probe ---------------------------------------------------------------
    def probe(self, path, *flags):
        """Runs the probe on h2a; returns (its JSON lines, nginx's log entries of `path`)."""
        ng = self.h2a
        since = len(ng.access_log_lines())
        r = subprocess.run([probe_bin(), *flags, "--cafile", ng.ca_cert, ng.url_for(path), str(RANGE),
                            str(COUNT)], capture_output=True, text=True, timeout=60)
        lines = [json.loads(x) for x in r.stdout.splitlines()]
        self.assertEqual(len(lines), COUNT, r.stdout + r.stderr)
        log = [e for e in ng.requests_until_marker(since=since) if e.path == "/" + path]
        self.assertEqual(len(log), COUNT, log)
        return lines, log

    def assert_ranges_served(self, lines, log, first=0):
        for n in range(first, COUNT):
            self.assertEqual(lines[n], {"n": n, "ok": True, "status": 206, "bytes": RANGE,
                                        "reused": n > 0}, lines)
        self.assertEqual(sorted(e.range for e in log),
                         sorted(f"bytes={n * RANGE}-{(n + 1) * RANGE - 1}" for n in range(COUNT)))
        self.assertEqual({e.protocol for e in log}, {"HTTP/2.0"}, log)

    def test_probe_ranges_ride_one_h2_connection(self):
        lines, log = self.probe(PROBE_PATH)
        self.assert_ranges_served(lines, log)
        self.assert_one_connection(log)
        self.assertTrue(all(e.completed and e.bytes == RANGE for e in log), log)

    def test_cancelled_stream_keeps_the_connection(self):
        # Over HTTP/1.1 a cancelled request costs its connection (test_keepalive); over h2 curl
        # resets the stream (RST_STREAM) and the next ranges ride the same connection. Through the
        # CancelToken this failed before curl_transport.cpp stopped shutting the socket down for an
        # h2 response: nginx logged "client prematurely closed connection while processing HTTP/2
        # connection" and ranges 1-7 came on a new connection.
        for flag in ("--cancel-first", "--cancel-token-first"):
            with self.subTest(flag=flag):
                errors_before = len(self.h2a.error_log_text().splitlines())
                lines, log = self.probe(CANCEL_PATH, flag)
                self.assertEqual(lines[0], {"n": 0, "ok": False, "code": "cancelled"})
                self.assert_ranges_served(lines, log, first=1)
                self.assert_one_connection(log)
                first = next(e for e in log if e.range == f"bytes=0-{RANGE - 1}")
                self.assertFalse(first.completed, first)   # cut mid-body, not read to its end
                self.assertLess(first.bytes, RANGE, first)
                errors = "\n".join(self.h2a.error_log_text().splitlines()[errors_before:])
                self.assertIn("client terminated stream 1", errors)
                self.assertNotIn("while processing HTTP/2 connection", errors)


if __name__ == "__main__":
    unittest.main()
