"""A TLS-inspecting explicit proxy, for real: Debian's mitmproxy (mitmdump) on a loopback port, in front
of an nginx that serves the index and the toolchain over TLS with the test's own CA. mitmproxy
answers each tunnelled handshake with a certificate its own CA (made in a temp confdir) issues for
the host, so the install fails with the TLS exit code; triage handshakes inside the CONNECT tunnel,
records that issuer and says it is a TLS-inspecting proxy; --cacert with mitmproxy's CA fixes it.

Loopback only: the servers have made-up names (other.test for the index, mirror.test for the mirror)
that mitmproxy and goinstall resolve from a private /etc/hosts (a mount namespace), and mitmproxy's
resolv.conf names 127.0.0.1, where no DNS server listens, so no lookup can leave the machine."""
import json
import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "harness"))
import goinstall_harness as h  # noqa: E402
import proxy_harness as ph  # noqa: E402

from cryptography import x509  # noqa: E402  (python3-cryptography, in scripts/deps.sh)

VERSION = "go1.21.3"
TRIAGE = ["--triage-timeout", "5", "--captive-probe-url", "none"]
FAST = ["--connect-timeout", "5", "--max-retries", "1", "--no-fallback", "--no-system-proxy"]
# mitmproxy makes its CA (an RSA key) on first start and then imports a large Python program: a
# few seconds here, more on a loaded machine. Bounded, and far under the suite's per-test timeout.
MITM_START_SECONDS = 60


def triage_event(stdout: str):
    events = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    found = [e for e in events if e.get("event") == "triage"]
    return (found[0] if found else None), events


def in_private_etc(argv, hosts: str, resolv: str) -> list:
    """argv with `hosts`, `resolv` and the harness's nsswitch.conf (files, then DNS) as its /etc files."""
    script = ('mount --bind "$0" /etc/hosts && mount --bind "$1" /etc/nsswitch.conf && '
              'mount --bind "$2" /etc/resolv.conf && shift 2 && exec "$@"')
    return ["unshare", "-m", "--", "sh", "-c", script, hosts, ph.nsswitch_file(), resolv, *argv]


def rfc4514(name: str) -> str:
    """'CN=mitmproxy, O=mitmproxy' (goinstall's form) → 'CN=mitmproxy,O=mitmproxy' (RFC 4514)."""
    return ",".join(part.strip() for part in name.split(","))


