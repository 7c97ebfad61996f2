"""goinstall doctor: exit codes (0 ok, 20 degraded, 21 failed), the text table, the JSON shape, and
TLS interception seen across two unrelated host names (in a mount namespace with its own /etc/hosts)."""
import json
import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "harness"))
import goinstall_harness as h  # noqa: E402
import fault_server as fs  # noqa: E402
import proxy_harness as ph  # noqa: E402

VERSION = "go1.21.3"
TRIAGE = ["--triage-timeout", "3", "--captive-probe-url", "none"]


def events_of(stdout):
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


class Doctor(unittest.TestCase):
    def setUp(self):
        self.dir = h.tmpfs_path(self, "goinstall-doctor-")
        self.arc = h.fake_toolchain_archive(VERSION, os.path.join(self.dir, "a"))
        self.srv = fs.start_fault_server(self)
        self.srv.put_file(self.arc.filename, self.arc.path)

    def doctor(self, *args):
        return h.run_goinstall(["doctor", *args, *TRIAGE], timeout=60)

    def test_ok_json_shape(self):
        r = self.doctor(self.srv.url_for(self.arc.filename), "--json")
        self.assertEqual(r.returncode, 0, r.output)
        events = events_of(r.stdout)
        self.assertEqual([e["event"] for e in events], ["triage", "result"])
        t = events[0]
        self.assertEqual(t["health"], "ok")
        self.assertEqual(t["verdict"]["code"], "ok")
        for key in ("title", "action"):
            self.assertTrue(t["verdict"][key])
        self.assertIsInstance(t["elapsed_ms"], int)
        self.assertEqual(t["budget_ms"], 3000)
        self.assertIn("CA", t["settings"])
        for f in t["findings"]:
            self.assertEqual(set(f), {"layer", "status", "target", "elapsed_ms", "summary", "facts"})
            self.assertIn(f["status"], ("ok", "warn", "fail", "skipped"))
        layers = {f["layer"] for f in t["findings"] if f["status"] == "ok"}
        self.assertTrue({"config", "tcp", "http", "throughput"} <= layers, layers)
        self.assertEqual(events[1]["health"], "ok")

    def test_degraded_when_one_mirror_lacks_the_file(self):
        r = self.doctor(self.srv.url_for("missing.tar.gz"), self.srv.url_for(self.arc.filename))
        self.assertEqual(r.returncode, 20, r.output)
        self.assertIn("verdict (degraded)", r.stdout)
        self.assertIn("HTTP 404", r.stdout)

    def test_failed_when_nothing_answers(self):
        port = fs.closed_port()
        r = self.doctor(f"http://127.0.0.1:{port}/")
        self.assertEqual(r.returncode, 21, r.output)
        self.assertIn("LAYER", r.stdout)
        self.assertIn("refused", r.stdout)

    def test_configured_targets_ask_mirrors_for_a_real_file(self):
        index = os.path.join(self.dir, "index.json")
        with open(index, "w") as f:
            f.write(h.make_index([self.arc]))
        r = self.doctor("--index-url", index, "--mirror", self.srv.url, "--no-fallback", "--json")
        self.assertEqual(r.returncode, 0, r.output)
        paths = [q.path for q in self.srv.requests()]
        self.assertIn("/" + self.arc.filename, paths)

    def test_usage_errors(self):
        r = self.doctor("no-such-mirror-name")
        self.assertEqual(r.returncode, 2, r.output)
        r = h.run_goinstall(["doctor", "--triage-timeout", "soon"])
        self.assertEqual(r.returncode, 2, r.output)


@unittest.skipUnless(ph.available(), "needs unshare (mount namespaces)")
class Interception(unittest.TestCase):
    def test_same_unknown_issuer_on_unrelated_hosts(self):
        d = h.tmpfs_path(self, "goinstall-intercept-")
        hosts = ph.hosts_file(d)
        corp = h.make_ca(os.path.join(d, "corp"), name="Corp Inspection CA")
        servers = []
        for name in ("mirror.test", "other.test"):
            cert = h.make_cert(os.path.join(d, "corp"), corp, names=[name])
            srv = fs.start_fault_server(self, tls_cert=cert)
            srv.put("x", b"hello")
            servers.append(f"https://{name}:{srv.port}/x")
        env = h.isolated_env(os.path.join(d, "home"), None)
        os.makedirs(env["HOME"], exist_ok=True)
        argv = [h.goinstall_bin(), "doctor", *servers, *TRIAGE, "--no-system-proxy", "--json"]
        p = subprocess.run(ph.in_hosts_namespace(argv, hosts), env=env, capture_output=True, text=True, timeout=60,
                           stdin=subprocess.DEVNULL)
        self.assertEqual(p.returncode, 21, p.stdout + p.stderr)
        t = events_of(p.stdout)[0]
        self.assertEqual(t["verdict"]["code"], "tls_interception", json.dumps(t, indent=1))
        self.assertIn("Corp Inspection CA", t["verdict"]["title"])
        self.assertIn("--cacert", t["verdict"]["action"])


if __name__ == "__main__":
    unittest.main()
