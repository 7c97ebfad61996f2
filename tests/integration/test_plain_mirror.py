"""Installs from a plain Python http.server mirror (tests/harness/plain_mirror.py) beside nginx, in each
of its range quirks: ranges answered with more than asked, no range support, no Content-Length,
HTTP/1.0 without keep-alive (issue 14, items 10-13).

A 24 MiB archive (above the 16 MiB segmented threshold). The built-in fallbacks are pointed at closed
loopback ports (a user catalogue with "builtin": false), as on a network that cannot reach them:
with `--mirror X`, X is then the only mirror that answers and must serve the file in exactly one
request, whatever its quirks."""
import json
import os
import shutil
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
import fault_server as fs  # noqa: E402
import goinstall_harness as h  # noqa: E402
import plain_mirror as pm  # noqa: E402
from release_site import Site  # noqa: E402

VERSION = "go1.21.5"
BLOB = 24 << 20


class PlainMirror(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = h.tmpfs_dir("goinstall-plain-")
        cls.arc = h.fake_toolchain_archive(VERSION, os.path.join(str(cls.tmp), "a"),
                                           extra_files={"pkg/blob.bin": os.urandom(BLOB)})
        cls.mirrors = {}
        try:
            for mode in pm.MODES:
                www = os.path.join(str(cls.tmp), "www-" + mode)
                os.makedirs(www)
                os.link(cls.arc.path, os.path.join(www, cls.arc.filename))
                cls.mirrors[mode] = pm.PlainMirror(www, mode)
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for m in cls.mirrors.values():
            m.stop()
        cls.tmp.cleanup()

    def setUp(self):
        self.site = Site(self, [self.arc])  # nginx: the index, and a second mirror where a test wants one
        for m in self.mirrors.values():
            m.clear_log()

    def use_unreachable_fallbacks(self):
        """The catalogue's mirrors (the fallbacks after --mirror) on closed loopback ports."""
        cfg = os.path.join(self.site.home, ".config", "goinstall")
        os.makedirs(cfg, exist_ok=True)
        with open(os.path.join(cfg, "mirrors.json"), "w") as f:
            json.dump({"builtin": False, "mirrors": [
                {"name": "official", "url": f"http://127.0.0.1:{fs.closed_port()}/dl/"},
                {"name": "google-cn", "url": f"http://127.0.0.1:{fs.closed_port()}/golang/"}]}, f)

    def install(self, mirrors, extra=(), timeout=120, fallback=False):
        args = [VERSION, "--index-url", self.site.index_url, "--allow-insecure-index", "--root", self.site.root,
                "--mirror", ",".join(mirrors), "--json", *extra]
        if not fallback:
            args.append("--no-fallback")
        r = h.run_goinstall(args, home=self.site.home, timeout=timeout)
        events = [json.loads(x) for x in r.stdout.splitlines() if x.startswith("{")]
        return r, events

    def assert_ok(self, r, events):
        self.assertEqual(r.returncode, 0, r.output)
        self.assertTrue(events[-1]["ok"], events[-1])
        self.assertEqual(events[-1]["sha256"], self.arc.sha256)
        blob = os.path.join(self.site.root, VERSION, "pkg", "blob.bin")
        self.assertEqual(os.path.getsize(blob), BLOB)
        self.assertEqual(os.listdir(os.path.join(self.site.root, ".downloads")), [])

    def attempts(self, events):
        return [e for e in events if e.get("event") == "attempt"]

    def test_each_mode_one_request_with_unreachable_fallbacks(self):
        # Item 10: the fallbacks never answer, so no segmentation: X serves the file in one request
        # (main made a range request, abandoned it and fetched the whole file again).
        for mode, mirror in self.mirrors.items():
            with self.subTest(mode=mode):
                shutil.rmtree(self.site.root, ignore_errors=True)
                self.use_unreachable_fallbacks()
                r, events = self.install([mirror.url], fallback=True)
                self.assert_ok(r, events)
                reqs = mirror.requests(self.arc.filename)
                self.assertEqual(len(reqs), 1, reqs)
                self.assertIn(reqs[0]["status"], (200, 206), reqs)
                self.assertEqual(events[-1]["mirror"], mirror.url)
                self.assertEqual(self.site.archive_requests(), [])
                mirror.clear_log()

    def test_dead_preferred_mirror_costs_the_head_start_in_segmented_mode(self):
        # Item 11: a SYN-dropping preferred mirror is raced (0.4 s head start), as in single-stream
        # mode, not waited for. With a 120 s connect timeout, a 40 s bound separates the two (3x)
        # and leaves a loaded machine room for the whole download, which a lost race's worker
        # outlives.
        mirror = self.mirrors["exact"]
        with fs.Blackhole() as bh:
            r, events = self.install([bh.url, mirror.url], ["--connect-timeout", "120"], timeout=300)
        self.assert_ok(r, events)
        self.assertEqual(events[-1]["mirror"], mirror.url)
        on_bh = [a for a in self.attempts(events) if a["mirror"] == bh.url]
        self.assertTrue(on_bh, events)
        for a in on_bh:
            self.assertNotEqual(a["curl_code"], 28, "the dead mirror's attempt ran into its connect timeout")
            self.assertLess(a["elapsed_ms"], 40_000, a)
        self.assertTrue(any(a.get("lost_race") for a in on_bh), on_bh)
        self.assertLess(r.duration, 40.0, "waited for the dead mirror's connect timeout")
        self.assertEqual(len(mirror.requests(self.arc.filename)), 1, mirror.requests())

    def test_range_answered_with_more_than_asked_keeps_the_mirror(self):
        # Item 12: a slow lead (a fault server sending 2 MB/s) streams from the start, so the plain
        # mirror surely joins, with bounded ranges it answers with the rest of the file. It stays in
        # segmented mode: its part is used, and no attempt is dropped for its Content-Range.
        more = self.mirrors["more"]
        with open(self.arc.path, "rb") as f:
            lead = fs.start_fault_server(self, {self.arc.filename: f.read()})
        lead.set_fault(fs.drip(bytes_per_second=2_000_000, max_seconds=60))
        # The lead must answer before the plain mirror is raced against it (else the plain mirror
        # may win the race and stream the whole file): 20 s, not 0.4 s, for a loaded machine.
        r, events = self.install([lead.url, more.url], ["--race-after", "20"])
        self.assert_ok(r, events)
        reqs = more.requests(self.arc.filename)
        self.assertTrue(reqs, reqs)
        for q in reqs:
            self.assertEqual(q["status"], 206, q)
            self.assertRegex(q["range"], r"^bytes=\d+-\d+$")   # bounded: it joined a running stream
            self.assertRegex(q["content_range"], r"^bytes \d+-%d/%d$" % (self.arc.size - 1, self.arc.size))
        seg = [a for a in self.attempts(events) if a.get("segmented") and a["mirror"] == more.url]
        self.assertEqual(len(seg), 1, events)
        self.assertNotIn("answered a range request", seg[0]["error"], seg[0])
        self.assertGreater(seg[0]["bytes"], 0, seg[0])
        self.assertIsNone(lead.requests()[0].range, lead.requests())  # the lead: the whole file asked

    def test_probe_more_than_asked_mirror_reports_a_rate(self):
        # Item 13: `mirrors --probe` against a healthy mirror that answers a range with more than
        # asked reports a non-zero rate and exits 0.
        more = self.mirrors["more"]
        r = h.run_goinstall(["mirrors", "--probe", "1.21.5", "--json", "--index-url", self.site.index_url,
                             "--allow-insecure-index", "--mirror", more.url, "--no-fallback"],
                            home=self.site.home, timeout=60)
        self.assertEqual(r.returncode, 0, r.output)
        rows = [json.loads(x) for x in r.stdout.splitlines() if x.startswith("{")]
        probed = [e for e in rows if e.get("event") == "info" and "ok" in e]
        self.assertEqual([e["mirror"] for e in probed], [more.url], rows)
        self.assertTrue(probed[0]["ok"], probed)
        self.assertGreater(probed[0]["bytes_per_second"], 0, probed)

    def test_doctor_on_healthy_plain_mirrors_is_ok(self):
        # Item 13, doctor's half: the throughput sample of a loopback mirror takes under a
        # millisecond, and against a mirror that answers more than asked it is cut at its size;
        # either way the mirror is fast, not "0 B/s" (exit 20, degraded).
        for mode in ("more", "exact", "nolength"):
            with self.subTest(mode=mode):
                m = self.mirrors[mode]
                r = h.run_goinstall(["doctor", "--json", "--index-url", self.site.index_url,
                                     "--allow-insecure-index", "--mirror", m.url, "--no-fallback",
                                     "--triage-timeout", "20"], home=self.site.home, timeout=90)
                self.assertEqual(r.returncode, 0, r.output)
                self.assertNotIn("0 B/s", r.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
