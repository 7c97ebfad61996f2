"""Concurrent installs share one download; file:// mirrors; another OS/arch; --help on every verb."""
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
import goinstall_harness as h  # noqa: E402
from release_site import Site  # noqa: E402

VERSION = "go1.21.3"
VERBS = ["install", "list", "ls-remote", "use", "uninstall", "current", "env", "mirrors", "proxy"]


class MoreFlows(unittest.TestCase):
    def setUp(self):
        d = h.tmpfs_path(self, "goinstall-more-")
        self.archive = h.fake_toolchain_archive(VERSION, d, extra_files={"pkg/blob.bin": os.urandom(1 << 20)})
        self.arm = h.fake_toolchain_archive(VERSION, d, arch="arm64")
        self.site = Site(self, [self.archive, self.arm], tls=True)

    def test_concurrent_installs_download_once_and_all_succeed(self):
        procs = []
        for _ in range(4):
            p, _home = h.popen_goinstall([VERSION, *self.site.flags()], home=self.site.home)
            procs.append(p)
        codes = []
        for p in procs:
            try:
                p.wait(timeout=120)
            finally:
                h.kill_process_group(p)
            codes.append(p.returncode)
        self.assertEqual(codes, [0, 0, 0, 0])
        self.assertEqual(len(self.site.archive_requests()), 1)  # the others waited, then found it installed
        self.assertEqual(sorted(n for n in os.listdir(self.site.root) if not n.startswith(".")), ["current", VERSION])

    def test_file_mirror(self):
        mirror_dir = os.path.join(self.site.dir, "file-mirror")
        os.makedirs(mirror_dir)
        os.link(self.archive.path, os.path.join(mirror_dir, self.archive.filename))
        r = self.site.goinstall([VERSION, "--index-url", self.site.index_url, "--mirror", "file://" + mirror_dir + "/",
                                 "--no-fallback", "--root", self.site.root, "--cacert", self.site.cert.ca_cert],
                                flags=False)
        self.assertEqual(r.returncode, 0, r.output)
        self.assertEqual(self.site.archive_requests(), [])
        # A file:// mirror without the file is like a 404: the next mirror serves it.
        os.unlink(os.path.join(mirror_dir, self.archive.filename))
        r = self.site.goinstall([VERSION, "--reinstall", "--index-url", self.site.index_url,
                                 "--mirror", f"file://{mirror_dir}/,{self.site.mirror}", "--no-fallback",
                                 "--root", self.site.root, "--cacert", self.site.cert.ca_cert], flags=False)
        self.assertEqual(r.returncode, 0, r.output)
        self.assertEqual(len(self.site.archive_requests()), 1)

    def test_other_arch_installs_beside_without_switching(self):
        self.assertEqual(self.site.goinstall([VERSION]).returncode, 0)
        r = self.site.goinstall([VERSION, "--arch", "aarch64"])
        self.assertEqual(r.returncode, 0, r.output)
        other = os.path.join(self.site.root, f"{VERSION}.linux-arm64")
        with open(os.path.join(other, "VERSION")) as f:
            self.assertEqual(f.read().strip(), VERSION)
        self.assertEqual(os.readlink(os.path.join(self.site.root, "current")), VERSION)
        r = self.site.goinstall(["list", "--root", self.site.root], flags=False)
        self.assertEqual([line.split()[-2] for line in r.stdout.splitlines()], [VERSION, f"{VERSION}.linux-arm64"])
        r = self.site.goinstall([VERSION, "--os", "plan9", "--arch", "amd64"])
        self.assertEqual(r.returncode, 3, r.output)
        self.assertIn("no archive for plan9/amd64", r.stderr)
        self.assertIn("linux/", r.stderr)  # says what is available

    def test_every_verb_has_help(self):
        for verb in VERBS:
            with self.subTest(verb=verb):
                r = h.run_goinstall([verb, "--help"])
                self.assertEqual(r.returncode, 0, r.output)
                self.assertIn(f"goinstall {verb}", r.stdout)
                self.assertIn("Exit codes", r.stdout)
        r = h.run_goinstall(["--version"])
        self.assertRegex(r.stdout, r"^goinstall \d+\.\d+\.\d+")
        r = h.run_goinstall(["frobnicate"])
        self.assertEqual(r.returncode, 2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
