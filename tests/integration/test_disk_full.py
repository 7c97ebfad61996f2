"""Disk full and unwritable places, for real: the root is a small tmpfs (or a read-only bind mount)
set up by the test in a private mount namespace (unshare --mount; nothing is mounted on the host). goinstall runs in that namespace
(nsenter) against a loopback server; the test reads the root through /proc/<pid>/root.

Cases: the archive does not fit (caught before downloading); the disk fills up while the
archive downloads (another writer takes the space); the archive fits but its contents do not
(ENOSPC while extracting). Each: exit 9, one error line that says how much space the step needs, no
network triage,
the previous toolchain current and intact, no .part, staging tree or archive left taking space;
and after space is made, the same command succeeds.

Unwritable: a read-only root (bind mount; root ignores file modes, so modes are tested as an
unprivileged user via setpriv): install, use and uninstall exit 10 naming the path, the installed
toolchain stays current, read-only verbs (list, current, installing what is already current) still
work. An unwritable cache directory only costs the cache: a warning naming it, and the install
succeeds."""
import os
import re
import shutil
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
import goinstall_harness as h  # noqa: E402
import fault_server as fsrv  # noqa: E402
import reliability as rel  # noqa: E402

OLD, NEW = "go1.21.0", "go1.22.0"
EXIT_DISK_FULL = 9
EXIT_FS = 10
KIB = 1024


def human(n: int) -> str:
    """goinstall's human_bytes."""
    v, u = float(n), 0
    units = ["B", "KiB", "MiB", "GiB"]
    while v >= 1024 and u < 3:
        v, u = v / 1024, u + 1
    return f"{n} B" if u == 0 else f"{v:.1f} {units[u]}"


@unittest.skipUnless(shutil.which("unshare") and shutil.which("nsenter") and os.geteuid() == 0,
                     "needs root, unshare and nsenter")
