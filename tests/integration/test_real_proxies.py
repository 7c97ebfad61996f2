"""Installs through the proxies users meet, started by the test (tests/harness/real_proxies.py):
Debian's squid as the corporate forward proxy (Basic auth by basic_ncsa_auth, a password holding
'%', '@' and ':'; squid's stock rule that allows CONNECT only to port 443) and microsocks as a
SOCKS5 proxy with user/password (RFC 1929). Proof comes from the proxies' own logs and the
mirror's access log; failures from exit codes (installer/exit_codes.hpp) and the one error line.

Each proxy is started once per class. goinstall runs in the private hosts namespace
(proxy_harness), where mirror.test is 127.0.0.1; squid reads the same hosts file and asks DNS only
of 127.0.0.1."""
import os
import subprocess
import sys
import unittest
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
import goinstall_harness as h  # noqa: E402
import proxy_harness as ph  # noqa: E402
import real_proxies as rp  # noqa: E402

VERSION = "go1.21.3"
EXIT_NETWORK, EXIT_PROXY_AUTH = 4, 6


def encoded(text: str) -> str:
    """Percent-encoded once, as it must be written in a proxy URL."""
    return urllib.parse.quote(text, safe="")


class RealProxyBase(unittest.TestCase):
    """A TLS nginx as https://mirror.test:<port>/ (fake toolchain + index) and a plain-HTTP one as
    http://mirror.test:<port>/, both shared by the class."""

    @classmethod
    def setUpClass(cls):
        cls._tmp = h.tmpfs_dir("goinstall-realproxy-")
        cls.addClassCleanup(cls._tmp.cleanup)
        cls.dir = cls._tmp.name
        cls.hosts = ph.hosts_file(cls.dir)
        cls.ca = h.make_ca(os.path.join(cls.dir, "ca"))
        cert = h.make_cert(os.path.join(cls.dir, "ca"), cls.ca, names=["mirror.test", "localhost"])
        cls.archive = h.fake_toolchain_archive(VERSION, os.path.join(cls.dir, "a"))
        cls.https = h.Nginx(docroot=os.path.join(cls.dir, "www"), tls=True, cert=cert)
        cls.https.start()
        cls.addClassCleanup(cls.https.close)
        cls.http = h.Nginx(docroot=os.path.join(cls.dir, "www"))
        cls.http.start()
        cls.addClassCleanup(cls.http.close)
        cls.https.put_file(cls.archive.filename, cls.archive.path)
        cls.https.put("dl/index.json", h.make_index([cls.archive]))
        cls.tls_base = f"https://mirror.test:{cls.https.port}/"
        cls.http_base = f"http://mirror.test:{cls.http.port}/"

    def setUp(self):
        self.home = h.tmpfs_path(self, "goinstall-realproxy-home-")

    def goinstall(self, args, env_extra=None):
        env = h.isolated_env(self.home, env_extra)
        argv = [h.goinstall_bin(), *args, "--root", os.path.join(self.home, "root"), "--cacert", self.ca.cert,
                "--no-system-proxy"]
        return subprocess.run(ph.in_hosts_namespace(argv, self.hosts), env=env, capture_output=True, text=True,
                              timeout=120, stdin=subprocess.DEVNULL, cwd=self.home)

    def install_args(self, mirror=None):
        return [VERSION, "--index-url", self.tls_base + "dl/?mode=json&include=all", "--mirror",
                mirror or self.tls_base, "--no-fallback", "--reinstall"]

    def assert_installed(self, p):
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertTrue(os.path.exists(os.path.join(self.home, "root", VERSION, "bin", "go")), p.stdout + p.stderr)


