"""SIGINT/SIGTERM: goinstall exits promptly with 130 in every phase — index fetch,
download, a retry's back-off, waiting for the lock, the `bin/go version` check — keeps the .part
so that the next run resumes it (a Range request in the server's log), removes staging, and
leaves the previous toolchain current. Signals go to the process (kill PID) or to its whole
process group (a terminal's Ctrl-C, which also hits the `go` child being checked).

"Promptly" is checked only against waits of 30 s or more that a late reaction would sit through
(a 30 s drip, a held request up to the 30 s stall timeout, a 30 s Retry-After, a 30 s `go
version`, a lock never released): PROMPT is 10 s, 3x under them. Every step is ordered on an
event (a --json line, the .part growing, the server holding a request, a marker file), never on
a sleep."""
import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
import goinstall_harness as h  # noqa: E402
import fault_server as fsrv  # noqa: E402
import reliability as rel  # noqa: E402

OLD, NEW = "go1.21.0", "go1.22.0"
INDEX = "dl/index.json"
INDEX_REQ = "dl/"  # the index is requested as /dl/?mode=json&include=all
EXIT_CANCELLED = 130
PROMPT = 10.0  # 3x under the 30 s each test would wait without the signal (see above)

SLOW_GO = """#!/bin/sh
case "$1" in
  version) if [ -n "$FAKEGO_MARK" ]; then : > "$FAKEGO_MARK"; fi
           sleep "${FAKEGO_SLEEP:-0}"; echo "go version %s linux/%s" ;;
  *) exit 2 ;;
esac
"""


