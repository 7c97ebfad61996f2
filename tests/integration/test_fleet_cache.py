"""A fleet behind a caching nginx: 16 machines (separate roots and homes) install the same version at
once through packaging/examples/nginx-cache.conf, and the upstream serves the archive exactly once.
Also: a cold-cache Range request (a resuming client) makes nginx fetch the whole file once, not a
range, and later requests are served from the cache.

The upstream is the harness's FaultServer, whose gate() holds the cache fill until every machine
has started its download: the machines overlap the fill by construction (proxy_cache_lock is
exercised), not by a rate limit racing process start-up."""
import os
import ssl
import sys
import unittest
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
import goinstall_harness as h  # noqa: E402
import fault_server as fsrv  # noqa: E402
import reliability as rel  # noqa: E402
from cache_proxy import CacheProxy  # noqa: E402

VERSION = "go1.21.3"
MACHINES = 16


class FleetCache(unittest.TestCase):
    def setUp(self):
        d = h.tmpfs_path(self, "goinstall-fleet-")
        self.archive = h.fake_toolchain_archive(VERSION, d, extra_files={"pkg/blob.bin": os.urandom(1 << 20)})
        with open(self.archive.path, "rb") as f:
            self.data = f.read()
        self.upstream_srv = fsrv.start_fault_server(self, {"dl/index.json": h.make_index([self.archive]).encode(),
                                                           self.archive.filename: self.data})
        self.proxy = CacheProxy(self.upstream_srv.url)
        self.proxy.start()
        self.addCleanup(self.proxy.close)

    def upstream(self, suffix):
        return [q for q in self.upstream_srv.requests() if q.path.endswith(suffix)]

    def test_sixteen_machines_one_upstream_download(self):
        fill = fsrv.gate()  # the cache fill waits until every machine has asked for the archive
        self.upstream_srv.set_fault(fill, path=self.archive.filename)
        runs = []
        for i in range(MACHINES):
            home = h.tmpfs_path(self, f"goinstall-fleet-home{i}-")
            root = os.path.join(home, "root")
            run = rel.JsonRun([VERSION, "--json", "--root", root, "--index-url", self.proxy.index_url,
                               "--mirror", self.proxy.mirror, "--no-fallback", "--cacert", self.proxy.ca_cert],
                              home)
            self.addCleanup(h.kill_process_group, run.proc, 1)
            runs.append((run, root))
        for run, _root in runs:
            ev = run.wait_for(lambda e: e.get("event") in ("download_start", "result"), timeout=60)
            self.assertEqual((ev or {}).get("event"), "download_start", run.events)
        self.assertTrue(fill.wait_held(1, timeout=30), "the proxy never asked the upstream for the archive")
        # Every machine is downloading while the one fill is still held: they wait on the cache lock.
        self.assertEqual(len([q for q in self.upstream(self.archive.filename) if q.method == "GET"]), 1)
        fill.release()
        for run, root in runs:
            rc, err = run.finish(timeout=120)
            self.assertEqual(rc, 0, (err, run.events[-3:]))
            res = run.events[-1]
            self.assertEqual((res["event"], res["ok"], res["version"], res["sha256"]),
                             ("result", True, VERSION, self.archive.sha256))
            with open(os.path.join(root, VERSION, "VERSION")) as f:
                self.assertEqual(f.read().split()[0], VERSION)
        gets = [q for q in self.upstream_srv.wait_for_requests(2) if q.path.endswith(self.archive.filename)
                and q.method == "GET"]
        self.assertEqual(len(gets), 1, [(q.status, q.range) for q in gets])
        self.assertEqual((gets[0].status, gets[0].body_bytes_sent, gets[0].range),
                         (200, self.archive.size, None))
        self.assertEqual(len(self.upstream("/dl/")), 1)  # the index too, while it is fresh (1 min)
        served = [e for e in self.proxy.wait_for_log(2 * MACHINES) if e.path.endswith(".tar.gz")]
        self.assertEqual(len(served), MACHINES)
        self.assertTrue(all(e.status == 200 and e.bytes == self.archive.size for e in served))

    def test_range_request_on_a_cold_cache_fetches_the_whole_file_once(self):
        ctx = ssl.create_default_context(cafile=self.proxy.ca_cert)
        url = self.proxy.mirror + self.archive.filename
        req = urllib.request.Request(url, headers={"Range": "bytes=1000-"})
        with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
            self.assertEqual(r.status, 206)
            self.assertEqual(r.read(), self.data[1000:])
            self.assertEqual(r.headers["X-Cache-Status"], "MISS")
        with urllib.request.urlopen(url, context=ctx, timeout=30) as r:
            self.assertEqual(r.read(), self.data)
            self.assertEqual(r.headers["X-Cache-Status"], "HIT")
        gets = self.upstream_srv.wait_for_requests(1)   # bounded: until the fill's record is complete
        self.assertEqual([(q.path, q.status, q.range, q.body_bytes_sent) for q in gets],
                         [("/" + self.archive.filename, 200, None, self.archive.size)])


if __name__ == "__main__":
    unittest.main(verbosity=2)
