"""Offline and air-gapped installs: `goinstall download` (archive + manifest), `install --archive`
in a network namespace with no network, and `mirror sync` (incremental, resumable, served by nginx
and from file:// URLs). Every server is on loopback; the offline runs happen in `unshare --net`."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
import fault_server as fs  # noqa: E402
import goinstall_harness as h  # noqa: E402
from release_site import Site  # noqa: E402

OLD, NEW = "go1.21.3", "go1.22.1"
HOST_ARCH = h.goarch()
OTHER_ARCH = "arm64" if HOST_ARCH != "arm64" else "amd64"


def can_unshare() -> bool:
    return shutil.which("unshare") is not None and \
        subprocess.run(["unshare", "--net", "true"], capture_output=True).returncode == 0


def json_result(stdout: str) -> dict:
    return json.loads(stdout.strip().splitlines()[-1])


class Offline(unittest.TestCase):
    def setUp(self):
        d = h.tmpfs_path(self, "goinstall-offline-")
        blob = {"pkg/blob.bin": os.urandom(256 << 10)}  # incompressible: the archive is ~256 KiB
        self.old = h.fake_toolchain_archive(OLD, d, extra_files=blob)
        self.new = h.fake_toolchain_archive(NEW, d, extra_files=blob)
        self.old_other = h.fake_toolchain_archive(OLD, d, arch=OTHER_ARCH)
        self.new_other = h.fake_toolchain_archive(NEW, d, arch=OTHER_ARCH)
        self.site = Site(self, [self.old, self.new, self.old_other, self.new_other], tls=True)

    def fresh_home(self) -> str:
        return h.tmpfs_path(self, "goinstall-offline-home-")

    def site_flags(self) -> list:
        return ["--index-url", self.site.index_url, "--mirror", self.site.mirror, "--no-fallback",
                "--cacert", self.site.cert.ca_cert]

    def run_no_network(self, args, home=None, timeout=60):
        """goinstall in a new network namespace: only a loopback interface that is down."""
        home = home or self.fresh_home()
        env = h.isolated_env(home)
        return subprocess.run(["unshare", "--net", "--", h.goinstall_bin(), *args], env=env, cwd=home,
                              capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)

    # -- goinstall download + install --archive -----------------------------------------------
    @unittest.skipUnless(can_unshare(), "needs unshare --net")
    def test_download_then_install_without_network(self):
        out = h.tmpfs_path(self, "goinstall-usb-")
        r = h.run_goinstall(["download", "1.21.3", "-o", out, "--json", *self.site_flags()], home=self.fresh_home())
        self.assertEqual(r.returncode, 0, r.output)
        res = json_result(r.stdout)
        self.assertTrue(res["ok"], res)
        self.assertFalse(res["already_present"])
        archive = os.path.join(out, self.old.filename)
        self.assertEqual(res["path"], archive)
        self.assertEqual(h.sha256_file(archive), self.old.sha256)
        with open(archive + ".manifest.json") as f:
            m = json.load(f)
        self.assertEqual((m["goinstall_manifest"], m["version"], m["os"], m["arch"], m["filename"], m["sha256"], m["size"]),
                         (1, OLD, "linux", HOST_ARCH, self.old.filename, self.old.sha256, self.old.size))
        self.assertIn("/dl/?mode=json", m["index_source"])
        self.assertEqual(m["mirror_url"], self.site.mirror)
        self.assertRegex(m["index_fetched_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertEqual(sorted(os.listdir(out)), sorted([self.old.filename, self.old.filename + ".manifest.json"]))
        self.assertEqual(len(self.site.archive_requests()), 1)

        # Idempotent: already there and verified → no request at all.
        before = len(self.site.nginx.access_log_lines())
        r = h.run_goinstall(["download", "1.21.3", "-o", out, "--json", *self.site_flags()], home=self.fresh_home())
        self.assertEqual(r.returncode, 0, r.output)
        self.assertTrue(json_result(r.stdout)["already_present"])
        self.assertEqual(self.site.nginx.requests_until_marker(since=before), [])

        # The air-gapped machine: no network, no cache, just the two files.
        root = h.tmpfs_path(self, "goinstall-offline-root-")
        p = self.run_no_network(["install", "--archive", archive, "--root", root])
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        with open(os.path.join(root, OLD, "VERSION")) as f:
            self.assertEqual(f.read().split()[0], OLD)
        self.assertEqual(os.readlink(os.path.join(root, "current")), OLD)
        p = self.run_no_network(["install", "--archive", archive, "--root", root, "1.21.3"])
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)  # already installed
        p = self.run_no_network(["install", "--archive", archive, "--root", root, "1.22"])
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertIn("holds go1.21.3", p.stderr)

        # A tampered copy beside its manifest: exit 7, nothing installed, the working toolchain untouched.
        bad_dir = h.tmpfs_path(self, "goinstall-tampered-")
        bad = os.path.join(bad_dir, self.old.filename)
        shutil.copy(archive, bad)
        shutil.copy(archive + ".manifest.json", bad + ".manifest.json")
        with open(bad, "r+b") as f:
            f.seek(self.old.size // 2)
            byte = f.read(1)
            f.seek(self.old.size // 2)
            f.write(bytes([byte[0] ^ 0xFF]))
        fresh_root = h.tmpfs_path(self, "goinstall-offline-root2-")
        p = self.run_no_network(["install", "--archive", bad, "--root", fresh_root])
        self.assertEqual(p.returncode, 7, p.stdout + p.stderr)
        self.assertIn("checksum mismatch", p.stderr)
        self.assertEqual([n for n in os.listdir(fresh_root) if not n.startswith(".lock")], [])
        p = self.run_no_network(["install", "--archive", bad, "--root", root, "--reinstall"])
        self.assertEqual(p.returncode, 7, p.stdout + p.stderr)
        self.assertEqual(sorted(n for n in os.listdir(root) if not n.startswith(".")), ["current", OLD])
        self.assertTrue(os.path.exists(os.path.join(root, OLD, "bin", "go")))

    @unittest.skipUnless(can_unshare(), "needs unshare --net")
    def test_archive_without_manifest_needs_a_checksum(self):
        lone_dir = h.tmpfs_path(self, "goinstall-lone-")
        lone = os.path.join(lone_dir, self.old.filename)
        shutil.copy(self.old.path, lone)
        root = h.tmpfs_path(self, "goinstall-offline-root-")
        p = self.run_no_network(["install", "--archive", lone, "--root", root])
        self.assertEqual(p.returncode, 7, p.stdout + p.stderr)
        errors = [line for line in p.stderr.splitlines() if line.startswith("goinstall: error:")]
        self.assertEqual(len(errors), 1, p.stderr)
        self.assertIn("no checksum", errors[0])
        self.assertIn("--sha256", errors[0])
        self.assertFalse(os.path.exists(os.path.join(root, OLD)))
        p = self.run_no_network(["install", "--archive", lone, "--root", root, "--json"])
        self.assertEqual(json_result(p.stdout)["error"]["code"], "no_checksum")

        # --sha256 from a trusted source: works (the version comes from the archive).
        p = self.run_no_network(["install", "--archive", lone, "--root", root, "--sha256", self.old.sha256])
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(os.readlink(os.path.join(root, "current")), OLD)
        wrong = "0" * 64
        p = self.run_no_network(["install", "--archive", lone, "--root", root, "--reinstall", "--sha256", wrong])
        self.assertEqual(p.returncode, 7, p.stdout + p.stderr)

        # A cached release index that lists the file name is enough (fetched earlier, online).
        home = self.fresh_home()
        r = h.run_goinstall(["ls-remote", *self.site_flags()], home=home)
        self.assertEqual(r.returncode, 0, r.output)
        root2 = h.tmpfs_path(self, "goinstall-offline-root3-")
        p = self.run_no_network(["install", "--archive", lone, "--root", root2], home=home)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("cached release index", p.stderr)

    # -- goinstall mirror sync --------------------------------------------------------------------
    def sync(self, mirror_dir, *extra, home=None, site_flags=None):
        return h.run_goinstall(["mirror", "sync", mirror_dir, "--versions", "1.21.3,1.22.1",
                                "--platform", f"linux/{HOST_ARCH}", "--os", "linux", "--arch", OTHER_ARCH,
                                "--json", *(site_flags or self.site_flags()), *extra], home=home or self.fresh_home())

    def test_mirror_sync_incremental_then_serve_it(self):
        mirror_dir = os.path.join(h.tmpfs_path(self, "goinstall-mirror-"), "go-mirror")
        r = self.sync(mirror_dir)
        self.assertEqual(r.returncode, 0, r.output)
        res = json_result(r.stdout)
        self.assertEqual((res["files"], res["downloaded"], res["index_files"]), (4, 4, 4))
        archives = sorted(a.filename for a in (self.old, self.new, self.old_other, self.new_other))
        self.assertEqual(sorted(n for n in os.listdir(mirror_dir) if not n.startswith(".") and n != "index.json"), archives)
        with open(os.path.join(mirror_dir, "index.json")) as f:
            index = json.load(f)
        self.assertEqual([rel["version"] for rel in index], [NEW, OLD])  # newest first, go.dev's format
        by_name = {f["filename"]: f for rel in index for f in rel["files"]}
        for a in (self.old, self.new, self.old_other, self.new_other):
            self.assertEqual((by_name[a.filename]["sha256"], by_name[a.filename]["size"]), (a.sha256, a.size))
            self.assertEqual(h.sha256_file(os.path.join(mirror_dir, a.filename)), a.sha256)
        self.assertEqual(len(self.site.archive_requests()), 4)

        # Second run: nothing downloaded, nothing re-hashed (the state file knows size and mtime).
        r = self.sync(mirror_dir)
        self.assertEqual(r.returncode, 0, r.output)
        self.assertEqual(json_result(r.stdout)["downloaded"], 0)
        self.assertNotIn('"verifying ', r.stdout)
        self.assertEqual(len(self.site.archive_requests()), 4)
        # A file changed behind the mirror's back is hashed, found wrong, and fetched again.
        with open(os.path.join(mirror_dir, self.new.filename), "r+b") as f:
            f.write(b"X")
        r = self.sync(mirror_dir)
        self.assertEqual(r.returncode, 0, r.output)
        self.assertEqual(json_result(r.stdout)["downloaded"], 1)
        self.assertEqual(len(self.site.archive_requests()), 5)
        # A sync of one more version keeps the earlier ones in the index.
        r = h.run_goinstall(["mirror", "sync", mirror_dir, "--versions", "1.21.3", "--json", *self.site_flags()],
                            home=self.fresh_home())
        self.assertEqual(r.returncode, 0, r.output)
        self.assertEqual(json_result(r.stdout)["index_files"], 4)

        # Served by nginx (https): the directory is both the index and the mirror.
        with h.Nginx(docroot=mirror_dir, tls=True) as ng:
            root = h.tmpfs_path(self, "goinstall-mirror-root-")
            r = h.run_goinstall([NEW, "--index-url", ng.url + "index.json", "--mirror", ng.url, "--no-fallback",
                                 "--cacert", ng.ca_cert, "--root", root], home=self.fresh_home())
            self.assertEqual(r.returncode, 0, r.output)
            self.assertEqual(os.readlink(os.path.join(root, "current")), NEW)
            got = [e.path for e in ng.requests_until_marker()]  # every request logged
            self.assertEqual(got, ["/index.json", "/" + self.new.filename])
        # And straight from the directory with file:// URLs, without any network.
        if can_unshare():
            root = h.tmpfs_path(self, "goinstall-mirror-root2-")
            p = self.run_no_network([OLD, "--index-url", "file://" + mirror_dir + "/index.json",
                                     "--mirror", "file://" + mirror_dir + "/", "--no-fallback", "--root", root])
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertEqual(os.readlink(os.path.join(root, "current")), OLD)

    def test_interrupted_sync_resumes(self):
        srv = fs.start_fault_server(self, tls_cert=True)
        srv.put("dl/index.json", h.make_index([self.old, self.new]))
        for a in (self.old, self.new):
            srv.put_file(a.filename, a.path)
        flags = ["--index-url", srv.url + "dl/?mode=json&include=all", "--mirror", srv.url, "--no-fallback",
                 "--cacert", srv.ca_cert]
        srv.set_fault(fs.drip(bytes_per_second=64 << 10, max_seconds=30), path=self.old.filename)
        mirror_dir = h.tmpfs_path(self, "goinstall-mirror-")
        part = os.path.join(mirror_dir, self.old.filename + ".part")
        proc, _home = h.popen_goinstall(["mirror", "sync", mirror_dir, "--versions", "1.21.3", *flags],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and (not os.path.exists(part) or os.path.getsize(part) < (64 << 10)):
                time.sleep(0.05)
            self.assertGreaterEqual(os.path.getsize(part), 64 << 10)
            os.killpg(proc.pid, signal.SIGKILL)  # a crash mid-file, no chance to clean up
        finally:
            h.kill_process_group(proc)
        kept = os.path.getsize(part)
        self.assertLess(kept, self.old.size)
        srv.clear_faults()
        t_resume = time.monotonic()  # the killed transfer's record may still arrive: look at later ones
        r = h.run_goinstall(["mirror", "sync", mirror_dir, "--versions", "1.21.3", "--json", *flags])
        self.assertEqual(r.returncode, 0, r.output)
        self.assertEqual(h.sha256_file(os.path.join(mirror_dir, self.old.filename)), self.old.sha256)
        gets = [q for q in srv.requests() if q.path == "/" + self.old.filename and q.t_start >= t_resume]
        self.assertEqual(len(gets), 1, [(q.range_start, q.status, q.fault, q.body_bytes_sent) for q in gets])
        self.assertIsNotNone(gets[0].range_start)
        self.assertGreater(gets[0].range_start, 0)
        self.assertLessEqual(gets[0].range_start, kept)
        self.assertFalse(os.path.exists(part))

    def test_usage_errors(self):
        for args, needle in ((["mirror"], "mirror sync DIR"), (["mirror", "sync"], "mirror sync DIR"),
                             (["mirror", "sync", "d", "--os", "linux", "--os", "darwin", "--arch", "amd64", "--arch",
                               "arm64", "--arch", "386"], "pairs"),
                             (["mirror", "sync", "d", "--platform", "linux"], "OS/ARCH"),
                             (["download"], "which version"),
                             (["install", "--archive", "/nonexistent/go1.21.3.linux-amd64.tar.gz"], "nonexistent")):
            with self.subTest(args=args):
                r = h.run_goinstall(args)
                self.assertIn(r.returncode, (2, 10), r.output)
                self.assertIn(needle, r.stderr)
        for verb in ("download", "mirror"):
            r = h.run_goinstall([verb, "--help"])
            self.assertEqual(r.returncode, 0, r.output)
            self.assertIn(f"goinstall {verb}", r.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
