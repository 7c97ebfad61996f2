"""Segmented download (issue 7): byte ranges from several loopback mirrors at once.

A 24 MiB archive (incompressible, so above the 16 MiB threshold) from three mirrors: every mirror
serves ranges and the install verifies; a stalling mirror's chunk is re-assigned; a mirror serving a
file of another size is excluded; one mirror only, or --connections 1, means no ranges at all;
--connections 2 uses two of three mirrors. The first mirror streams the file from the start; the
others join with ranges once one has answered (issue 14)."""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
import fault_server as fs  # noqa: E402
import goinstall_harness as h  # noqa: E402
from release_site import Site  # noqa: E402

VERSION = "go1.21.5"
BLOB = 24 << 20


class Segmented(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = h.tmpfs_dir("goinstall-segmented-")
        cls.arc = h.fake_toolchain_archive(VERSION, os.path.join(str(cls.tmp), "a"),
                                           extra_files={"pkg/blob.bin": os.urandom(BLOB)})
        with open(cls.arc.path, "rb") as f:
            cls.data = f.read()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def setUp(self):
        self.site = Site(self, [self.arc])

    def install(self, mirrors, extra=(), timeout=120):
        args = [VERSION, "--index-url", self.site.index_url, "--allow-insecure-index", "--root",
                self.site.root, "--mirror", ",".join(mirrors), "--no-fallback", "--json", *extra]
        r = h.run_goinstall(args, home=self.site.home, timeout=timeout)
        events = [json.loads(x) for x in r.stdout.splitlines() if x.startswith("{")]
        return r, events

    def assert_ok(self, r, events):
        self.assertEqual(r.returncode, 0, r.output)
        self.assertTrue(events[-1]["ok"])
        self.assertEqual(events[-1]["sha256"], self.arc.sha256)
        blob = os.path.join(self.site.root, VERSION, "pkg", "blob.bin")
        self.assertEqual(os.path.getsize(blob), BLOB)
        self.assertEqual(os.listdir(os.path.join(self.site.root, ".downloads")), [])

    def ranged(self, srv):
        return [q for q in srv.requests() if q.path.endswith(self.arc.filename) and q.range]

    def served(self, srv):
        """Body bytes a fault server sent of the archive: the first mirror streams the file from the
        start (no Range, or `bytes=N-`) until the others, joining once it answered, hold the rest."""
        return sum(q.body_bytes_sent for q in srv.requests() if q.path.endswith(self.arc.filename))

    def test_three_mirrors_all_serve_ranges(self):
        # The first mirror streams from the start (2 MB/s, so the others surely join); the others
        # join with ranges once it has answered (issue 14: only mirrors that answered take part).
        a = fs.start_fault_server(self, {self.arc.filename: self.data})
        a.set_fault(fs.drip(bytes_per_second=2_000_000, max_seconds=60))
        b = fs.start_fault_server(self, {self.arc.filename: self.data})
        r, events = self.install([a.url, b.url, self.site.mirror])
        self.assert_ok(r, events)
        nginx = [e for e in self.site.nginx.requests_until_marker() if e.path.endswith(self.arc.filename)]
        for q in self.ranged(a) + self.ranged(b):
            self.assertRegex(q.range, r"^bytes=\d+-\d*$")
            self.assertEqual(q.status, 206)
        seg = [e for e in events if e.get("event") == "attempt" and e.get("segmented")]
        self.assertEqual(len(seg), 3)
        lead = next(e for e in seg if e["mirror"] == a.url)
        if not lead["lost_race"]:   # a answered within the head start (a loaded machine may delay it)
            self.assertTrue(self.served(a) and self.ranged(b) and nginx, (a.requests(), nginx))
        else:
            self.assertTrue(self.served(b), b.requests())
        sent = sum(q.body_bytes_sent for q in a.requests() + b.requests()) + \
            sum(e.bytes for e in nginx)
        # Ranges, not whole copies: a chunk has at most two holders at once (the endgame duplicate
        # or a stall hand-over, chunk_scheduler.hpp), so no byte is sent more than twice. How much
        # the endgame duplicates depends on how the three servers' timing compares (under load,
        # 1.33x was seen), so only that invariant is asserted, not a tighter share.
        self.assertLessEqual(sent, 2 * len(self.data))
        # Issue 15: a worker's ranges ride one kept-alive connection. Over several ranges from
        # nginx, at least one came on a connection an earlier range had opened (a cancelled
        # endgame duplicate closes its connection, so not all of them need to).
        ranged = [e for e in nginx if e.status == 206]
        if len(ranged) >= 3:
            self.assertGreaterEqual(max(e.connection_requests for e in ranged), 2,
                                    [(e.connection, e.connection_requests, e.range) for e in ranged])

    def test_stalling_mirror_chunk_is_reassigned(self):
        slow = fs.start_fault_server(self, {self.arc.filename: self.data})
        slow.set_fault(fs.drip(bytes_per_second=2000, max_seconds=100))
        good = fs.start_fault_server(self, {self.arc.filename: self.data})
        r, events = self.install([slow.url, good.url, self.site.mirror], ["--stall-timeout", "90"])
        self.assert_ok(r, events)
        self.assertTrue(slow.requests())
        # The slow mirror's chunk went elsewhere: its segmented attempts ended (goinstall's own
        # elapsed_ms) well before the 90 s stall timeout or the drip's end (100 s) would have cut
        # them (30 s bound: 3x; room for a loaded machine's whole download, which they outlive).
        on_slow = [e for e in events if e.get("event") == "attempt" and e.get("segmented")
                   and e["mirror"] == slow.url]
        self.assertTrue(on_slow, events)
        for a in on_slow:
            self.assertLess(a["elapsed_ms"], 30_000, a)

    def test_mirror_with_another_size_is_excluded(self):
        other = fs.start_fault_server(self, {self.arc.filename: self.data + b"extra bytes"})
        good = fs.start_fault_server(self, {self.arc.filename: self.data})
        r, events = self.install([other.url, good.url, self.site.mirror])
        self.assert_ok(r, events)
        reqs = [q for q in other.requests() if q.path.endswith(self.arc.filename)]
        self.assertLessEqual(len(reqs), 1, reqs)   # one range answered with the wrong total, then out
        seg = [e for e in events if e.get("event") == "attempt" and e.get("segmented")]
        self.assertTrue(any("answered a range request" in e.get("error", "") for e in seg), seg)

    def test_connections_caps_the_mirrors_used_and_1_turns_it_off(self):
        a = fs.start_fault_server(self, {self.arc.filename: self.data})
        b = fs.start_fault_server(self, {self.arc.filename: self.data})
        r, events = self.install([a.url, b.url, self.site.mirror], ["--connections", "2"])
        self.assert_ok(r, events)
        start = [e for e in events if e.get("event") == "download_start"]
        self.assertEqual(start[0].get("connections"), 2, start)
        nginx = [e for e in self.site.nginx.requests_until_marker() if e.path.endswith(self.arc.filename)]
        # Which of the two serves how much depends on who answers first; the third is never asked.
        self.assertTrue(self.served(a) or self.served(b), (a.requests(), b.requests()))
        seg = [e for e in events if e.get("event") == "attempt" and e.get("segmented")]
        self.assertTrue(seg and {e["mirror"] for e in seg} <= {a.url, b.url}, seg)
        self.assertEqual(nginx, [])   # the third mirror was not needed

        self.site = Site(self, [self.arc])
        a = fs.start_fault_server(self, {self.arc.filename: self.data})
        r, events = self.install([a.url, self.site.mirror], ["--connections", "1"],)
        self.assert_ok(r, events)
        self.assertEqual([q.range for q in a.requests() if q.path.endswith(self.arc.filename)], [None])
        self.assertFalse([e for e in events if e.get("event") == "attempt" and e.get("segmented")])

    def test_single_mirror_is_not_segmented(self):
        r, events = self.install([self.site.mirror])
        self.assert_ok(r, events)
        nginx = [e for e in self.site.nginx.requests_until_marker() if e.path.endswith(self.arc.filename)]
        self.assertEqual([e.range for e in nginx], [None])


if __name__ == "__main__":
    unittest.main()