class DiskFull(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        h.goinstall_bin()
        cls.tmp = h.tmpfs_dir("goinstall-diskfull-")
        cls.addClassCleanup(cls.tmp.cleanup)
        adir = os.path.join(cls.tmp.name, "a")
        cls.old = rel.padded_fake_archive(OLD, adir)
        # Big for the download (1 MiB, incompressible).
        cls.big = rel.padded_fake_archive(NEW, os.path.join(adir, "big"), blob=1024 * KIB)
        # Unpacks to far more than it weighs: 300 files of 4 KiB pages plus a 1.5 MiB run of zeros.
        cls.fat = rel.padded_fake_archive(NEW, os.path.join(adir, "fat"), files=300,
                                          extra_files={"pkg/zeros.bin": b"\0" * (1536 * KIB)})

    def serve(self, new):
        files = {"dl/index.json": h.make_index([self.old, new]).encode(),
                 "dl/" + self.old.filename: open(self.old.path, "rb").read(),
                 "dl/" + new.filename: open(new.path, "rb").read()}
        self.srv = fsrv.start_fault_server(self, files)

    def setup_ns(self, size):
        d = h.tmpfs_path(self, "dfull-")
        self.home = os.path.join(d, "home")
        self.root = os.path.join(d, "root")
        os.makedirs(self.home)
        self.ns = rel.MountNamespace(self.root, size=size)
        self.addCleanup(self.ns.close)
        self.inside = self.ns.path(self.root)
        r = self.goinstall([OLD])
        self.assertEqual(r.returncode, 0, r.output)
        self.old_snap = rel.snapshot(os.path.join(self.inside, OLD))

    def flags(self):
        return ["--index-url", self.srv.url + "dl/?mode=json&include=all", "--allow-insecure-index",
                "--mirror", self.srv.url + "dl/", "--no-fallback", "--root", self.root]

    def goinstall(self, args):
        return h.run_isolated(self.ns.wrap([h.goinstall_bin(), *args, *self.flags()]), home=self.home,
                              timeout=60)

    def assert_failed_cleanly(self, rc, err, step_words):
        self.assertEqual(rc, EXIT_DISK_FULL, err)
        lines = [ln for ln in err.splitlines() if ln.startswith("goinstall: error:")]
        self.assertEqual(len(lines), 1, err)
        self.assertRegex(lines[0], step_words)
        self.assertRegex(lines[0], r"needs (about )?\d+(\.\d)? (B|KiB|MiB)", "does not say how much space is needed")
        self.assertNotIn("network triage", err, "a full disk is not blamed on the network")
        self.assertNotIn("checking the network", err)
        self.assertEqual(os.readlink(os.path.join(self.inside, "current")), OLD)
        self.assertEqual(rel.snapshot(os.path.join(self.inside, OLD)), self.old_snap, "the old toolchain changed")
        self.assertEqual([n for n in rel.root_entries(self.inside) if n not in (".downloads", ".lock", "current", OLD)],
                         [], "something partial was left")
        return lines[0]

    def make_room_and_retry(self):
        r = self.ns.run(["mount", "-o", "remount,size=16m", self.root])
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.goinstall([NEW])
        self.assertEqual(r.returncode, 0, r.output)
        self.assertEqual(os.readlink(os.path.join(self.inside, "current")), NEW)

    def test_archive_does_not_fit(self):
        self.serve(self.big)
        self.setup_ns("512k")
        r = self.goinstall([NEW])
        line = self.assert_failed_cleanly(r.returncode, r.stderr, r"download")
        self.assertIn(human(self.big.size), line)
        self.make_room_and_retry()

    def test_disk_fills_during_download(self):
        self.serve(self.big)
        self.setup_ns("2m")
        # 15 s for the whole archive: the filler below lands mid-download even on a loaded
        # machine, and the next write after it meets the full disk.
        self.srv.set_fault(fsrv.drip(self.big.size / 15), path="dl/" + self.big.filename)
        run = rel.JsonRun(["--json", NEW, *self.flags()], self.home, prefix=self.ns.wrap([]))
        self.addCleanup(h.kill_process_group, run.proc, 1)
        self.assertIsNotNone(run.wait_for(lambda e: e.get("event") == "download_start", timeout=20), run.events)
        part = os.path.join(self.inside, ".downloads", self.big.filename + ".part")
        self.assertTrue(h.wait_until(lambda: os.path.exists(part) and os.path.getsize(part) > 0),
                        "no byte reached the .part")
        # Another program takes all the space that is left.
        filler = os.path.join(self.inside, "filler")
        st = os.statvfs(self.inside)
        with open(filler, "wb") as f:
            try:
                os.posix_fallocate(f.fileno(), 0, st.f_bavail * st.f_frsize)
            except OSError:
                pass  # whatever it got is in use now
        rc, err = run.finish(timeout=30)
        os.unlink(filler)
        result = run.events[-1]
        self.assertEqual(result.get("event"), "result", run.events[-3:])
        self.assertEqual(result["error"]["code"], "disk_full", result)
        self.assertEqual([e for e in run.events if e.get("event") == "triage"], [], "a full disk is not triaged")
        self.assertRegex(result["error"]["message"], r"needs (about )?\d")
        self.assertEqual(rc, EXIT_DISK_FULL)
        self.assertEqual(os.listdir(os.path.join(self.inside, ".downloads")), [], "the .part still takes the space")
        self.assertEqual(os.readlink(os.path.join(self.inside, "current")), OLD)
        self.assertEqual(rel.snapshot(os.path.join(self.inside, OLD)), self.old_snap)
        self.srv.clear_faults()
        self.make_room_and_retry()

    def test_contents_do_not_fit(self):
        self.serve(self.fat)
        self.setup_ns("1m")
        r = self.goinstall([NEW])
        line = self.assert_failed_cleanly(r.returncode, r.stderr, r"extract")
        m = re.search(r"needs about (\d+(?:\.\d)?) (KiB|MiB)", line)
        self.assertIsNotNone(m, line)
        needed = float(m.group(1)) * (KIB if m.group(2) == "KiB" else KIB * KIB)
        self.assertGreaterEqual(needed, 1536 * KIB, "the estimate is below what the files need")
        self.assertEqual(os.listdir(os.path.join(self.inside, ".downloads")), [],
                         "the verified archive still takes the space")
        self.make_room_and_retry()



@unittest.skipUnless(shutil.which("unshare") and shutil.which("nsenter") and shutil.which("setpriv")
                     and os.geteuid() == 0, "needs root, unshare, nsenter and setpriv")
class Unwritable(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        h.goinstall_bin()
        cls.tmp = h.tmpfs_dir("goinstall-unwritable-")
        cls.addClassCleanup(cls.tmp.cleanup)
        adir = os.path.join(cls.tmp.name, "a")
        cls.old = rel.padded_fake_archive(OLD, adir)
        cls.new = rel.padded_fake_archive(NEW, adir)
        files = {"dl/index.json": h.make_index([cls.old, cls.new]).encode()}
        for a in (cls.old, cls.new):
            files["dl/" + a.filename] = open(a.path, "rb").read()
        cls.srv = fsrv.FaultServer(files)
        cls.srv.start()
        cls.addClassCleanup(cls.srv.stop)

    def setUp(self):
        self.dir = h.tmpfs_path(self, "unwritable-")
        os.chmod(self.dir, 0o755)
        self.home = os.path.join(self.dir, "home")
        self.root = os.path.join(self.dir, "root")
        os.makedirs(self.home, mode=0o777)
        os.chmod(self.home, 0o777)  # the unprivileged runs write their cache here

    def goinstall(self, args, wrap=(), network=True, root=None):
        flags = ["--root", root or self.root]
        if network:
            flags += ["--index-url", self.srv.url + "dl/?mode=json&include=all", "--allow-insecure-index",
                      "--mirror", self.srv.url + "dl/", "--no-fallback"]
        return h.run_isolated([*wrap, h.goinstall_bin(), *args, *flags], home=self.home, timeout=60)

    def assert_fs_error(self, r, path):
        self.assertEqual(r.returncode, EXIT_FS, r.output)
        errors = [ln for ln in r.stderr.splitlines() if ln.startswith("goinstall: error:")]
        self.assertEqual(len(errors), 1, r.stderr)
        self.assertIn(path, errors[0])
        self.assertRegex(errors[0], r"(Read-only file system|Permission denied)")

    def test_read_only_root(self):
        r = self.goinstall([OLD])
        self.assertEqual(r.returncode, 0, r.output)
        before = rel.snapshot(self.root)
        with rel.MountNamespace(self.root, ro_binds=[self.root]) as ns:
            w = ns.wrap([])
            self.assert_fs_error(self.goinstall([NEW], w), self.root)
            self.assert_fs_error(self.goinstall(["use", OLD], w, network=False), self.root)
            self.assert_fs_error(self.goinstall(["uninstall", OLD], w, network=False), self.root)
            self.assert_fs_error(self.goinstall([NEW], w, root=os.path.join(self.root, "sub")), self.root)
            for args, net in (([OLD], True), (["list"], False), (["current"], False)):
                r = self.goinstall(args, w, network=net)
                self.assertEqual(r.returncode, 0, r.output)
                self.assertIn(OLD, r.output)
        self.assertEqual(rel.snapshot(self.root), before)

    def test_root_without_write_permission(self):
        r = self.goinstall([OLD])
        self.assertEqual(r.returncode, 0, r.output)
        os.chmod(self.root, 0o555)
        self.addCleanup(os.chmod, self.root, 0o755)
        nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        self.assert_fs_error(self.goinstall([NEW], nobody), self.root)
        self.assertEqual(os.readlink(os.path.join(self.root, "current")), OLD)
        self.assertFalse(os.path.exists(os.path.join(self.root, NEW)))

    def test_unwritable_cache_costs_only_the_cache(self):
        cache = os.path.join(self.dir, "cache")
        os.makedirs(cache)
        with rel.MountNamespace(cache, ro_binds=[cache]) as ns:
            r = self.goinstall([NEW, "--cache-dir", cache], ns.wrap([]))
        self.assertEqual(r.returncode, 0, r.output)
        warnings = [ln for ln in r.stderr.splitlines() if ln.startswith("goinstall: warning: cannot cache")]
        self.assertEqual(len(warnings), 1, r.stderr)
        self.assertIn(cache, warnings[0])
        self.assertEqual(os.readlink(os.path.join(self.root, "current")), NEW)


if __name__ == "__main__":
    unittest.main()
