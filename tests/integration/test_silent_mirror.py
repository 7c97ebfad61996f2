"""Single stream (--connections 1) and a mirror that goes silent mid-body (issue #15).

Mirror 1 sends the response head and the first SILENT_AT bytes of the archive, then nothing: the
connection stays open (a real server cannot be told to do that, so it is a scripted FaultServer);
mirror 2 is a real nginx serving the same archive. goinstall must leave mirror 1 after a window
set by the transfer's own pace (seconds), not after --stall-timeout (60 s here), and resume the
.part from the offset it reached on nginx: one Range request for the remainder, nothing fetched
twice."""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
import fault_server as fs  # noqa: E402
import goinstall_harness as h  # noqa: E402
from release_site import Site  # noqa: E402

VERSION = "go1.21.4"
BLOB = 4 << 20          # incompressible, so the archive is ~4 MiB: one stream under the 16 MiB bar
SILENT_AT = 1 << 20     # mirror 1 goes silent after this many body bytes
STALL_TIMEOUT = 60      # --stall-timeout, seconds
HOLD_SECONDS = 90       # mirror 1 holds the connection at most this long (past the stall timeout)


class SilentMirror(fs.FaultServer):
    """A FaultServer whose `drip` fault goes silent instead of dripping: the head and the first
    `silent_at` body bytes at once, then nothing until the client goes away, stop(), or the
    fault's max_seconds (then it closes: truncated)."""
    silent_at = SILENT_AT

    def _drip(self, sock, rec, body, rate, max_seconds):
        self._send(sock, rec, body[:self.silent_at], True)
        self._wait_client_gone(sock, max_seconds)
        rec.error = "silent: the client went away, or max_seconds passed"


class SilentMirrorTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = h.tmpfs_dir("goinstall-silent-")
        cls.arc = h.fake_toolchain_archive(VERSION, os.path.join(str(cls.tmp), "a"),
                                           extra_files={"pkg/blob.bin": os.urandom(BLOB)})
        with open(cls.arc.path, "rb") as f:
            cls.data = f.read()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def setUp(self):
        self.site = Site(self, [self.arc])  # nginx: the index and mirror 2
        self.silent = SilentMirror({self.arc.filename: self.data})
        self.silent.start()
        self.addCleanup(self.silent.stop)
        self.silent.set_fault(fs.drip(bytes_per_second=1, max_seconds=HOLD_SECONDS, times=1))

    def test_silent_mirror_is_left_within_seconds_and_nginx_serves_only_the_rest(self):
        args = [VERSION, "--index-url", self.site.index_url, "--allow-insecure-index",
                "--root", self.site.root, "--mirror", f"{self.silent.url},{self.site.mirror}",
                "--no-fallback", "--connections", "1", "--stall-timeout", str(STALL_TIMEOUT), "--json"]
        r = h.run_goinstall(args, home=self.site.home, timeout=HOLD_SECONDS + 30)
        events = [json.loads(x) for x in r.stdout.splitlines() if x.startswith("{")]
        self.assertEqual(r.returncode, 0, r.output)
        # The stall: the attempt on mirror 1 ended as silent, on goinstall's own clock far below
        # the 60 s stall timeout (20 s bound: 3x margin). A fixed stall timeout fails here.
        attempts = [e for e in events if e["event"] == "attempt"]
        stalled = attempts[0]
        self.assertEqual(stalled["mirror"], self.silent.url)
        self.assertLess(stalled["elapsed_ms"], STALL_TIMEOUT * 1000 // 3, stalled)
        self.assertTrue(stalled["error"].startswith("silent for "), stalled)
        self.assertEqual(stalled["bytes"], SILENT_AT)
        self.assertEqual([a["mirror"] for a in attempts], [self.silent.url, self.site.mirror], attempts)

        # Mirror 1: one GET, cut off by goinstall after the silent offset (no retry there).
        first = self.silent.wait_for_requests(1)
        self.assertEqual(len(first), 1, first)
        self.assertEqual(first[0].body_bytes_sent, SILENT_AT)
        self.assertFalse(first[0].completed)

        result = events[-1]
        self.assertTrue(result["ok"], result)
        self.assertEqual(result["mirror"], self.site.mirror)
        self.assertEqual(result["sha256"], self.arc.sha256)
        with open(os.path.join(self.site.root, VERSION, "pkg", "blob.bin"), "rb") as f:
            self.assertEqual(len(f.read()), BLOB)

        failovers = [e for e in events if e["event"] == "failover"]
        self.assertEqual(len(failovers), 1, failovers)
        self.assertEqual(failovers[0]["from"], self.silent.url)
        self.assertEqual(failovers[0]["to"], self.site.mirror)
        self.assertEqual(failovers[0]["offset"], SILENT_AT)
        self.assertFalse(failovers[0]["handover"])
        self.assertEqual(attempts[1]["resumed_from"], SILENT_AT)

        # nginx: one request, for the remainder from the offset reached; nothing fetched twice.
        served = h.wait_until(self.site.archive_requests, timeout=5)  # nginx logs after sending
        self.assertEqual(len(served), 1, served)
        self.assertEqual(served[0].status, 206)
        self.assertEqual(served[0].range, f"bytes={SILENT_AT}-")
        self.assertEqual(served[0].bytes, len(self.data) - SILENT_AT)
        self.assertEqual(first[0].body_bytes_sent + served[0].bytes, len(self.data))


if __name__ == "__main__":
    unittest.main(verbosity=2)
