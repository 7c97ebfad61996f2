"""`goinstall mirror sync DIR --modules`: one directory that is the release index + archive mirror
AND a Go module proxy for the toolchain modules, with the checksum database served through it
(DIR/sumdb/<name>/...). Upstream: a release site (index + archives) and the goproxy_site harness
(module proxy + checksum database of its own key), both on loopback. Then goinstall (--via goproxy,
file:// and nginx with the upstream stopped) and Debian's go command install from DIR alone."""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
import goinstall_harness as h  # noqa: E402
from release_site import Site  # noqa: E402

try:
    import goproxy_site as gps  # noqa: E402
except ImportError:  # python3-cryptography missing (scripts/deps.sh --test installs it)
    gps = None

V1, V2 = "go1.21.3", "go1.22.1"
ARCH = h.goarch()
GO119 = "/usr/lib/go-1.19/bin/go"


def json_result(stdout: str) -> dict:
    return json.loads(stdout.strip().splitlines()[-1])


@unittest.skipIf(gps is None, "needs python3-cryptography")
class MirrorModulesTest(unittest.TestCase):
    def setUp(self):
        d = h.tmpfs_path(self, "goinstall-modmirror-arc-")
        self.arcs = {v: h.fake_toolchain_archive(v, os.path.join(d, v), arch=ARCH) for v in (V1, V2)}
        self.mods = {v: gps.make_toolchain_zip(a) for v, a in self.arcs.items()}
        self.release = Site(self, list(self.arcs.values()), tls=False)
        self.gps = gps.GoproxySite(list(self.mods.values()))
        self.gps.start()
        self.addCleanup(self.gps.close)
        self.dir = os.path.join(h.tmpfs_path(self, "goinstall-modmirror-"), "mirror")

    def home(self):
        return h.tmpfs_path(self, "goinstall-modmirror-home-")

    def sync(self, home, json_out=True, dir=None, env=None):
        r = h.run_goinstall(["mirror", "sync", dir or self.dir, "--versions", "1.21.3,1.22.1", "--platform", f"linux/{ARCH}",
                             "--modules", *(["--json"] if json_out else []), "--index-url", self.release.index_url, "--allow-insecure-index",
                             "--mirror", self.release.mirror, "--no-fallback", "--cacert", self.gps.ca_cert,
                             "--no-triage", "--connect-timeout", "5"],
                            env_extra=env or {"GOPROXY": self.gps.proxy_url, "GOSUMDB": self.gps.gosumdb},
                            home=home, timeout=120)
        self.assertEqual(r.returncode, 0, r.output)
        self.last_stdout = r.stdout
        return json_result(r.stdout) if json_out else r.stdout

    def vdir(self, *parts):
        return os.path.join(self.dir, "golang.org", "toolchain", "@v", *parts)

    def sumdb(self, *parts):
        return os.path.join(self.dir, "sumdb", self.gps.name, *parts)

    def make_mirror(self):
        home = self.home()
        res = self.sync(home)
        self.assertEqual((res["modules"], res["modules_downloaded"], res["modules_listed"]), (2, 2, 2), res)
        self.assertEqual(res["sumdb"], self.gps.name)
        return home

    def test_sync_writes_the_module_tree_and_a_second_sync_fetches_nothing(self):
        home = self.make_mirror()
        versions = sorted(m.version for m in self.mods.values())
        with open(self.vdir("list")) as f:
            self.assertEqual(f.read().split(), versions)
        for m in self.mods.values():
            with open(self.vdir(m.version + ".zip"), "rb") as f:
                self.assertEqual(gps.zip_h1(f.read()), m.h1)
            with open(self.vdir(m.version + ".mod"), "rb") as f:
                self.assertEqual(f.read(), b"module golang.org/toolchain\n")
            with open(self.vdir(m.version + ".info")) as f:
                info = json.load(f)
            self.assertEqual(info["Version"], m.version)
            self.assertEqual(info["Time"], m.time)     # the upstream .info's time
            with open(self.sumdb("lookup", "golang.org", f"toolchain@{m.version}"), "rb") as f:
                self.assertIn(f"{gps.MODULE} {m.version} {m.h1}\n".encode(), f.read())
        self.assertTrue(os.path.isfile(self.sumdb("supported")))
        self.assertEqual(os.path.getsize(self.sumdb("supported")), 0)
        self.assertTrue(os.path.isfile(self.sumdb("latest")))
        tiles = [os.path.join(dp, n) for dp, _, ns in os.walk(self.sumdb("tile")) for n in ns]
        self.assertTrue(tiles)
        # Nothing half-written is left behind, and the archives are there as before.
        self.assertFalse([n for n in os.listdir(self.vdir()) if n.startswith(".") or n.endswith(".part")])
        self.assertTrue(os.path.isfile(os.path.join(self.dir, "index.json")))
        self.assertEqual(len(self.gps.requests(".zip")), 2)
        # Second sync (same home: the sumdb cache is warm; then a fresh one): no zip, no archive fetched.
        archives = len(self.release.archive_requests())
        for h_ in (home, self.home()):
            self.gps.clear_access_log()
            res = self.sync(h_)
            self.assertEqual((res["modules_downloaded"], res["downloaded"]), (0, 0), res)
            self.assertEqual(self.gps.requests(".zip"), [])
        # The warm state file means no zip was hashed again either.
        self.assertNotIn("verifying v0.0.1", self.last_stdout)
        self.assertEqual(len(self.release.archive_requests()), archives)
        # The text report names each module and the database.
        out = self.sync(home, json_out=False)
        for m in self.mods.values():
            self.assertIn(f"{gps.MODULE}@{m.version}\talready there", out)
        self.assertIn(f"2 versions listed; checksum database {self.gps.name}", out)
        # A zip changed behind the mirror's back is checked, found wrong and fetched again.
        m = self.mods[V2]
        size = os.path.getsize(self.vdir(m.version + ".zip"))
        with open(self.vdir(m.version + ".zip"), "r+b") as f:
            f.truncate(size // 2)
        self.gps.clear_access_log()
        res = self.sync(home)
        self.assertEqual(res["modules_downloaded"], 1, res)
        self.assertIn("verifying " + m.version, self.last_stdout)
        self.assertEqual(len(self.gps.requests(m.version + ".zip")), 1)

    def test_refuses_without_a_proxy_or_a_database_before_syncing_anything(self):
        for env, needle in (({"GOPROXY": "off", "GOSUMDB": self.gps.gosumdb}, "GOPROXY=off"),
                            ({"GOPROXY": self.gps.proxy_url, "GOSUMDB": "off"}, "GOSUMDB=off")):
            r = h.run_goinstall(["mirror", "sync", self.dir, "--versions", "1.21.3", "--platform", f"linux/{ARCH}",
                                 "--modules", "--index-url", self.release.index_url, "--allow-insecure-index",
                                 "--mirror", self.release.mirror, "--no-fallback", "--no-triage"],
                                env_extra=env, home=self.home(), timeout=60)
            self.assertEqual(r.returncode, 2, r.output)
            self.assertIn(needle, r.stderr)
            self.assertFalse(os.path.exists(self.dir))
        self.assertEqual(self.release.archive_requests(), [])
        self.assertEqual(self.gps.access_log(), [])

    def install_args(self, root, goproxy, cacert=None):
        args = ["install", "1.22.1", "--json", "--root", root, "--via", "goproxy", "--goproxy", goproxy,
                "--index-url", "http://127.0.0.1:1/dl/?mode=json", "--allow-insecure-index",
                "--mirror", "http://127.0.0.1:1/m/", "--no-fallback", "--connect-timeout", "5", "--no-triage"]
        return args + (["--cacert", cacert] if cacert else [])

    def assert_installed(self, r, root, server_prefix):
        self.assertEqual(r.returncode, 0, r.output)
        events = [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]
        inst = [e for e in events if e["event"] == "installed"][-1]
        self.assertEqual(inst["route"], "goproxy", inst)
        self.assertTrue(inst["server"].startswith(server_prefix), inst)
        self.assertIn(self.gps.name, inst["authority"])
        self.assertTrue(os.path.isfile(os.path.join(root, V2, "VERSION")))

    def test_goinstall_installs_from_the_mirror_by_file_url_and_over_https_with_upstream_stopped(self):
        self.make_mirror()
        # file://DIR, GOSUMDB = the key only: the database is found through DIR/sumdb/<name>/supported.
        self.gps.clear_access_log()
        root = os.path.join(self.home(), "root")
        r = h.run_goinstall(self.install_args(root, "file://" + self.dir),
                            env_extra={"GOPROXY": None, "GOSUMDB": self.gps.vkey}, home=self.home(), timeout=120)
        self.assert_installed(r, root, "file://")
        self.assertIn("through file://", r.stdout)   # "checksum database <name> through <proxy>"
        self.assertEqual(self.gps.access_log(), [])
        # A mirror of the mirror (GOPROXY=file://DIR, the database through it): copies, checked again.
        dir2 = os.path.join(os.path.dirname(self.dir), "mirror2")
        res = self.sync(self.home(), dir=dir2, env={"GOPROXY": "file://" + self.dir, "GOSUMDB": self.gps.vkey})
        self.assertEqual((res["modules_downloaded"], res["modules_listed"]), (2, 2), res)
        for m in self.mods.values():
            with open(os.path.join(dir2, "golang.org", "toolchain", "@v", m.version + ".zip"), "rb") as f:
                self.assertEqual(f.read(), m.zip)
            self.assertTrue(os.path.isfile(os.path.join(dir2, "sumdb", self.gps.name, "lookup", "golang.org",
                                                        f"toolchain@{m.version}")))
        self.assertEqual(self.gps.access_log(), [])
        # Served by a plain nginx, the upstream site stopped: self-contained.
        self.gps.stop()
        with h.Nginx(docroot=self.dir, tls=True) as ng:
            root = os.path.join(self.home(), "root")
            r = h.run_goinstall(self.install_args(root, ng.url.rstrip("/"), ng.ca_cert),
                                env_extra={"GOPROXY": None, "GOSUMDB": self.gps.vkey}, home=self.home(), timeout=120)
            self.assert_installed(r, root, ng.url.rstrip("/"))
            paths = [e.path for e in ng.requests_until_marker()]  # every request logged
            self.assertIn(f"/sumdb/{self.gps.name}/supported", paths)
            self.assertIn(f"/golang.org/toolchain/@v/{self.mods[V2].version}.zip", paths)
            self.assertTrue(any(p.startswith(f"/sumdb/{self.gps.name}/lookup/") for p in paths), paths)
            self.assertTrue(any(p.startswith(f"/sumdb/{self.gps.name}/tile/") for p in paths), paths)

    @unittest.skipUnless(os.access(GO119, os.X_OK), "needs golang-1.19-go")
    def test_the_go_command_downloads_the_toolchain_module_from_the_mirror(self):
        self.make_mirror()
        self.gps.stop()
        m = self.mods[V1]
        with h.Nginx(docroot=self.dir, tls=True) as ng:
            work = h.tmpfs_path(self, "goinstall-modmirror-go-")
            env = self.gps.go_env(work, sumdb_via_proxy=True)
            env.update({"GOPROXY": ng.url.rstrip("/"), "SSL_CERT_FILE": ng.ca_cert, "GOSUMDB": self.gps.vkey})
            r = h.run_isolated([GO119, "mod", "download", "-json", f"{gps.MODULE}@{m.version}"],
                               env_extra=env, home=work, timeout=60)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            out = json.loads(r.stdout)
            self.assertEqual(out["Version"], m.version)
            self.assertEqual(out["Sum"], gps.zip_h1(self.vdir(m.version + ".zip")))
            self.assertNotIn("Error", out)
            # nginx logs a request once its response is sent, so the client may exit first.
            paths = [e.path for e in ng.requests_until_marker()]  # every request logged
            self.assertIn(f"/sumdb/{self.gps.name}/supported", paths)
            self.assertIn(f"/sumdb/{self.gps.name}/lookup/golang.org/toolchain@{m.version}", paths)
            self.assertTrue(any(p.startswith(f"/sumdb/{self.gps.name}/tile/") for p in paths), paths)
            self.assertIn(f"/golang.org/toolchain/@v/{m.version}.zip", paths)


if __name__ == "__main__":
    unittest.main()
