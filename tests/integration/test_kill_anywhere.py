"""Kill anywhere: SIGKILL goinstall at ≥ 50 points of an install (index fetch, download,
extraction, check, commit, switch) while an older toolchain is installed and current — under a
root with a `current` link, and again with --prefix (exactly <prefix>/go, as the official
instructions install it).

Each point runs in a copy of a root where go1.21.0 is installed and current (two points at a
time, each with its own root, cache and unthrottled rerun server), against a throttled loopback
server (the index and the archive are dripped, so time offsets land in known phases). Points are chosen three ways: time offsets spread over a whole throttled run; right
after (or shortly after) each --json event; and, with strace, exactly at each rename/symlink
system call — the moments where the on-disk state changes (commit and switch).

After each kill: `current` names a complete toolchain (the old one, or the new one if it was
committed) — a watcher thread polls this the whole time, so "never partial" holds at every
moment, not just at the end; then an unthrottled rerun must install the new version (verified,
resuming a kept .part with a Range request), and the root must hold nothing else: no staging
dirs, no temp files, no archive, no stale lock (the rerun never waits for a lock)."""
import concurrent.futures as cf
import fcntl
import itertools
import os
import pathlib
import queue
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
import goinstall_harness as h  # noqa: E402
import fault_server as fsrv  # noqa: E402
import reliability as rel  # noqa: E402

OLD, NEW = "go1.21.0", "go1.22.0"
INDEX = "dl/index.json"
CLEAN_ROOT = [".downloads", ".lock", "current", OLD, NEW]

# Phase of an install from the last --json event it printed before dying.
PHASE_OF = {None: "index", "index_source": "resolve", "warning": "index", "resolved": "download",
            "download_start": "download", "progress": "download", "attempt": "download",
            "verified": "extract", "extracted": "check", "installed": "switch",
            "switched": "done", "result": "done"}


def file_list(archive_path: str) -> list:
    with tarfile.open(archive_path) as tf:
        return sorted(m.name[len("go/"):] for m in tf.getmembers() if not m.isdir())


