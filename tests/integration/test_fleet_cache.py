"""A fleet behind a caching nginx: 16 machines (separate roots and homes) install the same version at
once through packaging/examples/nginx-cache.conf, and the upstream serves the archive exactly once.
Also: a cold-cache Range request (a resuming client) makes nginx fetch the whole file once, not a
range, and later requests are served from the cache."""
import json
import os
import ssl
import sys
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
import goinstall_harness as h  # noqa: E402
from cache_proxy import CacheProxy  # noqa: E402
from release_site import Site  # noqa: E402

VERSION = "go1.21.3"
MACHINES = 16


class FleetCache(unittest.TestCase):
    def setUp(self):
        d = h.tmpfs_path(self, "goinstall-fleet-")
        # 1 MiB of noise, sent at 768 KiB/s by the upstream: the fill takes >1 s, so the machines'
        # requests arrive while it is in flight and must wait on proxy_cache_lock.
        self.archive = h.fake_toolchain_archive(VERSION, d, extra_files={"pkg/blob.bin": os.urandom(1 << 20)})
        self.site = Site(self, [self.archive])
        self.site.nginx.locations = [r"location ~ \.tar\.gz$ { limit_rate 768k; }"]
        self.site.nginx.restart()
        self.proxy = CacheProxy(self.site.nginx.url)
        self.proxy.start()
        self.addCleanup(self.proxy.close)

    def upstream(self, suffix):
        return [e for e in self.site.nginx.access_log_lines() if e.path.endswith(suffix)]

    def test_sixteen_machines_one_upstream_download(self):
        procs = []
        try:
            for i in range(MACHINES):
                root = h.tmpfs_path(self, f"goinstall-fleet-root{i}-")
                p, _home = h.popen_goinstall([VERSION, "--json", "--root", root, "--index-url", self.proxy.index_url,
                                              "--mirror", self.proxy.mirror, "--no-fallback", "--cacert",
                                              self.proxy.ca_cert], stdout=-1, stderr=-1, text=True)
                procs.append((p, root))
            results = []
            for p, root in procs:
                out, err = p.communicate(timeout=120)
                results.append((p.returncode, out, err, root))
        finally:
            for p, _root in procs:
                h.kill_process_group(p)
        for code, out, err, root in results:
            self.assertEqual(code, 0, out + err)
            res = json.loads(out.strip().splitlines()[-1])
            self.assertEqual((res["ok"], res["version"], res["sha256"]), (True, VERSION, self.archive.sha256))
            with open(os.path.join(root, VERSION, "VERSION")) as f:
                self.assertEqual(f.read().split()[0], VERSION)
        self.site.nginx.wait_for_log(2)
        gets = [e for e in self.upstream(self.archive.filename) if e.method == "GET"]
        self.assertEqual(len(gets), 1, [e.raw for e in gets])
        self.assertEqual((gets[0].status, gets[0].bytes, gets[0].range), (200, self.archive.size, None))
        self.assertEqual(len(self.upstream("/dl/")), 1)  # the index too, while it is fresh (1 min)
        served = [e for e in self.proxy.wait_for_log(2 * MACHINES) if e.path.endswith(".tar.gz")]
        self.assertEqual(len(served), MACHINES)
        self.assertTrue(all(e.status == 200 and e.bytes == self.archive.size for e in served))
        # They overlapped the fill (waiting on proxy_cache_lock), not just hit a finished cache: here
        # all 16 take ~1.0 s, as long as the upstream fill.
        waited = [e.request_time for e in served if e.request_time >= 0.5]
        self.assertGreaterEqual(len(waited), 2, sorted(e.request_time for e in served))

    def test_range_request_on_a_cold_cache_fetches_the_whole_file_once(self):
        ctx = ssl.create_default_context(cafile=self.proxy.ca_cert)
        url = self.proxy.mirror + self.archive.filename
        with open(self.archive.path, "rb") as f:
            data = f.read()
        req = urllib.request.Request(url, headers={"Range": "bytes=1000-"})
        with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
            self.assertEqual(r.status, 206)
            self.assertEqual(r.read(), data[1000:])
            self.assertEqual(r.headers["X-Cache-Status"], "MISS")
        with urllib.request.urlopen(url, context=ctx, timeout=30) as r:
            self.assertEqual(r.read(), data)
            self.assertEqual(r.headers["X-Cache-Status"], "HIT")
        time.sleep(0.1)
        gets = self.upstream(self.archive.filename)
        self.assertEqual([(e.status, e.range, e.bytes) for e in gets], [(200, None, self.archive.size)])


if __name__ == "__main__":
    unittest.main(verbosity=2)
