"""Network triage after a failure, against real servers on loopback (and, for DNS and name-based
TLS, inside network/mount namespaces the test creates: nothing leaves the machine).

Every run passes --captive-probe-url (loopback or none) and a small --triage-timeout."""
import json
import os
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "harness"))
import goinstall_harness as h  # noqa: E402
import fault_server as fs  # noqa: E402
import proxy_harness as ph  # noqa: E402

VERSION = "go1.21.3"
TRIAGE = ["--triage-timeout", "3", "--captive-probe-url", "none"]
FAST = ["--connect-timeout", "1", "--max-retries", "1", "--no-fallback"]


def triage_event(stdout: str):
    events = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    found = [e for e in events if e.get("event") == "triage"]
    return (found[0] if found else None), events


class Base(unittest.TestCase):
    def setUp(self):
        self.dir = h.tmpfs_path(self, "goinstall-triage-")
        self.arc = h.fake_toolchain_archive(VERSION, os.path.join(self.dir, "a"))
        self.index = os.path.join(self.dir, "index.json")
        with open(self.index, "w") as f:
            f.write(h.make_index([self.arc]))
        self.root = os.path.join(self.dir, "root")

    def install(self, mirror, *extra, json_out=True, env=None):
        args = [VERSION, "--index-url", self.index, "--mirror", mirror, "--root", self.root, *FAST, *TRIAGE, *extra]
        if json_out:
            args.append("--json")
        return h.run_goinstall(args, env_extra=env, timeout=60)

    def verdict_of(self, r, code, exit_code=4):
        self.assertEqual(r.returncode, exit_code, r.output)
        ev, events = triage_event(r.stdout)
        self.assertIsNotNone(ev, r.output)
        self.assertEqual(ev["verdict"]["code"], code, json.dumps(ev, indent=1))
        self.assertEqual(events[-1]["event"], "result", "the final result stays the last line")
        self.assertFalse(events[-1]["ok"])
        return ev