class KillAnywhere(unittest.TestCase):
    WORKERS = 2  # kill points run two at a time; each has its own root, cache and rerun server
    PREFIX = None  # KillAnywherePrefix: install exactly <root>/<PREFIX>/go (--prefix) instead
    N_TIME = 26    # time-offset kill points (the --prefix run has no `current` switch to strace: more)

    @classmethod
    def setUpClass(cls):
        h.goinstall_bin()
        cls.tmp = h.tmpfs_dir("goinstall-kill-")
        cls.addClassCleanup(cls.tmp.cleanup)
        adir = os.path.join(cls.tmp.name, "archives")
        cls.old = rel.padded_fake_archive(OLD, adir)
        cls.new = rel.padded_fake_archive(NEW, adir, files=600, blob=160 * 1024)
        cls.allowed = {OLD: file_list(cls.old.path), NEW: file_list(cls.new.path)}
        index = h.make_index([cls.old, cls.new])
        files = {INDEX: index.encode(), "dl/" + cls.old.filename: pathlib.Path(cls.old.path).read_bytes(),
                 "dl/" + cls.new.filename: pathlib.Path(cls.new.path).read_bytes()}
        cls.fast = []
        for _ in range(cls.WORKERS):
            srv = fsrv.FaultServer(files)
            srv.start()
            cls.addClassCleanup(srv.stop)
            cls.fast.append(srv)
        cls.slow = fsrv.FaultServer(files)
        cls.slow.start()
        cls.addClassCleanup(cls.slow.stop)
        # Index ≈ 0.1 s, archive ≈ 0.3 s: every phase gets a slice of wall-clock time.
        cls.slow.set_fault(fsrv.drip(len(index) / 0.1), path="dl/")  # /dl/?mode=json&include=all
        cls.slow.set_fault(fsrv.drip(cls.new.size / 0.3), path="dl/" + cls.new.filename)
        cls.home = os.path.join(cls.tmp.name, "home")
        os.makedirs(cls.home)
        cls.template = os.path.join(cls.tmp.name, "template")
        r = h.run_goinstall([OLD] + cls.flags(cls.fast[0], cls.template, os.path.join(cls.tmp.name, "c0")),
                            home=cls.home, timeout=60)
        assert r.returncode == 0, r.output
        cls.counter = itertools.count(1)
        cls.workers = queue.Queue()
        for i in range(cls.WORKERS):
            cls.workers.put(i)

    @classmethod
    def flags(cls, server, root, cache):
        prefix = ["--prefix", os.path.join(root, cls.PREFIX)] if cls.PREFIX else []
        return ["--index-url", server.url + "dl/?mode=json&include=all", "--allow-insecure-index",
                "--mirror", server.url + "dl/", "--no-fallback", "--root", root, "--cache-dir", cache,
                "--lock-timeout", "3", *prefix]

    # What "installed" and "clean" mean: <root>/current and the versions beside it, or <prefix>/go.
    def state(self, root, allow_missing=False):
        if self.PREFIX:
            return rel.prefix_state(os.path.join(root, self.PREFIX), self.allowed, allow_missing)
        return rel.tree_state(root, self.allowed, allow_missing)

    def watcher(self, root):
        if self.PREFIX:
            return rel.CurrentWatcher(os.path.join(root, self.PREFIX), self.allowed, state_fn=rel.prefix_state)
        return rel.CurrentWatcher(root, self.allowed)

    def leftovers(self, root):
        if self.PREFIX:
            prefix = os.path.join(root, self.PREFIX)
            return (rel.root_entries(root), sorted(os.listdir(prefix))), \
                (sorted([".downloads", self.PREFIX]), [".goinstall.lock", "go"])
        return rel.root_entries(root), CLEAN_ROOT

    def fresh_point(self):
        d = os.path.join(self.tmp.name, f"p{next(self.counter):03d}")
        os.makedirs(d)
        root = os.path.join(d, "root")
        rel.copy_root(self.template, root)
        return root, os.path.join(d, "cache")

    def extracting(self, root):
        """Whether a staging tree with files in it was left: the kill hit an extraction."""
        parent = os.path.join(root, self.PREFIX) if self.PREFIX else root
        for n in os.listdir(parent):
            if n.startswith(".goinstall-staging-") and h.tree_files(os.path.join(parent, n)):
                return True
        return False

    def wait_lock_free(self, root, where):
        """goinstall is reaped, but a `bin/go version` it was spawning (in its own process group,
        so the kill missed it) holds a copy of the lock's descriptor until its exec closes it (the
        descriptor is close-on-exec). Wait for that, bounded: an orphan that keeps the lock longer
        is a failure."""
        path = (os.path.join(root, self.PREFIX, ".goinstall.lock") if self.PREFIX
                else os.path.join(root, ".lock"))
        if not os.path.exists(path):
            return
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)

        def free():
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            fcntl.flock(fd, fcntl.LOCK_UN)
            return True
        try:
            self.assertTrue(h.wait_until(free, timeout=5), f"{where}: the lock was still held 5 s after the kill")
        finally:
            os.close(fd)

    def check_after(self, root, cache, how, phase, watcher, fast):
        """Invariants after a kill, then the rerun, then the leftovers."""
        where = f"kill {how} (phase {phase})"
        state = self.state(root)
        part = os.path.join(root, ".downloads", self.new.filename + ".part")
        kept = os.path.getsize(part) if os.path.exists(part) else 0
        committed = state == NEW if self.PREFIX else os.path.isdir(os.path.join(root, NEW))
        self.wait_lock_free(root, where)
        fast.clear_requests()
        t0 = time.monotonic()  # a request cut by the kill may be recorded late: count only the rerun's
        r = h.run_goinstall(["--json", NEW] + self.flags(fast, root, cache), home=self.home, timeout=60)
        self.assertEqual(r.returncode, 0, f"{where}: rerun failed\n{r.output}")
        self.assertNotIn("waiting for another goinstall", r.stdout, f"{where}: a dead process's lock was waited for")
        self.assertEqual(self.state(root), NEW, where)
        gets = [q for q in fast.requests() if q.path.endswith(".tar.gz") and q.t_start >= t0]
        if committed or kept == self.new.size:
            # Installed already, or every byte is in the .part: nothing to fetch.
            self.assertEqual(gets, [], f"{where}: the rerun downloaded again ({kept} bytes kept)")
        elif kept > 0:
            self.assertTrue(gets and gets[0].range_start == kept,
                            f"{where}: {kept} bytes were kept but the rerun did not resume: "
                            f"{[(q.range, q.status) for q in gets]}")
        got, want = self.leftovers(root)
        self.assertEqual(got, want, f"{where}: leftovers after the rerun")
        if os.path.isdir(cache):
            temps = [n for n in os.listdir(cache) if ".tmp-" in n]
            self.assertEqual(temps, [], f"{where}: temp files left in the cache")
        watcher.stop()
        self.assertEqual(watcher.violations, [], f"{where}: current was seen pointing at a partial tree")
        self.assertGreater(watcher.polls, 0)
        return state

    def point(self, start, decide):
        """One kill point: `start(root, cache, server)` launches goinstall (returns a JsonRun, or
        a label when it ran to its own end; `server` is this worker's unthrottled one), `decide(run)` waits for the moment and returns a label; the
        process group is SIGKILLed, then everything is checked. Returns (label, phase)."""
        worker = self.workers.get(timeout=60)
        root, cache = self.fresh_point()
        watcher = self.watcher(root)
        watcher.start()
        try:
            run = start(root, cache, self.fast[worker])
            how = decide(run)
            if isinstance(run, rel.JsonRun):
                try:
                    os.killpg(run.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                rc, _ = run.finish(timeout=10)
                kinds = [k for k in run.kinds() if k != "text"]
                phase = "done" if rc == 0 else PHASE_OF.get(kinds[-1] if kinds else None, "other")
            else:
                phase = how.split()[0]
            if self.extracting(root):
                phase += "+extracting"
            self.check_after(root, cache, how, phase, watcher, self.fast[worker])
            return how, phase
        finally:
            watcher.stop()
            shutil.rmtree(os.path.dirname(root), ignore_errors=True)
            self.workers.put(worker)

    def throttled(self, root, cache, fast=None):
        return rel.JsonRun(["--json", NEW] + self.flags(self.slow, root, cache), self.home)

    def test_kill_anywhere(self):
        # Calibrate: one throttled run to the end, with the event times.
        root, cache = self.fresh_point()
        run = self.throttled(root, cache)
        rc, err = run.finish(timeout=60)
        self.assertEqual(rc, 0, err)
        total = run.events[-1]["_t"] - run.t0
        self.assertLess(total, 20)
        points = []

        # 1. Time offsets spread over a whole throttled run (and a little past its usual end),
        # and three inside the index's drip (≥ 0.1 s however loaded the machine: a slow
        # calibration run would spread the others too thinly there).
        n_time = self.N_TIME
        offsets = [total * 1.1 * i / n_time for i in range(n_time)] + [0.02, 0.05, 0.08]
        for offset in offsets:
            def at_offset(run, offset=offset):
                while time.monotonic() - run.t0 < offset and run.proc.poll() is None:
                    run.next_event(min(0.01, max(0.0, offset - (time.monotonic() - run.t0))))
                return f"at +{offset:.3f} s"
            points.append((self.throttled, at_offset))

        # 2. Right after each event, and a few milliseconds after it.
        for kind in ("index_source", "resolved", "download_start", "verified", "extracted", "installed"):
            for delay in (0.0, 0.004, 0.02):
                def after_event(run, kind=kind, delay=delay):
                    ev = run.wait_for(lambda e: e.get("event") == kind, timeout=30)
                    if delay:
                        time.sleep(delay)
                    return f"{delay * 1000:.0f} ms after {kind}" + ("" if ev else " (never seen)")
                points.append((self.throttled, after_event))

        # 3. At each state-changing system call: strace delivers SIGKILL on entry to the k-th call
        # of one kind (its counters are per system call): the index-cache and .part.meta writes,
        # .part → archive, the commit, and both steps of the `current` switch. Unthrottled: these
        # points are about order, not time.
        if shutil.which("strace"):
            probe_root, probe_cache = self.fresh_point()
            traced = "rename,renameat,renameat2,symlink,symlinkat"
            r = h.run_isolated(["strace", "-f", "-qq", "-e", f"trace={traced}", "-o", "/dev/stdout",
                                h.goinstall_bin(), NEW, *self.flags(self.fast[0], probe_root, probe_cache)],
                               home=self.home, timeout=60)
            self.assertEqual(r.returncode, 0, r.output)
            calls = re.findall(r"\b(rename|renameat2?|symlink(?:at)?)\(", r.stdout)
            self.assertGreaterEqual(len(calls), 5, r.stdout)
            for name in sorted(set(calls)):
                for k in range(1, calls.count(name) + 1):
                    def by_strace(root, cache, fast, name=name, k=k):
                        r = h.run_isolated(["strace", "-f", "-qq", "-o", "/dev/null", "-e", f"trace={name}",
                                            "-e", f"inject={name}:signal=SIGKILL:when={k}", h.goinstall_bin(), NEW,
                                            *self.flags(fast, root, cache)], home=self.home, timeout=60)
                        self.assertIn(r.returncode, (-signal.SIGKILL, 128 + signal.SIGKILL), r.output)
                        return f"syscall {name} #{k}"
                    points.append((by_strace, lambda how: how))

        with cf.ThreadPoolExecutor(max_workers=self.WORKERS) as ex:
            futures = [ex.submit(self.point, start, decide) for start, decide in points]
            results = [f.result(timeout=300) for f in futures]

        seen = {}
        for _, phase in results:
            seen[phase] = seen.get(phase, 0) + 1
        sys.stderr.write(f"{len(results)} kill points by phase: {dict(sorted(seen.items()))}\n")
        self.assertGreaterEqual(len(results), 50)
        count = lambda *names: sum(v for k, v in seen.items() if k.split("+")[0] in names)  # noqa: E731
        self.assertGreaterEqual(count("index", "resolve"), 3, seen)
        self.assertGreaterEqual(count("download"), 8, seen)
        self.assertGreaterEqual(sum(v for k, v in seen.items() if k.endswith("+extracting")), 3, seen)
        self.assertGreaterEqual(count("check", "switch", "syscall"), 4, seen)


class KillAnywherePrefix(KillAnywhere):
    """The same kill points with --prefix: <prefix>/go is replaced by one RENAME_EXCHANGE, and at
    no moment is it missing or a partial tree; staging lives in the prefix and is cleaned."""
    PREFIX = "usr-local"
    N_TIME = 30


if __name__ == "__main__":
    unittest.main()
