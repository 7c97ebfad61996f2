"""Connection reuse (issue 15): the byte ranges one worker fetches through one TransportSession ride
one kept-alive connection, over HTTP and HTTPS, as nginx's access log shows ($connection and
$connection_requests). goinstall_session_probe (tests/tools/session_probe.cpp) drives a
CurlTransport session; plain fetches still open a connection each; a request cancelled mid-body
does not spoil the session's next ones."""
import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
import goinstall_harness as h  # noqa: E402

RANGE = 256 << 10
COUNT = 8
PATH = "dl/blob.bin"


def probe_bin() -> str:
    return os.path.join(os.environ["GOINSTALL_BUILD_DIR"], "tests", "goinstall_session_probe")


class KeepAlive(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.data = os.urandom(RANGE * COUNT)
        cls.http = h.Nginx().start()
        cls.https = h.Nginx(tls=True).start()
        for ng in (cls.http, cls.https):
            ng.put(PATH, cls.data)

    @classmethod
    def tearDownClass(cls):
        cls.http.close()
        cls.https.close()

    def probe(self, ng, *flags):
        """Runs the probe; returns (its JSON lines, nginx's log entries of the blob it caused)."""
        since = len(ng.access_log_lines())
        args = [probe_bin(), *flags]
        if ng.tls:
            args += ["--cafile", ng.ca_cert]
        args += [ng.url_for(PATH), str(RANGE), str(COUNT)]
        r = subprocess.run(args, capture_output=True, text=True, timeout=60)
        lines = [json.loads(x) for x in r.stdout.splitlines()]
        self.assertEqual(len(lines), COUNT, r.stdout + r.stderr)
        log = [e for e in ng.wait_for_log(COUNT, since=since) if e.path == "/" + PATH]
        self.assertEqual(len(log), COUNT, log)
        return lines, log

    def assert_ranges_served(self, lines, log, first=0):
        for n in range(first, COUNT):
            self.assertEqual(lines[n], {"n": n, "ok": True, "status": 206, "bytes": RANGE,
                                        "reused": n > first}, lines)
        self.assertEqual(sorted(e.range for e in log),
                         sorted(f"bytes={n * RANGE}-{(n + 1) * RANGE - 1}" for n in range(first, COUNT)))

    def assert_one_connection(self, log):
        self.assertEqual(len({e.connection for e in log}), 1, log)
        self.assertEqual(sorted(e.connection_requests for e in log), list(range(1, len(log) + 1)))

    def test_session_uses_one_connection_http(self):
        lines, log = self.probe(self.http)
        self.assert_ranges_served(lines, log)
        self.assert_one_connection(log)
        self.assertEqual({e.protocol for e in log}, {"HTTP/1.1"})

    def test_session_uses_one_connection_https(self):
        lines, log = self.probe(self.https)
        self.assert_ranges_served(lines, log)
        self.assert_one_connection(log)
        self.assertTrue(all(e.ssl_protocol for e in log), log)

    def test_plain_fetches_open_a_connection_each(self):
        # Transport::fetch keeps nothing: the contrast that shows the log tells reuse apart.
        lines, log = self.probe(self.http, "--no-session")
        self.assertEqual([x["reused"] for x in lines], [False] * COUNT)
        self.assertEqual(len({e.connection for e in log}), COUNT, log)

    def test_cancelled_request_does_not_spoil_the_next(self):
        # By the sink's error, or by the CancelToken (which also shuts the HTTP/1.1 socket down;
        # over h2 it must not, test_http2.py).
        for ng, flag in [(ng, flag) for ng in (self.http, self.https)
                         for flag in ("--cancel-first", "--cancel-token-first")]:
            with self.subTest(tls=ng.tls, flag=flag):
                lines, log = self.probe(ng, flag)
                self.assertEqual(lines[0], {"n": 0, "ok": False, "code": "cancelled"})
                # curl closed the connection of the aborted request; the rest share a new one.
                first = next(e for e in log if e.range == f"bytes=0-{RANGE - 1}")
                rest = [e for e in log if e is not first]
                self.assert_ranges_served(lines, rest, first=1)
                self.assertNotIn(first.connection, {e.connection for e in rest})
                self.assert_one_connection(rest)


if __name__ == "__main__":
    unittest.main()
