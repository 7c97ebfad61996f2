"""The one install pipeline as the system sees it: `install` and `install --archive` make the same
durability step — a syncfs(2) of the staging file system before the commit rename — traced with
strace. Local files only (file:// index and mirror); no network at all."""
import os
import re
import shutil
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
import goinstall_harness as h  # noqa: E402

VERSION = "go1.21.3"


@unittest.skipUnless(shutil.which("strace"), "strace not installed")
class SyncBeforeCommit(unittest.TestCase):
    def setUp(self):
        self.dir = h.tmpfs_path(self, "goinstall-pipeline-")
        self.archive = h.fake_toolchain_archive(VERSION, os.path.join(self.dir, "mirror"))
        self.index = os.path.join(self.dir, "index.json")
        with open(self.index, "w") as f:
            f.write(h.make_index([self.archive]))

    def traced(self, args):
        trace = os.path.join(self.dir, "trace-%d.txt" % len(os.listdir(self.dir)))
        root = os.path.join(self.dir, "root-%d" % len(os.listdir(self.dir)))
        # LeakSanitizer cannot run under ptrace: in the sanitizer build, leave leak checks to the other tests.
        asan = (os.environ.get("ASAN_OPTIONS", "") + ":detect_leaks=0").lstrip(":")
        r = h.run_isolated(["strace", "-f", "-qq", "-o", trace, "-e", "trace=syncfs,fsync,rename,renameat,renameat2",
                            h.goinstall_bin(), *args, "--root", root], env_extra={"ASAN_OPTIONS": asan})
        self.assertEqual(r.returncode, 0, r.output)
        with open(trace) as f:
            lines = f.read().splitlines()
        return root, lines

    def assert_synced_then_committed(self, root, lines):
        target = os.path.join(root, VERSION)
        commit = [i for i, l in enumerate(lines) if re.search(r"rename\w*\(.*\"%s\"" % re.escape(target), l)]
        self.assertTrue(commit, "no rename onto %s in:\n%s" % (target, "\n".join(lines)))
        syncs = [i for i, l in enumerate(lines) if "syncfs(" in l and "= 0" in l]
        self.assertTrue(any(i < commit[0] for i in syncs),
                        "no successful syncfs before the commit rename:\n" + "\n".join(lines))

    def test_install_syncs_before_commit(self):
        root, lines = self.traced([VERSION, "--index-url", "file://" + self.index,
                                   "--mirror", "file://" + os.path.dirname(self.archive.path) + "/", "--no-fallback"])
        self.assert_synced_then_committed(root, lines)

    def test_install_archive_syncs_before_commit_too(self):
        root, lines = self.traced(["install", "--archive", self.archive.path, "--sha256", self.archive.sha256])
        self.assert_synced_then_committed(root, lines)


if __name__ == "__main__":
    unittest.main(verbosity=2)
