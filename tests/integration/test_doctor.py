"""goinstall doctor: exit codes (0 ok, 20 degraded, 21 failed), the text table, the JSON shape, and
TLS interception seen across two unrelated host names (in a mount namespace with its own /etc/hosts),
and --resolve pinning a made-up name to a dead IPv6 and a working IPv4 loopback address."""
import json
import os
import socket
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


def ipv6_loopback_missing() -> str:
    """Why ::1 cannot be used here, or "" when it can."""
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
    except OSError as e:
        return f"no IPv6 loopback on this kernel ({e})"
    return ""


class Resolve(unittest.TestCase):
    """--resolve HOST:PORT:ADDR,... (curl's meaning) for downloads and probes alike."""

    def setUp(self):
        self.dir = h.tmpfs_path(self, "goinstall-resolve-")
        self.arc = h.fake_toolchain_archive(VERSION, os.path.join(self.dir, "a"))
        self.srv = fs.start_fault_server(self)  # 127.0.0.1 only: [::1]:port is dead
        self.srv.put_file(self.arc.filename, self.arc.path)
        self.index = os.path.join(self.dir, "index.json")
        with open(self.index, "w") as f:
            f.write(h.make_index([self.arc]))

    def test_ipv6_dead_ipv4_works(self):
        why = ipv6_loopback_missing()
        if why:
            self.skipTest(why)
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as c:
            c.settimeout(1)
            if c.connect_ex(("::1", self.srv.port)) == 0:
                self.skipTest(f"something else listens on [::1]:{self.srv.port}")
        pin = f"mirror.test:{self.srv.port}:[::1],127.0.0.1"
        base = f"http://mirror.test:{self.srv.port}/"
        r = h.run_goinstall(["doctor", base + self.arc.filename, "--resolve", pin, "--no-system-proxy", *TRIAGE,
                             "--json"], timeout=60)
        self.assertEqual(r.returncode, 20, r.output)
        t = events_of(r.stdout)[0]
        self.assertEqual(t["verdict"]["code"], "ipv6_broken", json.dumps(t, indent=1))
        self.assertEqual(t["health"], "degraded")
        self.assertIn("mirror.test", t["verdict"]["title"])
        self.assertIn("gai.conf", t["verdict"]["action"])
        self.assertEqual(t["settings"].get("resolve"), pin,
                      "the pins are among the settings shown")
        dns = [f for f in t["findings"] if f["layer"] == "dns"]
        self.assertEqual(len(dns), 1, dns)
        self.assertIn("--resolve", dns[0]["summary"])
        self.assertIn("::1", dns[0]["summary"])
        tcp = sorted((f["target"], f["status"]) for f in t["findings"] if f["layer"] == "tcp")
        self.assertEqual(tcp, sorted([(f"127.0.0.1:{self.srv.port}", "ok"), (f"[::1]:{self.srv.port}", "fail")]), tcp)
        self.assertTrue(any(q.headers.get("host") == f"mirror.test:{self.srv.port}" for q in self.srv.requests()),
                        "the HTTP check asked for the pinned name")
        # The install itself falls back to IPv4 and succeeds, the name never looked up.
        self.srv.clear_requests()
        root = os.path.join(self.dir, "root")
        r = h.run_goinstall([VERSION, "--index-url", self.index, "--mirror", base, "--no-fallback", "--root", root,
                             "--resolve", pin, "--no-system-proxy", "--connect-timeout", "2", *TRIAGE, "--json"],
                            timeout=60)
        self.assertEqual(r.returncode, 0, r.output)
        self.assertTrue(os.path.isdir(os.path.join(root, VERSION)), os.listdir(root))
        got = [q for q in self.srv.requests() if q.path == "/" + self.arc.filename]
        self.assertTrue(got and all(q.headers.get("host") == f"mirror.test:{self.srv.port}" for q in got), got)

    def test_bad_values_are_usage_errors_naming_the_value(self):
        for bad in ("mirror.test:443", "mirror.test:0:127.0.0.1", "mirror.test:443:not-an-ip",
                    "mirror.test:443:[127.0.0.1]", "mirror.test:443:[::1],"):
            for verb in (["doctor"], [VERSION, "--index-url", self.index, "--root", os.path.join(self.dir, "r")],
                         ["ls-remote", "--index-url", self.index]):
                with self.subTest(value=bad, verb=verb[0]):
                    r = h.run_goinstall([*verb, "--resolve", f"ok.test:1:127.0.0.1", "--resolve", bad, *TRIAGE])
                    self.assertEqual(r.returncode, 2, r.output)
                    self.assertIn(f"--resolve: '{bad}'", r.stderr)
        self.assertEqual(self.srv.requests(), [], "nothing was fetched")


if __name__ == "__main__":
    unittest.main()
