"""TLS trust: certificate failures get the TLS exit code and a message naming the problem; the same
server passes with --cacert, GOINSTALL_CACERT, SSL_CERT_FILE or SSL_CERT_DIR (a hashed directory). The index is the root of trust:
plain http is refused without an explicit opt-in, and redirects may not downgrade it or leave http(s)."""
import os
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
import fault_server as fs  # noqa: E402
import goinstall_harness as h  # noqa: E402

VERSION = "go1.21.3"
EXIT_USAGE, EXIT_NETWORK, EXIT_TLS = 2, 4, 5


class Tls(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = h.tmpfs_dir("goinstall-tls-")
        d = str(cls.tmp)
        cls.ca = h.make_ca(os.path.join(d, "ca"))
        cls.certs = h.make_cert_variants(os.path.join(d, "ca"), cls.ca)
        cls.archive = h.fake_toolchain_archive(VERSION, os.path.join(d, "a"))
        cls.index = h.make_index([cls.archive])

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def serve(self, cert):
        n = h.Nginx(docroot=h.tmpfs_path(self, "goinstall-tls-www-"), tls=True, cert=cert)
        n.start()
        self.addCleanup(n.close)
        n.put_file(self.archive.filename, self.archive.path)
        n.put("dl/index.json", self.index)
        return n

    def run_gi(self, nginx, extra=(), env=None, home=None):
        root = h.tmpfs_path(self, "goinstall-tls-root-")
        return h.run_goinstall([VERSION, "--index-url", nginx.url + "dl/?mode=json&include=all", "--mirror", nginx.url,
                                "--no-fallback", "--root", root, *extra], env_extra=env, home=home)

    def test_certificate_problems_are_named(self):
        cases = {
            "expired": "expired",
            "not_yet_valid": "not yet valid",
            "wrong_name": "subject name",
            "self_signed": "self-signed",
            "other_ca": "local issuer",
        }
        for variant, words in cases.items():
            with self.subTest(variant=variant):
                n = self.serve(self.certs[variant])
                r = self.run_gi(n, ["--cacert", self.ca.cert])
                self.assertEqual(r.returncode, EXIT_TLS, r.output)
                self.assertIn("TLS", r.stderr)
                self.assertIn(words, r.stderr)
                self.assertEqual(len([x for x in r.stderr.splitlines() if "error:" in x]), 1, r.stderr)

    def test_trust_anchors_from_flag_env_and_ssl_cert_file(self):
        n = self.serve(self.certs["good"])
        r = self.run_gi(n)
        self.assertEqual(r.returncode, EXIT_TLS, r.output)  # the test CA is not trusted by default
        self.assertEqual(self.run_gi(n, ["--cacert", self.ca.cert]).returncode, 0)
        self.assertEqual(self.run_gi(n, env={"GOINSTALL_CACERT": self.ca.cert}).returncode, 0)
        self.assertEqual(self.run_gi(n, env={"SSL_CERT_FILE": self.ca.cert}).returncode, 0)
        r = self.run_gi(n, ["--cacert", "/nonexistent/ca.pem"])
        self.assertEqual(r.returncode, EXIT_USAGE, r.output)
        self.assertIn("/nonexistent/ca.pem", r.stderr)

    def test_self_signed_server_passes_with_its_own_certificate(self):
        cert = self.certs["self_signed"]
        n = self.serve(cert)
        r = self.run_gi(n, ["--cacert", self.ca.cert])
        self.assertEqual(r.returncode, EXIT_TLS, r.output)
        r = self.run_gi(n, ["--cacert", cert.cert])  # the certificate is its own trust anchor
        self.assertEqual(r.returncode, 0, r.output)

    def test_ssl_cert_dir_with_a_hashed_directory(self):
        n = self.serve(self.certs["good"])
        base = h.tmpfs_path(self, "goinstall-tls-certdir-")
        hashed, empty = os.path.join(base, "certs"), os.path.join(base, "empty")
        os.makedirs(hashed)
        os.makedirs(empty)
        shutil.copy(self.ca.cert, os.path.join(hashed, "test-ca.pem"))
        for d in (hashed, empty):
            subprocess.run(["openssl", "rehash", d], check=True, capture_output=True, timeout=30)
        self.assertTrue(any(f.endswith(".0") for f in os.listdir(hashed)), os.listdir(hashed))
        r = self.run_gi(n, env={"SSL_CERT_DIR": empty})
        self.assertEqual(r.returncode, EXIT_TLS, r.output)  # a directory without the CA does not help
        r = self.run_gi(n, env={"SSL_CERT_DIR": hashed})
        self.assertEqual(r.returncode, 0, r.output)

    def test_plain_http_index_needs_an_explicit_opt_in(self):
        srv = fs.start_fault_server(self, {self.archive.filename: open(self.archive.path, "rb").read()})
        srv.put("dl/index.json", self.index)
        r = self.run_gi(srv)
        self.assertEqual(r.returncode, EXIT_USAGE, r.output)
        self.assertIn("--allow-insecure-index", r.stderr)
        self.assertEqual(srv.requests(), [])
        r = self.run_gi(srv, ["--allow-insecure-index"])
        self.assertEqual(r.returncode, 0, r.output)
        self.assertIn("warning", r.stderr)

    def test_index_redirects_may_not_downgrade_or_change_scheme(self):
        n = self.serve(self.certs["good"])
        plain = fs.start_fault_server(self, {})
        plain.put("dl/index.json", self.index)
        for target in (plain.url + "dl/index.json", "file:///etc/passwd", "ftp://127.0.0.1/index.json"):
            with self.subTest(target=target):
                tls = fs.start_fault_server(self, {}, tls_cert=self.certs["good"])
                tls.set_fault(fs.redirect(target))
                root = h.tmpfs_path(self, "goinstall-tls-root-")
                r = h.run_goinstall([VERSION, "--index-url", tls.url + "dl/?mode=json", "--mirror", n.url,
                                     "--no-fallback", "--root", root, "--cacert", self.ca.cert])
                self.assertNotEqual(r.returncode, 0, r.output)
                self.assertIn("refused a redirect", r.stderr)
        self.assertEqual(plain.requests(), [])

    def test_redirect_loop_is_bounded(self):
        tls = fs.start_fault_server(self, {}, tls_cert=self.certs["good"])
        tls.set_fault(fs.redirect("/dl/?mode=json"))
        root = h.tmpfs_path(self, "goinstall-tls-root-")
        r = h.run_goinstall([VERSION, "--index-url", tls.url + "dl/?mode=json", "--mirror", tls.url,
                             "--no-fallback", "--root", root, "--cacert", self.ca.cert])
        self.assertEqual(r.returncode, EXIT_NETWORK, r.output)
        self.assertIn("too many redirects", r.stderr)
        self.assertLessEqual(len(tls.requests()), 12)


if __name__ == "__main__":
    unittest.main(verbosity=2)