class Signals(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        h.goinstall_bin()
        cls.tmp = h.tmpfs_dir("goinstall-signals-")
        cls.addClassCleanup(cls.tmp.cleanup)
        adir = os.path.join(cls.tmp.name, "a")
        cls.old = rel.padded_fake_archive(OLD, adir)
        cls.new = rel.padded_fake_archive(NEW, adir, blob=400 * 1024,
                                          go_script=SLOW_GO % (NEW, h.goarch()))
        cls.index = h.make_index([cls.old, cls.new])
        cls.files = {INDEX: cls.index.encode(),
                     "dl/" + cls.old.filename: open(cls.old.path, "rb").read(),
                     "dl/" + cls.new.filename: open(cls.new.path, "rb").read()}

    def setUp(self):
        self.srv = fsrv.start_fault_server(self, self.files)
        self.home = h.tmpfs_path(self, "home-")
        self.root = os.path.join(self.home, "root")
        r = self.goinstall([OLD])
        self.assertEqual(r.returncode, 0, r.output)
        self.srv.clear_requests()

    def flags(self):
        return ["--index-url", self.srv.url + "dl/?mode=json&include=all", "--allow-insecure-index",
                "--mirror", self.srv.url + "dl/", "--no-fallback", "--root", self.root]

    def goinstall(self, args, **kw):
        return h.run_goinstall(list(args) + self.flags(), home=self.home, timeout=60, **kw)

    def manage(self, args):
        return h.run_goinstall(list(args) + ["--root", self.root], home=self.home, timeout=60)

    def start(self, env_extra=None):
        run = rel.JsonRun(["--json", NEW] + self.flags(), self.home, env_extra=env_extra)
        self.addCleanup(h.kill_process_group, run.proc, 1)
        return run

    def interrupt(self, run, sig, group=False):
        """Sends the signal; returns (rc, stderr, seconds to exit)."""
        t0 = time.monotonic()
        if group:
            os.killpg(run.proc.pid, sig)
        else:
            run.proc.send_signal(sig)
        rc, err = run.finish(timeout=60)  # past every wait above: a slow exit fails on PROMPT
        return rc, err, time.monotonic() - t0

    def assert_old_intact(self):
        self.assertEqual(rel.tree_state(self.root, {OLD: h.tree_files(os.path.join(self.root, OLD))}), OLD)
        self.assertFalse(os.path.exists(os.path.join(self.root, NEW)))
        left = [n for n in os.listdir(self.root) if n.startswith(".goinstall-") or ".tmp-" in n]
        self.assertEqual(left, [], "staging or temp files left behind")

    def part_size(self):
        p = os.path.join(self.root, ".downloads", self.new.filename + ".part")
        return os.path.getsize(p) if os.path.exists(p) else 0

    def assert_resumes(self, kept):
        self.srv.clear_faults()
        t0 = time.monotonic()  # the cut request may still be recorded late, when its drip notices
        r = self.goinstall([NEW])
        self.assertEqual(r.returncode, 0, r.output)
        gets = [q for q in self.srv.requests() if q.path.endswith(".tar.gz") and q.t_start >= t0]
        self.assertEqual(len(gets), 1, [(q.range, q.status) for q in gets])
        self.assertEqual(gets[0].range_start, kept, "the next run did not resume the kept .part")
        self.assertEqual(gets[0].status, 206)
        self.assertEqual(os.readlink(os.path.join(self.root, "current")), NEW)

    def test_interrupt_during_download_keeps_part_and_resumes(self):
        for sig, group in ((signal.SIGINT, False), (signal.SIGTERM, False), (signal.SIGINT, True)):
            with self.subTest(sig=sig.name, group=group):
                # 30 s for the whole archive (~14 kB/s, far above the 1 KiB/s stall floor).
                self.srv.set_fault(fsrv.drip(self.new.size / 30), path="dl/" + self.new.filename)
                run = self.start()
                ev = run.wait_for(lambda e: e.get("event") == "download_start", timeout=20)
                self.assertIsNotNone(ev, run.events)
                self.assertTrue(h.wait_until(lambda: self.part_size() > 0), "no byte reached the .part")
                rc, err, took = self.interrupt(run, sig, group)
                self.assertEqual(rc, EXIT_CANCELLED, err)
                self.assertLess(took, PROMPT)
                self.assertEqual(run.events[-1].get("event"), "result", run.events[-3:])
                self.assertEqual(run.events[-1]["error"]["exit_code"], EXIT_CANCELLED)
                kept = self.part_size()
                self.assertGreater(kept, 0, "the .part was not kept")
                self.assert_old_intact()
                self.assert_resumes(kept)
                # Back to the old toolchain for the next round.
                r = self.manage(["uninstall", NEW])
                self.assertEqual(r.returncode, 0, r.output)
                r = self.manage(["use", OLD])
                self.assertEqual(r.returncode, 0, r.output)

    def test_interrupt_during_index_fetch(self):
        held = fsrv.gate()  # the index request waits, unanswered, up to the 30 s stall timeout
        self.srv.set_fault(held, path=INDEX_REQ)
        run = self.start()
        self.assertTrue(held.wait_held(1, timeout=20), "the index was never requested")
        self.assertIsNone(run.proc.poll())
        rc, err, took = self.interrupt(run, signal.SIGTERM)
        self.assertEqual(rc, EXIT_CANCELLED, err)
        self.assertLess(took, PROMPT)
        self.assert_old_intact()

    def test_interrupt_during_retry_backoff(self):
        self.srv.set_fault(fsrv.status(503, {"Retry-After": "30"}), path="dl/" + self.new.filename)
        run = self.start()
        ev = run.wait_for(lambda e: e.get("event") == "retry", timeout=20)
        self.assertIsNotNone(ev, run.events)
        self.assertGreaterEqual(ev.get("delay_ms", 0), 3 * PROMPT * 1000, ev)  # what PROMPT separates
        rc, err, took = self.interrupt(run, signal.SIGINT)
        self.assertEqual(rc, EXIT_CANCELLED, err)
        self.assertLess(took, PROMPT)
        self.assert_old_intact()

    def test_interrupt_during_toolchain_check(self):
        """`bin/go version` hangs (the fake go sleeps 30 s): SIGTERM must not wait for it, to
        the process alone or to the group (where the child dies of the signal too)."""
        for group in (False, True):
            with self.subTest(group=group):
                mark = os.path.join(self.home, f"go-version-started-{group}")
                run = self.start(env_extra={"FAKEGO_SLEEP": "30", "FAKEGO_MARK": mark})
                ev = run.wait_for(lambda e: e.get("event") == "extracted", timeout=20)
                self.assertIsNotNone(ev, run.events)
                self.assertTrue(h.wait_until(lambda: os.path.exists(mark)), "`go version` never ran")
                rc, err, took = self.interrupt(run, signal.SIGTERM, group)
                self.assertEqual(rc, EXIT_CANCELLED, (err, run.events[-2:]))
                self.assertLess(took, PROMPT)
                self.assert_old_intact()
                # The verified archive is not needed by a later run, but nothing partial is current.
                self.assertEqual(os.readlink(os.path.join(self.root, "current")), OLD)

    def test_interrupt_while_waiting_for_the_lock(self):
        held = fsrv.gate()  # the first install holds the lock until the test lets its download go on
        self.srv.set_fault(held, path="dl/" + self.new.filename)
        first = self.start()
        self.assertIsNotNone(first.wait_for(lambda e: e.get("event") == "download_start", timeout=20))
        self.assertTrue(held.wait_held(1, timeout=20))
        second = rel.JsonRun(["--json", "--reinstall", OLD] + self.flags(), self.home)
        self.addCleanup(h.kill_process_group, second.proc, 1)
        ev = second.wait_for(lambda e: "waiting for another goinstall" in e.get("message", ""), timeout=20)
        self.assertIsNotNone(ev, second.events)
        rc, err, took = self.interrupt(second, signal.SIGINT)
        self.assertEqual(rc, EXIT_CANCELLED, err)
        self.assertLess(took, PROMPT)
        self.assertIsNone(first.proc.poll(), "the first install must go on")
        held.release()
        rc, err = first.finish(timeout=30)
        self.assertEqual(rc, 0, err)
        self.assertEqual(os.readlink(os.path.join(self.root, "current")), NEW)


if __name__ == "__main__":
    unittest.main()