class MitmproxyInspection(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = h.tmpfs_dir("goinstall-mitm-")
        cls.dir = d = cls.tmp.name
        try:
            cls._start(d)
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def _start(cls, d):
        cls.hosts = ph.hosts_file(d)
        cls.resolv = os.path.join(d, "resolv.conf")
        with open(cls.resolv, "w") as f:
            f.write("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
        cls.arc = h.fake_toolchain_archive(VERSION, os.path.join(d, "a"))
        ca = h.make_ca(os.path.join(d, "ca"), name="goinstall upstream test CA")
        cert = h.make_cert(os.path.join(d, "ca"), ca, names=["mirror.test", "other.test", "localhost"])
        cls.nginx = h.Nginx(tls=True, cert=cert)
        cls.nginx.__enter__()
        cls.nginx.put_file("dl/" + cls.arc.filename, cls.arc.path)
        cls.nginx.put("dl/index.json", h.make_index([cls.arc]))
        cls.confdir = os.path.join(d, "mitm")
        os.makedirs(cls.confdir)
        cls.mitm_port = h.free_port()
        cls.mitm_log = os.path.join(d, "mitmdump.log")
        argv = ["mitmdump", "--listen-host", "127.0.0.1", "--listen-port", str(cls.mitm_port),
                "--set", f"confdir={cls.confdir}", "--set", f"ssl_verify_upstream_trusted_ca={ca.cert}"]
        with open(cls.mitm_log, "w") as out:
            cls.mitm = subprocess.Popen(in_private_etc(argv, cls.hosts, cls.resolv), stdout=out, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, start_new_session=True)
        if not h.wait_for_port("127.0.0.1", cls.mitm_port, timeout=MITM_START_SECONDS,
                               alive=lambda: cls.mitm.poll() is None):
            raise AssertionError("mitmdump did not start: " + open(cls.mitm_log, errors="replace").read()[-2000:])
        cls.mitm_ca = os.path.join(cls.confdir, "mitmproxy-ca-cert.pem")
        with open(cls.mitm_ca, "rb") as f:
            cls.issuer = x509.load_pem_x509_certificate(f.read()).subject.rfc4514_string()

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "mitm", None) is not None:
            h.kill_process_group(cls.mitm)
        if getattr(cls, "nginx", None) is not None:
            cls.nginx.__exit__(None, None, None)
        cls.tmp.cleanup()

    def setUp(self):
        self.root = h.tmpfs_path(self, "goinstall-mitm-root-")
        self.nginx.clear_access_log()

    def goinstall(self, args):
        home = h.tmpfs_path(self, "goinstall-mitm-home-")
        env = h.isolated_env(home, {"HTTPS_PROXY": f"http://127.0.0.1:{self.mitm_port}"})
        return subprocess.run(in_private_etc([h.goinstall_bin(), *args], self.hosts, self.resolv), env=env,
                              capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)

    def index_url(self):
        return f"https://other.test:{self.nginx.port}/dl/?mode=json&include=all"

    def install_args(self, *extra):
        return [VERSION, "--index-url", self.index_url(), "--mirror", f"https://mirror.test:{self.nginx.port}/dl/",
                "--root", os.path.join(self.root, "go"), *FAST, *TRIAGE, "--json", *extra]

    def assert_interception(self, ev, hosts):
        out = json.dumps(ev, indent=1)
        self.assertEqual(ev["verdict"]["code"], "tls_interception", out)
        title = ev["verdict"]["title"]
        self.assertIn("TLS-inspecting proxy", title)
        self.assertIn(f"127.0.0.1:{self.mitm_port}", title, "names the proxy")
        self.assertIn("mitmproxy", self.issuer)
        issuer_shown = title.split("(issuer: ", 1)[1].split(")", 1)[0]
        self.assertEqual(rfc4514(issuer_shown), self.issuer, "the issuer is mitmproxy's CA, read from its file")
        for host in hosts:
            self.assertIn(host, title)
        self.assertIn("--cacert", ev["verdict"]["action"])
        tls_rows = [f for f in ev["findings"] if f["layer"] == "tls"]
        self.assertEqual(sorted(f["target"] for f in tls_rows), sorted(hosts), out)
        for f in tls_rows:
            self.assertEqual(f["status"], "fail", out)
            self.assertIn("issuer " + issuer_shown, f["summary"])

    def test_install_fails_with_the_interception_verdict_then_works_with_its_ca(self):
        p = self.goinstall(self.install_args())
        self.assertEqual(p.returncode, 5, p.stdout + p.stderr)  # k_exit_tls
        ev, events = triage_event(p.stdout)
        self.assertIsNotNone(ev, p.stdout + p.stderr)
        self.assertEqual(events[-1]["event"], "result")
        # The index failed first: it is the one target, seen through the proxy's tunnel.
        self.assert_interception(ev, ["other.test"])
        self.assertEqual(self.nginx.requests_until_marker(), [],
                         "no request got through mitmproxy to the server while its certificate was refused")

        p = self.goinstall(self.install_args("--cacert", self.mitm_ca))
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        paths = [e.path for e in self.nginx.requests_until_marker()]  # every request logged
        self.assertIn("/dl/" + self.arc.filename, paths, "the archive came through mitmproxy")
        self.assertTrue(os.path.exists(os.path.join(self.root, "go")), os.listdir(self.root))

    def test_doctor_shows_the_verdict_for_both_hosts(self):
        args = ["doctor", "--index-url", self.index_url(), "--mirror", f"https://mirror.test:{self.nginx.port}/dl/",
                *FAST, *TRIAGE, "--json"]
        p = self.goinstall(args)
        self.assertEqual(p.returncode, 21, p.stdout + p.stderr)
        ev, _ = triage_event(p.stdout)
        self.assertIsNotNone(ev, p.stdout + p.stderr)
        self.assert_interception(ev, ["mirror.test", "other.test"])
        # The same through the text report a user reads.
        p = self.goinstall([a for a in args if a != "--json"])
        self.assertEqual(p.returncode, 21, p.stdout + p.stderr)
        self.assertIn("verdict (failed): HTTPS through the proxy", p.stdout)
        self.assertIn("a TLS-inspecting proxy (issuer: ", p.stdout)


if __name__ == "__main__":
    unittest.main()
