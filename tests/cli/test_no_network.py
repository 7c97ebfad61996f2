"""With no network at all — a network namespace holding only a loopback interface, made by the test
— `goinstall latest` against the real default URLs ends quickly with a clear one-line error.
No packet can leave: the namespace has no route anywhere."""
import os
import shutil
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
import goinstall_harness as h  # noqa: E402


def can_unshare() -> bool:
    if shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "--net", "true"], capture_output=True).returncode == 0


@unittest.skipUnless(can_unshare(), "needs unshare --net (root or user namespaces)")
class NoNetwork(unittest.TestCase):
    def run_isolated_netns(self, args, timeout=60):
        home = h.tmpfs_path(self, "goinstall-nonet-")
        env = h.isolated_env(home, builtin_mirrors=True)  # safe: the namespace has no route out
        t = time.monotonic()
        p = subprocess.run(["unshare", "--net", "--", h.goinstall_bin(), *args], env=env, cwd=home,
                           capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        return p, time.monotonic() - t

    def test_latest_fails_fast_with_a_clear_message(self):
        # --connect-timeout 30: waiting it out at both index sources would take >= 60 s.
        p, elapsed = self.run_isolated_netns(["latest", "--connect-timeout", "30"], timeout=120)
        self.assertEqual(p.returncode, 4, p.stdout + p.stderr)
        lines = p.stderr.strip().splitlines()
        errors = [line for line in lines if line.startswith("goinstall: error:")]
        self.assertEqual(len(errors), 1, p.stderr)
        self.assertIn("release index", errors[0])
        self.assertIn("go.dev", errors[0])  # the primary source's failure is the one reported
        # ... after trying the index source that is reachable from mainland China.
        self.assertTrue(any("trying https://golang.google.cn/" in line for line in lines), p.stderr)
        # "Fails fast" = no connect timeout waited (>= 60 s, see above); 20 s is 3x under that and
        # leaves room for the triage that follows (at most its 10 s budget).
        self.assertLess(elapsed, 20.0)

    def test_json_error_is_machine_readable(self):
        import json
        p, _ = self.run_isolated_netns(["latest", "--json", "--connect-timeout", "5"])
        self.assertEqual(p.returncode, 4)
        last = json.loads(p.stdout.strip().splitlines()[-1])
        self.assertEqual(last["event"], "result")
        self.assertFalse(last["ok"])
        self.assertEqual(last["error"]["code"], "network")
        self.assertEqual(last["error"]["exit_code"], 4)
        # The triage report says what is wrong: no route at all, unless the nameserver is on this
        # machine (a local resolver, e.g. 127.0.0.53) and then that one is not answering.
        triage = [e for e in map(json.loads, p.stdout.splitlines()) if e.get("event") == "triage"]
        self.assertEqual(len(triage), 1, p.stdout)
        with open("/etc/resolv.conf") as f:
            servers = [line.split()[1] for line in f if line.startswith("nameserver") and len(line.split()) > 1]
        local = any(s.startswith("127.") or s == "::1" for s in servers)
        want = {"dns_no_server", "dns_timeout"} if local else {"no_route"}
        self.assertIn(triage[0]["verdict"]["code"], want, json.dumps(triage[0]["verdict"]))


if __name__ == "__main__":
    unittest.main(verbosity=2)
