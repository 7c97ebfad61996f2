"""`goinstall mirrors --probe` ranks mirrors by what they really deliver, and `--mirror auto` installs
from the fastest; all mirrors are loopback servers with scripted speeds and faults."""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
import fault_server as fs  # noqa: E402
import goinstall_harness as h  # noqa: E402
from release_site import Site  # noqa: E402

VERSION = "go1.21.3"


class Probe(unittest.TestCase):
    def setUp(self):
        d = h.tmpfs_path(self, "goinstall-probe-")
        self.archive = h.fake_toolchain_archive(VERSION, d, extra_files={"pkg/blob.bin": os.urandom(1 << 20)})
        with open(self.archive.path, "rb") as f:
            data = f.read()
        self.site = Site(self, [self.archive])                      # nginx: fast
        self.slow = fs.start_fault_server(self, {self.archive.filename: data})
        self.slow.set_fault(fs.drip(bytes_per_second=128 * 1024, max_seconds=30))
        self.missing = fs.start_fault_server(self, {})               # 404 for everything
        self.mirrors = ",".join([self.slow.url, self.missing.url, self.site.mirror])

    def run_gi(self, args):
        return h.run_goinstall([*args, "--index-url", self.site.index_url, "--allow-insecure-index",
                                "--root", self.site.root, "--mirror", self.mirrors, "--no-fallback"],
                               home=self.site.home, timeout=60)

    def test_probe_ranks_fast_slow_missing(self):
        r = self.run_gi(["mirrors", "--probe", "1.21.3", "--json"])
        self.assertEqual(r.returncode, 0, r.output)
        rows = [json.loads(line) for line in r.stdout.splitlines()]
        ranked = [e["mirror"] for e in rows if e["event"] == "info" and "ok" in e]
        self.assertEqual(ranked, [self.site.mirror, self.slow.url, self.missing.url])
        by_name = {e["mirror"]: e for e in rows if e["event"] == "info" and "ok" in e}
        self.assertFalse(by_name[self.missing.url]["ok"])
        self.assertEqual(by_name[self.missing.url]["http_status"], 404)
        self.assertGreater(by_name[self.site.mirror]["bytes_per_second"], 4 * by_name[self.slow.url]["bytes_per_second"])
        self.assertEqual(rows[-1]["best"], self.site.mirror)

    def test_mirror_auto_installs_from_the_fastest(self):
        self.mirrors = "auto," + self.mirrors
        r = self.run_gi([VERSION, "--json"])
        self.assertEqual(r.returncode, 0, r.output)
        result = json.loads(r.stdout.splitlines()[-1])
        self.assertEqual(result["mirror"], self.site.mirror)
        # The slow mirror got only its probe request, not the download.
        self.assertEqual(len(self.slow.requests()), 1)

    def test_mirror_auto_ranks_for_download_and_mirror_sync(self):
        # Every verb that downloads from mirrors ranks them for `auto`, not only install.
        self.mirrors = "auto," + self.mirrors
        out = h.tmpfs_path(self, "goinstall-probe-dl-")
        r = self.run_gi(["download", VERSION, "-o", out, "--json"])
        self.assertEqual(r.returncode, 0, r.output)
        rows = [json.loads(line) for line in r.stdout.splitlines()]
        self.assertTrue(any(e["event"] == "info" and "order" in e for e in rows), r.stdout)
        with open(os.path.join(out, self.archive.filename + ".manifest.json")) as f:
            self.assertEqual(json.load(f)["mirror_url"], self.site.mirror)
        self.assertEqual(len(self.slow.requests()), 1)  # its probe only

        mirror_dir = h.tmpfs_path(self, "goinstall-probe-sync-")
        r = self.run_gi(["mirror", "sync", mirror_dir, "--versions", VERSION, "--json"])
        self.assertEqual(r.returncode, 0, r.output)
        rows = [json.loads(line) for line in r.stdout.splitlines()]
        order = [e["order"] for e in rows if e["event"] == "info" and "order" in e]
        self.assertEqual(len(order), 1, r.stdout)
        self.assertTrue(order[0].startswith(self.site.mirror + " "), order)  # the fastest first
        self.assertEqual(len(self.slow.requests()), 2)  # one probe per verb, no download
        self.assertEqual(h.sha256_file(os.path.join(mirror_dir, self.archive.filename)), self.archive.sha256)


if __name__ == "__main__":
    unittest.main(verbosity=2)
