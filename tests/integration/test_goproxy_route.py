"""goinstall's toolchain-module route end to end, against the goproxy_site harness (nginx serving a
Go module proxy and a checksum database of our own, the same site Debian's go command accepts in
test_goproxy_site.py): install through the proxy alone, fall back to it when every index source
fails, reach the database through the proxy, and refuse a tampered zip, a lying lookup, a forked
tree (SECURITY ERROR, exit 12) and GOSUMDB=off without a digest — never touching a working
toolchain. Loopback only: the index and mirrors point at closed ports on 127.0.0.1."""
import json
import os
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
import goinstall_harness as h  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
from test_output import schema_problem  # noqa: E402  (docs/json-schema.json, as test_output checks it)

try:
    import goproxy_site as gps  # noqa: E402
    import toolchain_module_cache as tmc  # noqa: E402
except ImportError:  # python3-cryptography missing (scripts/deps.sh --test installs it)
    gps = None

V1, V2, V3 = "go1.21.3", "go1.21.4", "go1.22rc1"
DEAD_INDEX = "http://127.0.0.1:1/dl/?mode=json"   # a closed port: the index route fails at once


@unittest.skipIf(gps is None, "needs python3-cryptography")
class GoproxyRouteTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = h.tmpfs_dir("goinstall-goproxy-route-")
        cls.mods = {}
        for v in (V1, V2, V3):
            arc = h.fake_toolchain_archive(v, os.path.join(cls.tmp.name, v))
            cls.mods[v] = gps.make_toolchain_zip(arc)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def setUp(self):
        self.home = h.tmpfs_path(self, "goinstall-goproxy-home-")
        self.root = os.path.join(self.home, "root")

    def site(self, versions=(V1, V2, V3), **kw):
        s = gps.GoproxySite([self.mods[v] for v in versions], **kw)
        s.start()
        self.addCleanup(s.close)
        return s

    def run_gi(self, site, *args, via="goproxy", gosumdb=None, env=None, timeout=120):
        cmd = ["--json", "--root", self.root, "--cacert", site.ca_cert, "--index-url", DEAD_INDEX,
               "--allow-insecure-index", "--mirror", "http://127.0.0.1:1/m/", "--no-fallback",
               "--connect-timeout", "5", "--no-triage"]
        if via:
            cmd += ["--via", via]
        extra = {"GOPROXY": site.proxy_url, "GOSUMDB": gosumdb if gosumdb is not None else site.gosumdb}
        extra.update(env or {})
        r = h.run_goinstall([*args, *cmd], env_extra=extra, home=self.home, timeout=timeout)
        events = [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]
        for e in events:
            self.assertIsNone(schema_problem(e), e)
        return r, events

    def installed(self, version):
        return os.path.isfile(os.path.join(self.root, version, "VERSION"))

    def current(self):
        link = os.path.join(self.root, "current")
        return os.path.basename(os.readlink(link)) if os.path.islink(link) else None

    def test_installs_from_the_proxy_verified_by_the_database(self):
        site = self.site()
        r, events = self.run_gi(site, "install", "1.21.3")
        self.assertEqual(r.returncode, 0, r.output)
        result = events[-1]
        self.assertEqual((result["event"], result["ok"], result["version"]), ("result", True, V1), result)
        inst = [e for e in events if e["event"] == "installed"][-1]
        self.assertEqual(inst["route"], "goproxy", inst)
        self.assertIn("sum.goinstall.test", inst["authority"])
        self.assertTrue(inst["server"].startswith(site.proxy_url), inst)
        # A tree that works: VERSION, an executable go that answers, modes from the module's rules.
        go = os.path.join(self.root, V1, "bin", "go")
        self.assertTrue(os.access(go, os.X_OK))
        self.assertEqual(self.current(), V1)
        # The database was asked (lookup, tiles) and the zip fetched once; the verified head is kept.
        self.assertTrue(site.requests("/lookup/golang.org/toolchain@" + self.mods[V1].version))
        self.assertTrue(site.requests("/tile/8/"))
        self.assertEqual(len(site.requests(self.mods[V1].version + ".zip")), 1)
        # Run again: already installed, nothing fetched.
        site.clear_access_log()
        r, events = self.run_gi(site, "install", "1.21.3")
        self.assertEqual(r.returncode, 0, r.output)
        self.assertTrue(events[-1].get("already_installed"), events[-1])
        self.assertEqual(site.access_log(), [])

    def test_latest_and_a_line_resolve_from_the_proxy_list_in_go_version_order(self):
        site = self.site()
        r, events = self.run_gi(site, "install", "latest")
        self.assertEqual(r.returncode, 0, r.output)
        self.assertEqual(events[-1]["version"], V2)    # go1.22rc1 is a pre-release: not "latest"
        self.assertTrue(site.requests("/@v/list"))
        r, events = self.run_gi(site, "install", "1.22rc1")
        self.assertEqual(r.returncode, 0, r.output)
        self.assertEqual(events[-1]["version"], V3)
        # ls-remote with no index reachable lists the proxy's versions.
        r, events = self.run_gi(site, "ls-remote", "--all", via=None)
        self.assertEqual(r.returncode, 0, r.output)
        self.assertIn(V1, r.stdout)
        self.assertIn(V3, r.stdout)

    def test_falls_back_to_the_proxy_when_every_index_source_fails(self):
        site = self.site()
        r, events = self.run_gi(site, "install", "1.21.4", via=None)   # default: auto
        self.assertEqual(r.returncode, 0, r.output)
        self.assertEqual(events[-1]["version"], V2)
        inst = [e for e in events if e["event"] == "installed"][-1]
        self.assertEqual(inst["route"], "goproxy")
        # It said why it switched routes.
        self.assertTrue(any(e["event"] == "route" and "module proxy" in e.get("message", "") for e in events),
                        [e for e in events if e["event"] != "progress"])
        # --via index never asks the proxy.
        site.clear_access_log()
        r, _ = self.run_gi(site, "install", "1.21.3", via="index")
        self.assertEqual(r.returncode, 4, r.output)
        self.assertEqual(site.access_log(), [])

    def test_doctor_names_the_route_that_works_when_the_index_is_blocked(self):
        site = self.site()
        site.check_supported()
        site.clear_access_log()  # the requests asserted below are goinstall's, not this check's
        r = h.run_goinstall(["doctor", "--json", "--cacert", site.ca_cert, "--index-url", DEAD_INDEX,
                             "--allow-insecure-index", "--mirror", "http://127.0.0.1:1/m/", "--no-fallback",
                             "--connect-timeout", "5", "--triage-timeout", "20"],
                            env_extra={"GOPROXY": site.proxy_url, "GOSUMDB": site.vkey}, home=self.home, timeout=120)
        # Degraded, not failed: the index is down, but installs work through the module proxy.
        self.assertEqual(r.returncode, 20, r.output)
        events = [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]
        report = [e for e in events if "verdict" in e and isinstance(e["verdict"], dict)]
        self.assertTrue(report, r.output)
        verdict = report[-1]["verdict"]
        self.assertEqual(report[-1]["health"], "degraded", verdict)
        self.assertIn("Installs work through the module proxy: GOPROXY " + site.proxy_url, verdict["title"])
        self.assertIn("checked by the checksum database " + site.proxy_url, verdict["title"])
        # It asked the proxy for the toolchain list and for the database it serves.
        self.assertTrue(site.requests("/proxy/golang.org/toolchain/@v/list"))
        self.assertTrue(site.requests("/proxy/sumdb/sum.goinstall.test/supported"))
        # --via index: the module route is not checked, and the index alone decides: failed.
        site.clear_access_log()
        r = h.run_goinstall(["doctor", "--json", "--index-url", DEAD_INDEX, "--allow-insecure-index",
                             "--mirror", "http://127.0.0.1:1/m/", "--no-fallback", "--via", "index"],
                            env_extra={"GOPROXY": site.proxy_url, "GOSUMDB": site.vkey}, home=self.home, timeout=120)
        self.assertEqual(r.returncode, 21, r.output)
        self.assertEqual(site.access_log(), [])

    def test_proxy_list_semantics_and_broken_answers(self):
        """GOPROXY's separators against a real server's answers (nginx): ',' goes on after a 404
        only, '|' after any error; an empty 200 and an HTML page instead of a zip are refused with
        a clear message (Go's CVE class: an empty success answer accepted) and nothing installed."""
        site = self.site()
        bad = h.Nginx(locations=[
            "location /e404/ { return 404; }",
            "location /e500/ { return 500; }",
            'location /empty/ { return 200 ""; }',
            'location /html/ { default_type text/html; return 200 "<html><body>Sign in to continue</body></html>"; }',
        ])
        bad.start()
        self.addCleanup(bad.stop)
        zip_path = "/" + self.mods[V1].version + ".zip"

        def install(goproxy):
            site.clear_access_log()
            r, events = self.run_gi(site, "install", "1.21.3", env={"GOPROXY": goproxy})
            return r, events, site.requests(zip_path)

        r, _, zips = install(f"{bad.url}e404,{site.proxy_url}")
        self.assertEqual(r.returncode, 0, r.output)
        self.assertTrue(zips)
        shutil.rmtree(self.root)
        r, events, zips = install(f"{bad.url}e500,{site.proxy_url}")   # ',' stops at a 500
        self.assertNotEqual(r.returncode, 0, r.output)
        self.assertEqual(zips, [])
        self.assertIn("500", events[-1]["error"]["message"])
        r, _, zips = install(f"{bad.url}e500|{site.proxy_url}")        # '|' goes on
        self.assertEqual(r.returncode, 0, r.output)
        self.assertTrue(zips)
        shutil.rmtree(self.root)
        for kind in ("empty", "html"):
            with self.subTest(kind=kind):
                r, events, zips = install(f"{bad.url}{kind}")
                self.assertNotEqual(r.returncode, 0, r.output)
                self.assertFalse(self.installed(V1))
                msg = events[-1]["error"]["message"]
                self.assertEqual(len(msg.splitlines()), 1, msg)
                self.assertIn({"empty": "it is empty", "html": "HTML"}[kind], msg)
                # Even after '|': cmd/go checks the zip after the proxy list served it
                # (cmd/go/internal/modfetch/fetch.go, downloadZip: TryProxies around repo.Zip only),
                # so a proxy serving garbage is an error, not a reason to ask the next one.
                r, _, zips = install(f"{bad.url}{kind}|{site.proxy_url}")
                self.assertEqual(r.returncode, 8, r.output)
                self.assertEqual(zips, [])
                self.assertFalse(self.installed(V1))

    def test_missing_tile_is_refused(self):
        site = self.site()
        tiles = os.path.join(site.docroot, "sumdb", site.name, "tile")
        removed = []
        for d, _, names in os.walk(tiles):
            for n in names:
                if "/data" not in d:      # the hash tiles: the inclusion proof needs them
                    os.unlink(os.path.join(d, n))
                    removed.append(n)
        self.assertTrue(removed)
        r, events = self.run_gi(site, "install", "1.21.3")
        self.assertNotEqual(r.returncode, 0, r.output)
        self.assertEqual(events[-1]["error"]["code"], "checksum", events[-1])
        self.assertIn("does not serve tile/", events[-1]["error"]["message"])
        self.assertFalse(self.installed(V1))
        self.assertEqual(site.requests(self.mods[V1].version + ".zip"), [])

    def test_database_signed_by_another_key_is_refused(self):
        site = self.site()
        other = gps.NoteKey(site.name)   # the same name, another key: what an impostor has
        r, events = self.run_gi(site, "install", "1.21.3", gosumdb=f"{other.vkey} {site.sumdb_url}")
        self.assertNotEqual(r.returncode, 0, r.output)
        self.assertIn(events[-1]["error"]["code"], ("checksum", "security"), events[-1])
        self.assertIn("sign", events[-1]["error"]["message"])
        self.assertFalse(self.installed(V1))
        self.assertEqual(site.requests(self.mods[V1].version + ".zip"), [])

    def test_database_through_the_proxy(self):
        site = self.site()
        site.check_supported()
        site.clear_access_log()  # the requests asserted below are goinstall's, not this check's
        r, _ = self.run_gi(site, "install", "1.21.3", gosumdb=site.vkey)   # key only: ask the proxy
        self.assertEqual(r.returncode, 0, r.output)
        self.assertTrue(site.requests("/proxy/sumdb/sum.goinstall.test/supported"))
        self.assertTrue(site.requests("/proxy/sumdb/sum.goinstall.test/lookup/"))
        self.assertFalse([e for e in site.access_log() if e.path.startswith("/sumdb/")])

    def test_tampered_zip_and_lying_lookup_are_refused_and_the_working_toolchain_stays(self):
        site = self.site()
        r, _ = self.run_gi(site, "install", "1.21.3")
        self.assertEqual(r.returncode, 0, r.output)
        site.tamper_zip(self.mods[V2].version, "content")
        r, events = self.run_gi(site, "install", "1.21.4")
        self.assertEqual(r.returncode, 7, r.output)
        self.assertIn("h1:", events[-1]["error"]["message"])
        self.assertFalse(self.installed(V2))
        self.assertEqual(self.current(), V1)
        # A lookup answer whose record is not the logged leaf. (Not for 1.21.4: its verified lookup
        # is cached now, as the go command caches it, and would be used without asking.)
        site.restore()
        site.lie_lookup(self.mods[V3].version)
        site.clear_access_log()
        r, events = self.run_gi(site, "install", "1.22rc1")
        self.assertEqual(r.returncode, 7, r.output)
        self.assertEqual(events[-1]["error"]["code"], "checksum", events[-1])
        self.assertFalse(self.installed(V3))
        self.assertEqual(self.current(), V1)
        # The lookup failed to authenticate before any zip byte was asked for.
        self.assertTrue(site.requests("/lookup/golang.org/toolchain@" + self.mods[V3].version))
        self.assertEqual(site.requests(self.mods[V3].version + ".zip"), [])

    def test_forked_tree_is_a_security_error(self):
        site = self.site()
        r, _ = self.run_gi(site, "install", "1.21.3")    # the cache now holds the honest head
        self.assertEqual(r.returncode, 0, r.output)
        site.fork()
        r, events = self.run_gi(site, "install", "1.21.4")
        self.assertEqual(r.returncode, 12, r.output)
        err = events[-1]["error"]
        self.assertEqual(err["code"], "security")
        self.assertIn("SECURITY ERROR", err["message"])
        self.assertFalse(self.installed(V2))
        self.assertEqual(self.current(), V1)
        # Text mode says it loudly too, on one error line, with the proof.
        r2 = h.run_goinstall(["install", "1.21.4", "--root", self.root, "--cacert", site.ca_cert, "--via", "goproxy",
                              "--no-triage"], env_extra={"GOPROXY": site.proxy_url, "GOSUMDB": site.gosumdb},
                             home=self.home, timeout=120)
        self.assertEqual(r2.returncode, 12, r2.output)
        self.assertIn("SECURITY ERROR", r2.stderr)

    def test_gosumdb_off_needs_a_digest(self):
        site = self.site()
        r, events = self.run_gi(site, "install", "1.21.3", gosumdb="off")
        self.assertEqual(r.returncode, 7, r.output)
        self.assertEqual(events[-1]["error"]["code"], "no_checksum")
        self.assertIn("GOSUMDB=off", events[-1]["error"]["message"])
        self.assertFalse(self.installed(V1))
        self.assertFalse(site.requests(".zip"))      # refused before any byte was fetched
        r, events = self.run_gi(site, "install", "1.21.3", "--sha256", self.mods[V1].h1, gosumdb="off")
        self.assertEqual(r.returncode, 0, r.output)
        self.assertTrue(self.installed(V1))
        self.assertFalse(site.requests("/lookup/"))

    def test_real_toolchain_from_its_module_zip_builds_a_program(self):
        # Debian's Go 1.19 in distpack's module layout (no api/doc/misc/test, _go.mod, no modes in
        # the zip): the installed tree must get its modes back, report its version and build.
        archive = h.toolchain_archive()
        mod = tmc.cached_toolchain_zip(archive, compresslevel=1)   # built once, then cached
        site = gps.GoproxySite([mod])
        site.start()
        self.addCleanup(site.close)
        r, events = self.run_gi(site, "install", archive.version.removeprefix("go"), timeout=300)
        self.assertEqual(r.returncode, 0, r.output)
        goroot = os.path.join(self.root, archive.version)
        for tool in ("bin/go", "bin/gofmt", "pkg/tool/linux_" + h.goarch() + "/compile"):
            self.assertTrue(os.access(os.path.join(goroot, tool), os.X_OK), tool)
        src = os.path.join(self.home, "hello")
        os.makedirs(src)
        with open(os.path.join(src, "go.mod"), "w") as f:
            f.write("module hello\n\ngo 1.19\n")
        with open(os.path.join(src, "main.go"), "w") as f:
            f.write('package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("hello via the module proxy") }\n')
        env = {"PATH": os.path.join(self.root, "current", "bin") + ":/usr/bin:/bin", "HOME": self.home,
               "GOCACHE": os.path.join(self.home, "gocache"), "GOPATH": os.path.join(self.home, "gopath"),
               "GOFLAGS": "-mod=mod", "GOPROXY": "off", "CGO_ENABLED": "0", "GOTOOLCHAIN": "local"}
        b = subprocess.run(["go", "build", "-o", "hello", "."], cwd=src, env=env, capture_output=True,
                           text=True, timeout=240)
        self.assertEqual(b.returncode, 0, b.stderr)
        run = subprocess.run([os.path.join(src, "hello")], capture_output=True, text=True, timeout=30)
        self.assertEqual(run.stdout.strip(), "hello via the module proxy")

    def test_proxy_credentials_never_shown(self):
        site = self.site()
        url = site.proxy_url.replace("https://", "https://user:hunter2@")
        r, _ = self.run_gi(site, "install", "1.21.3", env={"GOPROXY": url})
        self.assertEqual(r.returncode, 0, r.output)
        self.assertNotIn("hunter2", r.output)


if __name__ == "__main__":
    unittest.main()