class TcpAndHttp(Base):
    def test_refused(self):
        port = fs.closed_port()
        ev = self.verdict_of(self.install(f"http://127.0.0.1:{port}/"), "tcp_refused")
        self.assertIn(f"127.0.0.1:{port}", ev["verdict"]["title"])
        self.assertEqual(ev["health"], "failed")
        tcp = [f for f in ev["findings"] if f["layer"] == "tcp"]
        self.assertEqual([f["status"] for f in tcp], ["fail"])

    def test_download_mirror_sync_and_probe_run_triage_too(self):
        port = fs.closed_port()
        mirror = f"http://127.0.0.1:{port}/"
        common = ["--index-url", self.index, "--mirror", mirror, *FAST, *TRIAGE, "--json"]
        for args in (["download", VERSION, "-o", os.path.join(self.dir, "out")],
                     ["mirror", "sync", os.path.join(self.dir, "mirror"), "--versions", VERSION],
                     ["mirrors", "--probe", VERSION]):
            with self.subTest(verb=args[0]):
                r = h.run_goinstall(args + common, timeout=60)
                ev = self.verdict_of(r, "tcp_refused")
                self.assertIn(f"127.0.0.1:{port}", ev["verdict"]["title"])
                r = h.run_goinstall(args + common + ["--no-triage"], timeout=60)
                self.assertEqual(r.returncode, 4, r.output)
                self.assertIsNone(triage_event(r.stdout)[0], r.output)

    def test_dropped_and_bounded(self):
        with fs.Blackhole() as bh:
            if bh.mode != "syn_drop":
                self.skipTest("this kernel completes handshakes on a full queue")
            r = self.install(bh.url, "--triage-timeout", "2")
        ev = self.verdict_of(r, "tcp_dropped")
        self.assertIn("--proxy", ev["verdict"]["action"])
        # On goinstall's own clocks, against what an unbounded wait on a SYN-dropping host costs
        # (the kernel's SYN retries, ~2 min): the 1 s --connect-timeout ended each attempt (10 s
        # bound) and the 2 s --triage-timeout the diagnosis (3x: 6 s), both far under 2 min.
        self.assertEqual(ev["budget_ms"], 2000)
        self.assertLess(ev["elapsed_ms"], 3 * 2000, "triage kept to --triage-timeout")
        attempts = [e for e in triage_event(r.stdout)[1] if e.get("event") == "attempt"]
        self.assertTrue(attempts, r.stdout)
        for a in attempts:
            self.assertLess(a["elapsed_ms"], 10_000, a)

    def test_http_403_html_is_blocked(self):
        srv = fs.start_fault_server(self)
        srv.set_fault(fs.status(403, body="<html><body><h1>Access denied</h1> by the WAF</body></html>"))
        ev = self.verdict_of(self.install(srv.url), "http_blocked")
        self.assertIn("403", ev["verdict"]["title"])
        self.assertIn("Access denied", json.dumps(ev))

    def test_http_429_rate_limited(self):
        srv = fs.start_fault_server(self)
        srv.set_fault(fs.status(429, {"Retry-After": "30"}, body="slow down"))
        ev = self.verdict_of(self.install(srv.url), "http_rate_limited")
        self.assertIn("30 s", ev["verdict"]["action"])

    def test_text_report_follows_the_error(self):
        port = fs.closed_port()
        r = self.install(f"http://127.0.0.1:{port}/", json_out=False)
        self.assertEqual(r.returncode, 4, r.output)
        err = r.stderr
        self.assertLess(err.index("goinstall: error:"), err.index("network triage"))
        self.assertIn("verdict (failed):", err)
        self.assertIn("next step:", err)
        for layer in ("config", "tcp", "http"):
            self.assertIn(f"\n  {layer}", err)

    def test_no_triage_flag_and_env(self):
        port = fs.closed_port()
        for extra, env in ((["--no-triage"], None), ([], {"GOINSTALL_NO_TRIAGE": "1"})):
            r = self.install(f"http://127.0.0.1:{port}/", *extra, env=env)
            self.assertEqual(r.returncode, 4, r.output)
            self.assertIsNone(triage_event(r.stdout)[0], r.output)

    def test_missing_version_is_not_blamed_on_the_network(self):
        srv = fs.start_fault_server(self)
        r = h.run_goinstall(["9.9.9", "--index-url", self.index, "--mirror", srv.url, "--root", self.root, *TRIAGE,
                             "--json"], timeout=60)
        self.assertEqual(r.returncode, 3, r.output)
        self.assertIsNone(triage_event(r.stdout)[0])
        r = h.run_goinstall(["9.9.9", "--index-url", self.index, "--mirror", srv.url, "--root", self.root, *TRIAGE])
        self.assertEqual(r.returncode, 3, r.output)
        self.assertNotIn("network triage", r.stderr)
        self.assertEqual(srv.requests(), [], "nothing was probed")

    def test_checksum_mismatch_is_not_blamed_on_the_network(self):
        srv = fs.start_fault_server(self)
        srv.put_file(self.arc.filename, self.arc.path)
        srv.set_fault(fs.corrupt([100]))
        r = self.install(srv.url)
        self.assertEqual(r.returncode, 7, r.output)
        ev, events = triage_event(r.stdout)
        self.assertIsNone(ev, r.output)
        self.assertEqual(events[-1]["error"]["code"], "checksum", events[-1])
        served = len(srv.requests())
        self.assertGreater(served, 0)
        r = self.install(srv.url, json_out=False)
        self.assertEqual(r.returncode, 7, r.output)
        self.assertNotIn("network triage", r.stderr)
        self.assertNotIn("checking the network", r.stderr)
        self.assertTrue(all(q.path == "/" + self.arc.filename for q in srv.requests()),
                        "no probe reached the mirror: " + repr([q.path for q in srv.requests()]))

    def test_captive_portal(self):
        portal = fs.start_fault_server(self)
        portal.put("login", b"<html><form>Log in to CoffeeShop WiFi</form></html>")
        portal.set_fault(fs.redirect(portal.url + "login"), path="generate_204")
        port = fs.closed_port()
        r = self.install(f"http://127.0.0.1:{port}/", "--captive-probe-url", portal.url + "generate_204")
        ev = self.verdict_of(r, "captive_portal")
        self.assertIn("/login", ev["verdict"]["action"])