class SquidBasicAuth(RealProxyBase):
    USER = "alice"
    PASSWORD = "pa%41ss:w@rd"  # '%41' is "A" if decoded twice; ':' and '@' need encoding in a URL

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.squid = rp.Squid(cls.hosts, {cls.USER: cls.PASSWORD})
        cls.addClassCleanup(cls.squid.close)

    def test_squid_asks_dns_of_loopback_only(self):
        self.assertEqual(self.squid.nameservers(), ["127.0.0.1"], self.squid.cache_log_text()[-2000:])

    def tunnels_and_gets(self, user):
        tunnel = f"mirror.test:{self.https.port}"
        entries = self.squid.wait_for_access(
            lambda e: e.method == "GET" and e.url.endswith("/" + self.archive.filename) and e.user == user)
        connects = [e for e in entries if e.method == "CONNECT" and e.url == tunnel and e.user == user
                    and e.code == "TCP_TUNNEL" and e.status == 200]
        gets = [e for e in entries if e.method == "GET" and e.user == user and e.status == 200
                and e.url == self.http_base + self.archive.filename]
        return connects, gets

    def test_password_encoded_once_in_https_proxy(self):
        # HTTPS_PROXY for the index (a CONNECT tunnel), http_proxy for the plain-HTTP mirror (a GET).
        url = self.squid.url(self.USER, encoded(self.PASSWORD))
        self.squid_clear()
        p = self.goinstall(self.install_args(mirror=self.http_base), {"HTTPS_PROXY": url, "http_proxy": url})
        self.assert_installed(p)
        connects, gets = self.tunnels_and_gets(self.USER)
        self.assertGreaterEqual(len(connects), 1, self.squid.access_entries())
        self.assertEqual(len(gets), 1, self.squid.access_entries())
        h.assert_no_secret([p.stdout, p.stderr], self.PASSWORD)

    def test_proxy_user_flag_given_raw(self):
        self.squid_clear()
        p = self.goinstall(self.install_args(mirror=self.http_base) +
                           ["--proxy", self.squid.url(), "--proxy-user", f"{self.USER}:{self.PASSWORD}"])
        self.assert_installed(p)
        connects, gets = self.tunnels_and_gets(self.USER)
        self.assertGreaterEqual(len(connects), 1, self.squid.access_entries())
        self.assertEqual(len(gets), 1, self.squid.access_entries())
        h.assert_no_secret([p.stdout, p.stderr], self.PASSWORD)

    def test_wrong_password_is_the_proxy_auth_exit(self):
        wrong = "pa%42ss:w@rd"
        self.squid_clear()
        p = self.goinstall(self.install_args(), {"HTTPS_PROXY": self.squid.url(self.USER, encoded(wrong))})
        self.assertEqual(p.returncode, EXIT_PROXY_AUTH, p.stdout + p.stderr)
        self.assertIn(f"refused the credentials given for user '{self.USER}'", p.stderr)
        denied = self.squid.wait_for_access(lambda e: e.code == "TCP_DENIED" and e.status == 407)
        self.assertTrue(any(e.method == "CONNECT" and e.status == 407 for e in denied), denied)
        h.assert_no_secret([p.stdout, p.stderr], wrong)

    def test_stock_ssl_ports_rule_refuses_a_tunnel_to_another_port(self):
        self.squid_clear()
        p = self.goinstall(self.install_args(),
                           {"HTTPS_PROXY": self.squid.url(self.USER, encoded(self.PASSWORD), stock=True)})
        self.assertEqual(p.returncode, EXIT_NETWORK, p.stdout + p.stderr)
        self.assertIn("CONNECT answered 403", p.stderr)
        self.assertIn("may only allow tunnels to port 443", p.stderr)
        self.assertIn(f"port {self.https.port}", p.stderr)
        denied = self.squid.wait_for_access(lambda e: e.code == "TCP_DENIED" and e.status == 403)
        self.assertTrue(any(e.method == "CONNECT" and e.url == f"mirror.test:{self.https.port}" for e in denied),
                        denied)
        h.assert_no_secret([p.stdout, p.stderr], self.PASSWORD)

    def squid_clear(self):
        open(self.squid.access_log, "w").close()  # squid appends (O_APPEND): safe to truncate


class MicrosocksAuth(RealProxyBase):
    USER = "bob"
    PASSWORD = "so%41ck@s:x"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.socks = rp.Microsocks(cls.dir, cls.hosts, cls.USER, cls.PASSWORD)
        cls.addClassCleanup(cls.socks.close)

    def test_install_through_socks5_with_credentials(self):
        self.https.clear_access_log()
        tunnels = self.socks.tunnels(f"mirror.test:{self.https.port}")
        p = self.goinstall(self.install_args(),
                           {"HTTPS_PROXY": self.socks.url("socks5h", self.USER, encoded(self.PASSWORD))})
        self.assert_installed(p)
        paths = [e.path for e in self.https.wait_for_log(2)]
        self.assertIn("/" + self.archive.filename, paths)
        self.assertIn("/dl/", paths)
        self.assertGreaterEqual(self.socks.tunnels(f"mirror.test:{self.https.port}") - tunnels, 2,
                                self.socks.lines())
        h.assert_no_secret([p.stdout, p.stderr], self.PASSWORD)

    def test_wrong_password(self):
        wrong = "so%41ck@s:y"
        p = self.goinstall(self.install_args(), {"HTTPS_PROXY": self.socks.url("socks5h", self.USER, encoded(wrong))})
        self.assertEqual(p.returncode, EXIT_PROXY_AUTH, p.stdout + p.stderr)
        self.assertIn("SOCKS5 proxy", p.stderr)
        self.assertIn(f"refused the user name and password given for user '{self.USER}'", p.stderr)
        self.assertNotIn("closed the connection", p.stderr)
        h.assert_no_secret([p.stdout, p.stderr], wrong)

    def test_missing_credentials(self):
        p = self.goinstall(self.install_args(), {"HTTPS_PROXY": self.socks.url("socks5h")})
        self.assertEqual(p.returncode, EXIT_PROXY_AUTH, p.stdout + p.stderr)
        self.assertIn("SOCKS5 proxy", p.stderr)
        self.assertIn("requires a user name and password", p.stderr)
        self.assertNotIn("closed the connection", p.stderr)


if __name__ == "__main__":
    unittest.main()
