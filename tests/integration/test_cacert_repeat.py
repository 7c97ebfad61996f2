"""--cacert given twice trusts both files (a machine behind two HTTPS-inspecting proxies needs
both CAs): the index on a server signed by one test CA, the mirror on a server signed by another;
`config` lists both; a bad file among them is named in one usage line (exit 2)."""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
import goinstall_harness as h  # noqa: E402

VERSION = "go1.21.3"
EXIT_USAGE, EXIT_TLS = 2, 5


class RepeatedCacert(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls._tmp = h.tmpfs_dir("goinstall-cacert-")
        cls.addClassCleanup(cls._tmp.cleanup)
        d = cls._tmp.name
        cls.ca_index = h.make_ca(os.path.join(d, "ca1"), name="goinstall test CA one")
        cls.ca_mirror = h.make_ca(os.path.join(d, "ca2"), name="goinstall test CA two")
        arc = h.fake_toolchain_archive(VERSION, os.path.join(d, "a"))
        cls.index = h.Nginx(tls=True, cert=h.make_cert(os.path.join(d, "ca1"), cls.ca_index))
        cls.index.start()
        cls.addClassCleanup(cls.index.close)
        cls.mirror = h.Nginx(tls=True, cert=h.make_cert(os.path.join(d, "ca2"), cls.ca_mirror))
        cls.mirror.start()
        cls.addClassCleanup(cls.mirror.close)
        cls.index.put("dl/index.json", h.make_index([arc]))
        cls.mirror.put_file(arc.filename, arc.path)
        cls.args = [VERSION, "--index-url", cls.index.url_for("dl/?mode=json&include=all"), "--mirror",
                    cls.mirror.url, "--no-fallback", "--no-system-proxy", "--no-triage"]

    def test_both_files_are_trusted(self):
        root = h.tmpfs_path(self, "goinstall-cacert-root-")
        r = h.run_goinstall(self.args + ["--root", root, "--cacert", self.ca_index.cert,
                                         "--cacert", self.ca_mirror.cert])
        self.assertEqual(r.returncode, 0, r.output)
        self.assertTrue(os.path.exists(os.path.join(root, VERSION, "bin", "go")), r.output)
        self.assertIn("/dl/", [e.path for e in self.index.wait_for_log(1)])
        # Either file alone fails the other server's TLS: the test needs both.
        for only in (self.ca_index.cert, self.ca_mirror.cert):
            r = h.run_goinstall(self.args + ["--root", root, "--reinstall", "--cacert", only])
            self.assertEqual(r.returncode, EXIT_TLS, r.output)

    def test_config_lists_every_file(self):
        r = h.run_goinstall(["config", "--json", "--cacert", self.ca_index.cert, "--cacert", self.ca_mirror.cert])
        self.assertEqual(r.returncode, 0, r.output)
        self.assertIn(json.dumps([self.ca_index.cert, self.ca_mirror.cert]), json.dumps(json.loads(r.stdout)))
        r = h.run_goinstall(["config", "--cacert", self.ca_index.cert, "--cacert", self.ca_mirror.cert])
        self.assertEqual(r.returncode, 0, r.output)
        self.assertIn(self.ca_index.cert + ", ", r.stdout)  # the table cuts long values

    def test_a_bad_file_among_them_is_named(self):
        missing = os.path.join(self._tmp.name, "no-such-ca.pem")
        root = h.tmpfs_path(self, "goinstall-cacert-root-")
        r = h.run_goinstall(self.args + ["--root", root, "--cacert", self.ca_index.cert, "--cacert", missing])
        self.assertEqual(r.returncode, EXIT_USAGE, r.output)
        self.assertIn(f"--cacert {missing}: cannot read a PEM certificate", r.stderr)
        self.assertEqual(len([ln for ln in r.stderr.splitlines() if "error" in ln]), 1, r.stderr)


if __name__ == "__main__":
    unittest.main()
