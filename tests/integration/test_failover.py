"""Mirror failover, retries, timeouts and resume against misbehaving mirrors on loopback.

The preferred mirror is a scripted FaultServer (or a closed port, or a blackhole); the fallback is a
real nginx. Each scenario must end in a verified install from the right mirror, and the server logs
show what crossed the wire."""
import json
import os
import signal
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
import fault_server as fs  # noqa: E402
import goinstall_harness as h  # noqa: E402
from release_site import Site  # noqa: E402

VERSION = "go1.21.3"


def big_archive(dest):
    """A fake toolchain with 2 MiB of incompressible data, so transfers take measurable bytes."""
    return h.fake_toolchain_archive(VERSION, dest, extra_files={"pkg/blob.bin": os.urandom(2 << 20)})


class Failover(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = h.tmpfs_dir("goinstall-failover-")
        cls.archive = big_archive(os.path.join(str(cls.tmp), "a"))
        with open(cls.archive.path, "rb") as f:
            cls.data = f.read()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def setUp(self):
        self.site = Site(self, [self.archive], tls=False)  # nginx: the healthy fallback mirror
        self.bad = fs.start_fault_server(self, {self.archive.filename: self.data})

    def install(self, mirrors, extra=(), timeout=120, json_out=True, race=False):
        """race=False: the next mirror is raced against one only after 30 s, not 0.4 s, so that a
        loaded machine's slow fault server is not beaten by nginx in tests that assert who served."""
        args = [VERSION, "--index-url", self.site.index_url, "--allow-insecure-index",
                "--root", self.site.root, "--mirror", ",".join(mirrors), "--no-fallback", *extra]
        if not race:
            args += ["--race-after", "30"]
        if json_out:
            args.append("--json")
        r = h.run_goinstall(args, home=self.site.home, timeout=timeout)
        events = [json.loads(line) for line in r.stdout.splitlines()] if json_out else []
        return r, events

    def assert_installed_from(self, r, events, mirror_url):
        self.assertEqual(r.returncode, 0, r.output)
        result = events[-1]
        self.assertEqual(result["event"], "result")
        self.assertTrue(result["ok"])
        self.assertEqual(result["mirror"], mirror_url)
        self.assertEqual(result["sha256"], self.archive.sha256)
        with open(os.path.join(self.site.root, VERSION, "pkg", "blob.bin"), "rb") as f:
            self.assertEqual(len(f.read()), 2 << 20)
        self.assertEqual(os.listdir(os.path.join(self.site.root, ".downloads")), [])

    def attempts(self, events):
        return [e for e in events if e["event"] == "attempt"]

    def test_404_fails_over_at_once_with_one_line(self):
        self.bad.set_fault(fs.status(404, body=b"not here"))
        r, ev = self.install([self.bad.url, self.site.mirror], json_out=False)
        self.assertEqual(r.returncode, 0, r.output)
        lines = [line for line in r.stderr.splitlines() if "does not have" in line]
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertIn("HTTP 404", lines[0])
        self.assertIn("trying " + self.site.mirror, lines[0])
        self.assertEqual(len(self.bad.requests()), 1)  # no retries on a 404
        self.assertEqual([e.status for e in self.site.archive_requests()], [200])

    def test_named_tuna_404_is_recognised(self):
        # The user catalogue points the real names at loopback: "tuna" answers 404 like the real one.
        cfg = os.path.join(self.site.home, ".config", "goinstall")
        os.makedirs(cfg, exist_ok=True)
        with open(os.path.join(cfg, "mirrors.json"), "w") as f:
            json.dump({"builtin": False, "mirrors": [
                {"name": "tuna", "url": self.bad.url, "status": "missing", "note": "does not host Go binaries"},
                {"name": "official", "url": self.site.mirror}]}, f)
        self.bad.set_fault(fs.status(404))
        r = h.run_goinstall([VERSION, "--mirror", "tuna", "--index-url", self.site.index_url,
                             "--allow-insecure-index", "--root", self.site.root], home=self.site.home)
        self.assertEqual(r.returncode, 0, r.output)
        self.assertIn("tuna: does not host Go binaries", r.stderr)
        self.assertRegex(r.stderr, r"tuna does not have .* \(HTTP 404\); trying official")
        self.assertIn("verified SHA-256", r.stderr)

    def test_index_fails_over_to_the_second_source_then_the_cache(self):
        # The catalogue's two index sources (go.dev, golang.google.cn) pointed at loopback over
        # https: the first is a closed port, the second a TLS fault server holding the index.
        d = os.path.join(self.site.dir, "tls")
        ca = h.make_ca(d)
        cert = h.make_cert(d, ca)
        second = fs.start_fault_server(self, {}, tls_cert=cert)
        with open(os.path.join(self.site.dir, "www", "dl", "index.json"), "rb") as f:
            second.put("dl/index.json", f.read())
        port = fs.closed_port()
        cfg = os.path.join(self.site.home, ".config", "goinstall")
        os.makedirs(cfg, exist_ok=True)
        with open(os.path.join(cfg, "mirrors.json"), "w") as f:
            json.dump({"builtin": False, "mirrors": [
                {"name": "official", "url": self.site.mirror, "index": f"https://127.0.0.1:{port}/dl/?mode=json"},
                {"name": "google-cn", "url": self.site.mirror, "index": second.url + "dl/?mode=json"}]}, f)
        args = ["ls-remote", "--cacert", cert.ca_cert]
        r = h.run_goinstall(args, home=self.site.home)
        self.assertEqual(r.returncode, 0, r.output)
        self.assertIn("trying " + second.url, r.stderr)
        self.assertEqual(r.stdout.split(), [VERSION])
        # Both sources down: the cached copy (keyed by the primary source) answers, with its age.
        second.stop()
        r = h.run_goinstall(args, home=self.site.home)
        self.assertEqual(r.returncode, 0, r.output)
        self.assertIn("using the cached release index from", r.stderr)
        self.assertEqual(r.stdout.split(), [VERSION])

    def test_connection_refused(self):
        port = fs.closed_port()
        r, ev = self.install([f"http://127.0.0.1:{port}/", self.site.mirror])
        self.assert_installed_from(r, ev, self.site.mirror)
        self.assertEqual(self.attempts(ev)[0]["decision"], "next-mirror")

    def test_blackholed_mirror_costs_a_head_start_not_a_timeout(self):
        with fs.Blackhole() as bh:
            r, ev = self.install([bh.url, self.site.mirror], extra=["--connect-timeout", "30"], race=True)
        self.assert_installed_from(r, ev, self.site.mirror)
        lost = [a for a in self.attempts(ev) if a["lost_race"]]
        self.assertEqual(len(lost), 1, ev)
        self.assertEqual(lost[0]["mirror"], bh.url, ev)
        self.assertNotEqual(lost[0]["curl_code"], 28, "the blackhole's attempt ran into its connect timeout")
        # goinstall's own clock: the dead mirror was given up when the fallback won, not after
        # the 30 s --connect-timeout (10 s bound: 3x margin).
        self.assertLess(lost[0]["elapsed_ms"], 10_000, lost[0])

    def test_silent_server_loses_the_race(self):
        self.bad.set_fault(fs.hang_after_accept(max_seconds=60))
        r, ev = self.install([self.bad.url, self.site.mirror], extra=["--stall-timeout", "30"], race=True)
        self.assert_installed_from(r, ev, self.site.mirror)
        lost = [a for a in self.attempts(ev) if a["lost_race"]]
        self.assertEqual([a["mirror"] for a in lost], [self.bad.url], ev)
        # Given up when the fallback won, not after the 30 s stall timeout (10 s bound: 3x margin).
        self.assertLess(lost[0]["elapsed_ms"], 10_000, lost[0])

    def test_503_with_retry_after_is_retried_on_the_same_mirror(self):
        self.bad.set_fault(fs.status(503, headers={"Retry-After": "1"}, times=1))
        r, ev = self.install([self.bad.url, self.site.mirror])
        self.assert_installed_from(r, ev, self.bad.url)
        retries = [e for e in ev if e["event"] == "retry"]
        self.assertEqual([e.get("delay_ms") for e in retries], [1000], retries)  # Retry-After honoured
        self.assertEqual([q.status for q in self.bad.requests()], [503, 200])
        self.assertEqual(self.site.archive_requests(), [])

    def test_truncated_body_resumes_where_it_stopped(self):
        self.bad.set_fault(fs.truncate(at_fraction=0.4, times=1))
        r, ev = self.install([self.bad.url, self.site.mirror])
        self.assert_installed_from(r, ev, self.bad.url)
        reqs = self.bad.requests()
        self.assertEqual(len(reqs), 2)
        cut = reqs[0].body_bytes_sent
        self.assertAlmostEqual(cut, 0.4 * len(self.data), delta=64 * 1024)
        self.assertEqual(reqs[1].range_start, cut)
        self.assertEqual(reqs[1].if_range, self.bad.etag(self.archive.filename))
        self.assertEqual(reqs[1].status, 206)
        self.assertLessEqual(reqs[1].body_bytes_sent, len(self.data) - cut + 1024)

    def test_server_ignoring_range_restarts_from_zero(self):
        self.bad.set_fault([fs.truncate(at_fraction=0.5, times=1), fs.ignore_range(times=1)])
        r, ev = self.install([self.bad.url, self.site.mirror])
        self.assert_installed_from(r, ev, self.bad.url)
        reqs = self.bad.requests()
        self.assertEqual([q.status for q in reqs], [200, 200])
        self.assertIsNotNone(reqs[1].range_start)

    def test_changed_etag_means_a_fresh_copy(self):
        self.bad.set_fault([fs.truncate(at_fraction=0.5, times=1), fs.changing_etag()])
        r, ev = self.install([self.bad.url, self.site.mirror])
        self.assert_installed_from(r, ev, self.bad.url)
        reqs = self.bad.requests()
        self.assertEqual(reqs[1].status, 200)  # If-Range did not match: whole body

    def test_wrong_content_range_is_refused(self):
        self.bad.set_fault([fs.truncate(at_fraction=0.5, times=1), fs.wrong_content_range(times=1)])
        r, ev = self.install([self.bad.url, self.site.mirror])
        self.assert_installed_from(r, ev, self.bad.url)
        statuses = [q.status for q in self.bad.requests()]
        self.assertEqual(statuses[:2], [200, 206])
        self.assertEqual(self.bad.requests()[-1].range_start, None)  # started over from zero

    def test_corrupted_bytes_fail_over_and_name_the_bad_mirror(self):
        self.bad.set_fault(fs.corrupt())
        r, ev = self.install([self.bad.url, self.site.mirror], json_out=False)
        self.assertEqual(r.returncode, 0, r.output)
        self.assertIn(self.bad.url + " served bytes that do not match the official checksum", r.stderr)
        self.assertEqual(len(self.bad.requests()), 1)
        self.assertEqual([e.status for e in self.site.archive_requests()], [200])

    def test_drip_is_left_early(self):
        self.bad.set_fault(fs.drip(bytes_per_second=10, max_seconds=60))
        r, ev = self.install([self.bad.url, self.site.mirror], extra=["--stall-timeout", "2", "--max-retries", "1"])
        self.assert_installed_from(r, ev, self.site.mirror)
        first = self.attempts(ev)[0]
        # Whichever rule comes first: the scout, 1 s in, shows the other mirror far faster (a
        # hand-over), or the 2 s stall timeout cuts the drip (a loaded machine may delay the scout).
        self.assertRegex(first["error"], r"stalled|is slow \(.*handing the rest over", first)
        if "is slow" in first["error"]:
            self.assertTrue(any(e.get("handover") for e in ev if e.get("event") == "failover"), ev)
        # Cut by the 2 s stall timeout, not by the drip ending (60 s): 20 s bound, 3x margin.
        self.assertLess(first["elapsed_ms"], 20_000, first)

    def test_all_mirrors_dead(self):
        self.bad.set_fault(fs.status(500))
        port = fs.closed_port()
        r, ev = self.install([self.bad.url, f"http://127.0.0.1:{port}/"], extra=["--max-retries", "2"])
        self.assertEqual(r.returncode, 4, r.output)
        result = ev[-1]
        self.assertFalse(result["ok"])
        self.assertEqual(result["error"]["net"]["http_status"], 500)  # the most informative failure
        att = self.attempts(ev)
        self.assertEqual([a["mirror"] for a in att], [self.bad.url, self.bad.url, f"http://127.0.0.1:{port}/"])
        self.assertFalse(os.path.exists(os.path.join(self.site.root, VERSION)))

    def test_killed_at_60_percent_resumes_on_rerun(self):
        self.bad.set_fault(fs.drip(bytes_per_second=1 << 20, max_seconds=60, times=1))
        args = [VERSION, "--index-url", self.site.index_url, "--allow-insecure-index", "--root", self.site.root,
                "--mirror", self.bad.url, "--no-fallback"]
        part = os.path.join(self.site.root, ".downloads", self.archive.filename + ".part")
        proc, _ = h.popen_goinstall(args, home=self.site.home)
        try:
            # On what goinstall wrote, not what the server sent: bytes still in the socket
            # buffers of a descheduled goinstall are lost with the kill.
            self.assertTrue(h.wait_until(lambda: os.path.exists(part) and os.path.getsize(part) >= 0.6 * len(self.data),
                                         timeout=30), "the .part never reached 60 %")
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        finally:
            h.kill_process_group(proc)
        sent_first = self.bad.wait_for_requests(1)[0].body_bytes_sent
        self.assertGreater(sent_first, 0.5 * len(self.data))
        self.assertFalse(os.path.exists(os.path.join(self.site.root, VERSION)))
        r = h.run_goinstall(args, home=self.site.home)
        self.assertEqual(r.returncode, 0, r.output)
        second = self.bad.requests()[1]
        part_kept = second.range_start or 0
        self.assertGreater(part_kept, 0.4 * len(self.data))
        self.assertEqual(second.status, 206)
        self.assertLessEqual(second.body_bytes_sent, len(self.data) - part_kept)


if __name__ == "__main__":
    unittest.main(verbosity=2)