class Tls(Base):
    def setUp(self):
        super().setUp()
        self.ca = h.make_ca(os.path.join(self.dir, "ca"))
        self.variants = h.make_cert_variants(os.path.join(self.dir, "ca"), self.ca)

    def tls_server(self, cert, fault=None):
        srv = fs.start_fault_server(self, tls_cert=cert)
        srv.put_file(self.arc.filename, self.arc.path)
        if fault is not None:
            srv.set_fault(fault)
        return srv

    def test_certificate_variants(self):
        for variant, code in (("expired", "tls_expired"), ("wrong_name", "tls_name_mismatch"),
                              ("self_signed", "tls_untrusted"), ("other_ca", "tls_untrusted"),
                              ("not_yet_valid", "tls_not_yet_valid")):
            with self.subTest(variant=variant):
                srv = self.tls_server(self.variants[variant])
                r = self.install(srv.url, "--cacert", self.ca.cert)
                ev = self.verdict_of(r, code, exit_code=5)
                tls = [f for f in ev["findings"] if f["layer"] == "tls"]
                self.assertTrue(tls and tls[0]["status"] == "fail", json.dumps(ev, indent=1))

    def test_not_yet_valid_with_a_correct_clock_blames_the_certificate(self):
        srv = self.tls_server(self.variants["not_yet_valid"])
        ev = self.verdict_of(self.install(srv.url, "--cacert", self.ca.cert), "tls_not_yet_valid", exit_code=5)
        tomorrow = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 86400))
        self.assertIn(f"valid only from {tomorrow}", ev["verdict"]["title"])
        self.assertFalse(any(f["layer"] == "clock" and f["status"] != "ok" for f in ev["findings"]),
                         "the server's clock agrees with ours: " + json.dumps(ev, indent=1))

    def test_handshake_that_never_answers_the_client_hello(self):
        with fs.Blackhole(mode="silent_accept") as bh:
            pin = f"mirror.test:{bh.port}:127.0.0.1"
            r = self.install(f"https://mirror.test:{bh.port}/", "--resolve", pin, "--cacert", self.ca.cert)
        ev = self.verdict_of(r, "tls_stalled")
        self.assertIn("ClientHello", ev["verdict"]["title"])
        self.assertIn("mtu", ev["verdict"]["action"].lower())
        self.assertTrue(any(f["layer"] == "tcp" and f["status"] == "ok" for f in ev["findings"]), json.dumps(ev))
        self.assertTrue(any(f["layer"] == "tls" and f["status"] == "fail" for f in ev["findings"]), json.dumps(ev))

    def test_clock_skew_explains_not_yet_valid(self):
        srv = self.tls_server(self.variants["not_yet_valid"],
                              fs.status(200, {"Date": "Mon, 01 Jan 2001 00:00:00 GMT"}, body="hi"))
        ev = self.verdict_of(self.install(srv.url, "--cacert", self.ca.cert), "clock_skew", exit_code=5)
        self.assertIn("2001-01-01", ev["verdict"]["title"])
        self.assertIn("timedatectl", ev["verdict"]["action"])
        self.assertTrue(any(f["layer"] == "clock" and f["status"] == "warn" for f in ev["findings"]))


DNS_SCRIPT = os.path.join(HERE, "..", "harness", "scripted_dns.py")


def in_dns_namespace(argv, hosts, resolv, dns_mode):
    """argv in a fresh network + mount namespace: lo up, `hosts`, `resolv` and the harness's
    nsswitch.conf (`hosts: files dns`) bound over /etc, a scripted DNS server on 127.0.0.1:53
    answering `dns_mode`."""
    script = ('ip link set lo up && mount --bind "$0" /etc/hosts && mount --bind "$1" /etc/resolv.conf && '
              'mount --bind "$4" /etc/nsswitch.conf || exit 99; '
              'python3 "$2" "$3" 127.0.0.1 53 30 >"$0.ready" 2>&1 & dns=$!; '
              'for i in $(seq 100); do grep -q ready "$0.ready" 2>/dev/null && break; sleep 0.05; done; shift 4; '
              '"$@"; rc=$?; kill $dns; wait $dns; exit $rc')
    return ["unshare", "--net", "--mount", "--", "sh", "-c", script, hosts, resolv, DNS_SCRIPT, dns_mode,
            ph.nsswitch_file(), *argv]


