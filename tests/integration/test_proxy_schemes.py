"""Proxy schemes and authentication beyond tinyproxy's Basic: SOCKS5 with local name resolution,
SOCKS4 and SOCKS4a, an https:// proxy (TLS to the proxy, trusted through --cacert), and a proxy
demanding Digest (RFC 7616). Each install is proven by the log of the proxy it went through; a
wrong Digest password is the proxy-auth exit code, with the password nowhere in the output."""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
import fault_server as fs  # noqa: E402
import goinstall_harness as h  # noqa: E402
import proxy_harness as ph  # noqa: E402

EXIT_USAGE, EXIT_TLS, EXIT_PROXY_AUTH = 2, 5, 6


class ProxyAuthFlag(unittest.TestCase):
    def test_bad_proxy_auth_value_is_a_usage_error_naming_it(self):
        home = h.tmpfs_path(self, "goinstall-proxyauth-")
        r = h.run_goinstall(["proxy", "https://go.dev/", "--no-system-proxy", "--proxy", "http://127.0.0.1:9",
                             "--proxy-auth", "kerberos5"], home=home)
        self.assertEqual(r.returncode, EXIT_USAGE, r.output)
        self.assertIn("--proxy-auth", r.stderr)
        self.assertIn("kerberos5", r.stderr)


@unittest.skipUnless(ph.available(), "needs tinyproxy and unshare (mount namespaces)")
class Schemes(ph.ProxyTestBase):
    def test_socks5_socks4_and_socks4a(self):
        socks = ph.socks_server(self.dir, self.hosts)
        self.addCleanup(socks.close)
        port = self.nginx.port
        cases = [("socks5", f"CONNECT 127.0.0.1:{port} atyp=1"),  # goinstall resolved mirror.test itself
                 ("socks4", f"CONNECT4 127.0.0.1:{port}"),
                 ("socks4a", f"CONNECT4a mirror.test:{port}")]   # the proxy resolved it
        seen = 0
        for scheme, line in cases:
            with self.subTest(scheme=scheme):
                p = self.goinstall(self.install_args() + ["--proxy", f"{scheme}://127.0.0.1:{socks.port}"])
                self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
                lines = socks.lines()
                self.assertEqual(lines[seen:], [line] * 2)  # index and archive
                seen = len(lines)
        self.assertEqual(self.connects(), 0)  # tinyproxy saw nothing

    def test_https_proxy_tls_to_the_proxy(self):
        front_cert = h.make_cert(os.path.join(self.dir, "ca"), self.ca, names=["127.0.0.1"])
        front = ph.tls_front(self.dir, self.hosts, front_cert, self.proxy.port)
        self.addCleanup(front.close)
        url = f"https://{self.USER}:{self.PASSWORD}@127.0.0.1:{front.port}"
        p = self.goinstall(self.install_args(), {"HTTPS_PROXY": url})
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(self.connects(), 2)
        self.assertGreaterEqual(front.lines().count("TLS accepted"), 1)
        h.assert_no_secret([p.stdout, p.stderr], self.PASSWORD)
        # The proxy's certificate is verified: one from a CA nobody trusts fails as TLS.
        other = h.make_ca(os.path.join(self.dir, "other"), name="untrusted proxy CA")
        bad = ph.tls_front(self.dir, self.hosts, h.make_cert(os.path.join(self.dir, "other"), other,
                                                              names=["127.0.0.1"]), self.proxy.port)
        self.addCleanup(bad.close)
        p = self.goinstall(self.install_args(), {"HTTPS_PROXY": f"https://{self.USER}:{self.PASSWORD}@127.0.0.1:{bad.port}"})
        self.assertEqual(p.returncode, EXIT_TLS, p.stdout + p.stderr)
        self.assertEqual(self.connects(), 2)

    def test_digest_proxy(self):
        digest = ph.digest_proxy(self.dir, self.hosts, self.USER, self.PASSWORD)
        self.addCleanup(digest.close)
        plain = fs.start_fault_server(self, {})
        plain.put_file(self.archive.filename, self.archive.path)
        mirror = f"http://other.test:{plain.port}/"  # archives may come over plain http: a proxied GET
        proxy = f"http://127.0.0.1:{digest.port}"
        args = self.install_args(mirror=mirror) + ["--proxy", proxy, "--proxy-auth", "digest"]
        p = self.goinstall(args + ["--proxy-user", f"{self.USER}:{self.PASSWORD}"])
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        ok = [ln for ln in digest.lines() if ln.startswith("OK ")]
        self.assertEqual(ok, [f"OK CONNECT mirror.test:{self.nginx.port} user={self.USER}",
                              f"OK GET {mirror}{self.archive.filename} user={self.USER}"])
        self.assertTrue(any(ln.startswith("407 CONNECT") for ln in digest.lines()))
        self.assertEqual([r.path for r in plain.requests()], ["/" + self.archive.filename])
        wrong = "n0t-the-Pa55"
        for json_out in (False, True):
            with self.subTest(json=json_out):
                p = self.goinstall(args + ["--proxy-user", f"{self.USER}:{wrong}"], json_out=json_out)
                self.assertEqual(p.returncode, EXIT_PROXY_AUTH, p.stdout + p.stderr)
                self.assertIn(f"127.0.0.1:{digest.port}", p.stdout + p.stderr)
                h.assert_no_secret([p.stdout, p.stderr], wrong)
                if json_out:
                    self.assertEqual(json.loads(p.stdout.splitlines()[-1])["error"]["code"], "proxy_auth")
        self.assertTrue(any(ln.startswith("DENIED CONNECT") for ln in digest.lines()))
        self.assertEqual(len([ln for ln in digest.lines() if ln.startswith("OK ")]), 2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
