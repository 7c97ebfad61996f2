"""Races between goinstall processes on one root (and one cache): 16 installs of one version (one
download, all succeed), different versions in parallel, uninstall and use while an install runs,
readers (list/current) during installs, lock timeouts, and many roots sharing one index cache.
A watcher thread checks throughout that `current` never names a partial tree. Every wait is
bounded. The rules (docs/reliability.md): every change to a root happens under <root>/.lock;
`uninstall` of the current version is allowed and removes `current` (it says so); `use` and
`uninstall` wait for a running install and then apply to the state it left."""
import concurrent.futures as cf
import json
import os
import sys
import tarfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
import goinstall_harness as h  # noqa: E402
import fault_server as fsrv  # noqa: E402
import reliability as rel  # noqa: E402

VERSIONS = ["go1.20.5", "go1.21.0", "go1.21.5", "go1.22.0"]
EXIT_LOCK_TIMEOUT = 11


class Races(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        h.goinstall_bin()
        cls.tmp = h.tmpfs_dir("goinstall-races-")
        cls.addClassCleanup(cls.tmp.cleanup)
        adir = os.path.join(cls.tmp.name, "a")
        cls.archives = {v: rel.padded_fake_archive(v, adir, files=40, blob=64 * 1024) for v in VERSIONS}
        cls.files_of = {}
        for v, a in cls.archives.items():
            with tarfile.open(a.path) as tf:
                cls.files_of[v] = sorted(m.name[3:] for m in tf.getmembers() if not m.isdir())
        files = {"dl/index.json": h.make_index(cls.archives.values()).encode()}
        for a in cls.archives.values():
            files["dl/" + a.filename] = open(a.path, "rb").read()
        cls.files = files

    def setUp(self):
        self.srv = fsrv.start_fault_server(self, self.files)
        self.home = h.tmpfs_path(self, "home-")
        self.root = os.path.join(self.home, "root")

    def flags(self, root=None, cache=None):
        f = ["--index-url", self.srv.url + "dl/?mode=json&include=all", "--allow-insecure-index",
             "--mirror", self.srv.url + "dl/", "--no-fallback", "--root", root or self.root]
        return f + (["--cache-dir", cache] if cache else [])

    def run_gi(self, args, root=None, cache=None, timeout=60):
        if args[0] in ("use", "uninstall", "list", "current"):  # verbs without network options
            return h.run_goinstall(list(args) + ["--root", root or self.root], home=self.home, timeout=timeout)
        return h.run_goinstall(list(args) + self.flags(root, cache), home=self.home, timeout=timeout)

    def parallel(self, jobs, timeout=90):
        """Runs the argument lists at once; returns their results in order."""
        with cf.ThreadPoolExecutor(max_workers=len(jobs)) as ex:
            futs = [ex.submit(self.run_gi, *j) if isinstance(j, tuple) else ex.submit(self.run_gi, j) for j in jobs]
            return [f.result(timeout=timeout) for f in futs]

    def watch(self):
        # `current` may be missing before the first install and after uninstalling it; when it
        # exists it must name a complete tree.
        w = rel.CurrentWatcher(self.root, self.files_of, interval=0.005, allow_missing=True)
        w.start()
        self.addCleanup(w.stop)
        return w

    def assert_watch_clean(self, w):
        w.stop()
        self.assertEqual(w.violations, [])

    def archive_gets(self, version=None):
        return [q for q in self.srv.requests()
                if q.path.endswith(".tar.gz") and (version is None or version in q.path)]

    def test_sixteen_installs_of_one_version(self):
        v = "go1.22.0"
        self.srv.set_fault(fsrv.drip(self.archives[v].size / 0.8), path="dl/" + self.archives[v].filename)
        w = self.watch()
        results = self.parallel([[v, "--json"] for _ in range(16)])
        for r in results:
            self.assertEqual(r.returncode, 0, r.output)
            self.assertEqual(json.loads(r.stdout.splitlines()[-1])["version"], v)
        self.assertEqual(len(self.archive_gets()), 1, "more than one download of the same archive")
        self.assertEqual(rel.tree_state(self.root, self.files_of), v)
        installed = sum(1 for r in results if '"event":"installed"' in r.stdout.replace(" ", "")
                        and '"already_installed":false' in r.stdout.replace(" ", ""))
        self.assertEqual(installed, 1, "exactly one process installs; the others find it installed")
        self.assertEqual(sorted(n for n in os.listdir(self.root) if not n.startswith(".")), ["current", v])
        self.assert_watch_clean(w)

    def test_different_versions_in_parallel(self):
        w = self.watch()
        results = self.parallel([[v] for v in VERSIONS for _ in range(2)])
        for r in results:
            self.assertEqual(r.returncode, 0, r.output)
        for v in VERSIONS:
            self.assertEqual(h.tree_files(os.path.join(self.root, v)), self.files_of[v], v)
            self.assertEqual(len(self.archive_gets(v)), 1, v)
        self.assertIn(rel.tree_state(self.root, self.files_of), VERSIONS)
        self.assertEqual([n for n in os.listdir(self.root) if n.startswith(".goinstall-")], [])
        self.assert_watch_clean(w)

    def held_install(self, v):
        """An install of `v` that holds the root's lock until the test calls release() on the
        returned gate: its archive request is held, unanswered, by the server."""
        gate = fsrv.gate()
        self.srv.set_fault(gate, path="dl/" + self.archives[v].filename)
        run = rel.JsonRun(["--json", v] + self.flags(), self.home)
        self.addCleanup(h.kill_process_group, run.proc, 1)
        self.addCleanup(gate.release)
        self.assertIsNotNone(run.wait_for(lambda e: e.get("event") == "download_start", timeout=20), run.events)
        self.assertTrue(gate.wait_held(1, timeout=20), run.events)
        return run, gate

    def start_waiting(self, args):
        """Starts a lock-taking verb (`use`, `uninstall`) with --json while held_install holds the
        lock, and returns once it has opened ROOT/.lock and is still running: it is waiting."""
        run = rel.JsonRun(list(args) + ["--json", "--root", self.root], self.home)
        self.addCleanup(h.kill_process_group, run.proc, 1)
        lock = os.path.join(self.root, ".lock")
        h.wait_until(lambda: h.has_open(run.proc.pid, lock) or run.proc.poll() is not None)
        self.assertIsNone(run.proc.poll(), f"{args} did not wait for the install's lock")
        self.assertTrue(h.has_open(run.proc.pid, lock), f"{args} never opened {lock}")
        return run

    def test_uninstall_current_while_installing(self):
        old, new = "go1.21.0", "go1.22.0"
        self.assertEqual(self.run_gi([old]).returncode, 0)
        w = self.watch()
        run, gate = self.held_install(new)
        un = self.start_waiting(["uninstall", old])  # current now; waits for the install's lock
        gate.release()
        self.assertEqual(run.finish(timeout=60)[0], 0)
        rc, err = un.finish(timeout=60)
        self.assertEqual(rc, 0, (err, un.events))
        res = un.events[-1]
        self.assertEqual((res.get("event"), res.get("ok"), res.get("was_current")), ("result", True, False),
                         "the install had not switched current before uninstall ran")
        self.assertEqual(rel.tree_state(self.root, self.files_of), new)
        self.assertFalse(os.path.exists(os.path.join(self.root, old)))
        # Uninstalling the current version: allowed, says so, leaves no dangling link.
        r = self.run_gi(["uninstall", new])
        self.assertEqual(r.returncode, 0, r.output)
        self.assertIn("it was current", r.stdout)
        self.assertFalse(os.path.lexists(os.path.join(self.root, "current")))
        self.assert_watch_clean(w)

    def test_use_and_readers_during_install(self):
        a, b = "go1.20.5", "go1.22.0"
        self.assertEqual(self.run_gi([a]).returncode, 0)
        w = self.watch()
        run, gate = self.held_install(b)
        use = self.start_waiting(["use", a])
        # Readers take no lock: they answer while the install is held mid-download.
        with cf.ThreadPoolExecutor(max_workers=3) as ex:
            readers = [ex.submit(self.run_gi, [verb]) for verb in ("list", "current") for _ in range(3)]
            for f in readers:
                r = f.result(timeout=60)
                self.assertEqual(r.returncode, 0, r.output)
                self.assertIn(a, r.stdout)
        self.assertIsNone(use.proc.poll(), "`use` must wait for the install")
        gate.release()
        self.assertEqual(run.finish(timeout=60)[0], 0)
        rc, err = use.finish(timeout=60)
        self.assertEqual(rc, 0, (err, use.events))
        # `use` waited for the install, then applied: the last word is the user's.
        self.assertEqual(rel.tree_state(self.root, self.files_of), a)
        self.assertTrue(os.path.isdir(os.path.join(self.root, b)))
        self.assert_watch_clean(w)

    def test_lock_timeout_is_bounded_and_named(self):
        run, gate = self.held_install("go1.22.0")
        t0 = time.monotonic()
        r = self.run_gi(["go1.21.0", "--lock-timeout", "0.5"])
        took = time.monotonic() - t0
        # Exit 11 is what happened: had it waited for the holder it would have installed (exit 0).
        self.assertEqual(r.returncode, EXIT_LOCK_TIMEOUT, r.output)
        # Separates the 0.5 s --lock-timeout from waiting on the holder (held up to the gate's
        # 120 s, or the default 600 s lock timeout): 4x under 120 s.
        self.assertLess(took, 30)
        self.assertIn(os.path.join(self.root, ".lock"), r.stderr)
        gate.release()
        self.assertEqual(run.finish(timeout=60)[0], 0)

    def test_many_roots_share_one_cache(self):
        cache = os.path.join(self.home, "shared-cache")
        roots = [os.path.join(self.home, f"r{i}") for i in range(8)]
        results = self.parallel([(["go1.21.5"], r, cache) for r in roots])
        for r in results:
            self.assertEqual(r.returncode, 0, r.output)
        cached = [n for n in os.listdir(cache) if n.endswith(".json")]
        self.assertEqual(len(cached), 1, os.listdir(cache))
        with open(os.path.join(cache, cached[0])) as f:
            json.load(f)  # one complete index, not an interleaving of eight writes
        self.assertEqual([n for n in os.listdir(cache) if ".tmp-" in n], [])


if __name__ == "__main__":
    unittest.main()