@unittest.skipUnless(ph.available(), "needs unshare (namespaces)")
class Dns(Base):
    def run_in_ns(self, mode):
        hosts = os.path.join(self.dir, "hosts")
        with open(hosts, "w") as f:
            f.write("127.0.0.1 localhost\n")
        resolv = os.path.join(self.dir, "resolv.conf")
        with open(resolv, "w") as f:
            f.write("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
        env = h.isolated_env(os.path.join(self.dir, "home"), None)
        os.makedirs(env["HOME"], exist_ok=True)
        argv = [h.goinstall_bin(), "ls-remote", "--index-url", "https://mirror.test:8443/dl/?mode=json&include=all",
                *TRIAGE, "--no-system-proxy", "--json"]
        return subprocess.run(in_dns_namespace(argv, hosts, resolv, mode), env=env, capture_output=True, text=True,
                              timeout=60, stdin=subprocess.DEVNULL)

    def test_dns_failures_name_the_resolver(self):
        for mode, code in (("nxdomain", "dns_nxdomain"), ("servfail", "dns_servfail"), ("silent", "dns_timeout"),
                           ("zero", "dns_bogon"), ("loopback", "dns_bogon"), ("private", "dns_bogon")):
            with self.subTest(mode=mode):
                p = self.run_in_ns(mode)
                self.assertEqual(p.returncode, 4, p.stdout + p.stderr)
                ev, _ = triage_event(p.stdout)
                self.assertIsNotNone(ev, p.stdout + p.stderr)
                self.assertEqual(ev["verdict"]["code"], code, json.dumps(ev, indent=1))
                self.assertIn("127.0.0.1", ev["verdict"]["title"])
                self.assertIn("mirror.test", ev["verdict"]["title"])
                bogon = {"zero": "0.0.0.0 (unspecified)", "loopback": "127.0.0.2 (loopback)",
                         "private": "10.11.12.13 (private"}.get(mode)
                if bogon:
                    self.assertIn(bogon, ev["verdict"]["title"])


@unittest.skipUnless(ph.available(), "needs tinyproxy and unshare (mount namespaces)")
class Proxy(Base):
    USER, PASSWORD = "alice", "pr0xy-s3cret"

    def setUp(self):
        super().setUp()
        self.hosts = ph.hosts_file(self.dir)
        ca = h.make_ca(os.path.join(self.dir, "ca"))
        self.cert = h.make_cert(os.path.join(self.dir, "ca"), ca, names=["mirror.test", "localhost"])
        self.srv = fs.start_fault_server(self, tls_cert=self.cert)
        self.srv.put_file(self.arc.filename, self.arc.path)
        self.proxy = ph.TinyProxy(self.dir, self.hosts, self.USER, self.PASSWORD)
        self.addCleanup(self.proxy.close)

    def run_ns(self, env_extra, *extra):
        env = h.isolated_env(os.path.join(self.dir, "home"), env_extra)
        os.makedirs(env["HOME"], exist_ok=True)
        argv = [h.goinstall_bin(), VERSION, "--index-url", self.index, "--mirror", f"https://mirror.test:{self.srv.port}/",
                "--root", self.root, "--cacert", self.cert.ca_cert, "--no-system-proxy", *FAST, *TRIAGE, "--json", *extra]
        return subprocess.run(ph.in_hosts_namespace(argv, self.hosts), env=env, capture_output=True, text=True,
                              timeout=60, stdin=subprocess.DEVNULL)

    def test_407_without_and_with_wrong_credentials(self):
        p = self.run_ns({"HTTPS_PROXY": self.proxy.url()})
        self.assertEqual(p.returncode, 6, p.stdout + p.stderr)
        ev, _ = triage_event(p.stdout)
        self.assertEqual(ev["verdict"]["code"], "proxy_auth", json.dumps(ev, indent=1))
        self.assertIn(f"127.0.0.1:{self.proxy.port}", ev["verdict"]["title"])
        self.assertIn("--proxy-user", ev["verdict"]["action"])
        p = self.run_ns({"HTTPS_PROXY": self.proxy.url(self.USER, "wrong-" + self.PASSWORD)})
        self.assertEqual(p.returncode, 6, p.stdout + p.stderr)
        ev, _ = triage_event(p.stdout)
        self.assertEqual(ev["verdict"]["code"], "proxy_auth", json.dumps(ev, indent=1))
        self.assertIn("alice", ev["verdict"]["title"])
        h.assert_no_secret([p.stdout, p.stderr], "wrong-" + self.PASSWORD)

    def test_connect_forbidden(self):
        # tinyproxy allowing tunnels to port 443 only answers a CONNECT to the mirror's port 403.
        strict = ph.TinyProxy(self.dir, self.hosts, extra=["ConnectPort 443"])
        self.addCleanup(strict.close)
        p = self.run_ns({"HTTPS_PROXY": strict.url()})
        self.assertEqual(p.returncode, 4, p.stdout + p.stderr)
        ev, _ = triage_event(p.stdout)
        self.assertIsNotNone(ev, p.stdout + p.stderr)
        self.assertEqual(ev["verdict"]["code"], "proxy_forbidden", json.dumps(ev, indent=1))
        self.assertIn(f"127.0.0.1:{strict.port}", ev["verdict"]["title"])
        self.assertIn(f"mirror.test:{self.srv.port}", ev["verdict"]["title"])
        self.assertIn("--noproxy-hosts mirror.test", ev["verdict"]["action"])
        self.assertEqual(self.srv.requests(), [], "the tunnel was never opened")

    def test_proxy_name_pinned_with_resolve(self):
        # proxy.test is in no hosts file: only the pin makes it reachable, for the transfer and the probe.
        strict = ph.TinyProxy(self.dir, self.hosts, extra=["ConnectPort 443"])
        self.addCleanup(strict.close)
        p = self.run_ns({"HTTPS_PROXY": f"http://proxy.test:{strict.port}"},
                        "--resolve", f"proxy.test:{strict.port}:127.0.0.1")
        self.assertEqual(p.returncode, 4, p.stdout + p.stderr)
        ev, _ = triage_event(p.stdout)
        self.assertIsNotNone(ev, p.stdout + p.stderr)
        self.assertEqual(ev["verdict"]["code"], "proxy_forbidden", json.dumps(ev, indent=1))
        self.assertIn(f"proxy.test:{strict.port}", ev["verdict"]["title"])
        self.assertIn("CONNECT", strict.log_text(), "the transfer reached the proxy through the pin")
        p = self.run_ns({"HTTPS_PROXY": f"http://proxy.test:{strict.port}"})
        ev, _ = triage_event(p.stdout)
        self.assertIsNotNone(ev, p.stdout + p.stderr)
        self.assertEqual(ev["verdict"]["code"], "proxy_unresolvable", "without the pin: " + json.dumps(ev, indent=1))

    def test_proxy_that_closes_the_connection(self):
        closer = fs.start_fault_server(self, {})
        closer.set_fault(fs.empty_reply())
        p = self.run_ns({"HTTPS_PROXY": closer.url})
        self.assertEqual(p.returncode, 4, p.stdout + p.stderr)
        ev, _ = triage_event(p.stdout)
        self.assertIsNotNone(ev, p.stdout + p.stderr)
        self.assertEqual(ev["verdict"]["code"], "proxy_closed", json.dumps(ev, indent=1))
        self.assertIn(f"127.0.0.1:{closer.port}", ev["verdict"]["title"])
        self.assertTrue(any(q.method == "CONNECT" for q in closer.requests()), "the probe asked the proxy for a tunnel")

    def test_https_scheme_to_a_plain_proxy(self):
        url = self.proxy.url(self.USER, self.PASSWORD).replace("http://", "https://")
        p = self.run_ns({"HTTPS_PROXY": url})
        self.assertNotEqual(p.returncode, 0, p.stdout + p.stderr)
        ev, _ = triage_event(p.stdout)
        self.assertIsNotNone(ev, p.stdout + p.stderr)
        self.assertEqual(ev["verdict"]["code"], "proxy_scheme", json.dumps(ev, indent=1))
        self.assertIn(f"export HTTPS_PROXY=http://alice:***@127.0.0.1:{self.proxy.port}", ev["verdict"]["action"])
        h.assert_no_secret([p.stdout, p.stderr], self.PASSWORD)


if __name__ == "__main__":
    unittest.main()
