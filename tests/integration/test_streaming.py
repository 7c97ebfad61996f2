"""Streaming install (issue 7): the archive is extracted from the growing .part while it downloads.

Checks that the result equals a plain `tar -xzf` of the archive (files, modes, contents), that a
corrupt transfer ends in exit 7 with the previous toolchain intact and no staging left, that a
SIGKILLed install resumes with Range on the next run, and that a mirror switch mid-stream keeps
the same stream (no re-extraction)."""
import json
import os
import stat
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
import fault_server as fs  # noqa: E402
import goinstall_harness as h  # noqa: E402
from release_site import Site  # noqa: E402

OLD, NEW = "go1.21.3", "go1.21.4"
BLOB = 8 << 20


def many_files():
    files = {f"src/p{i % 23}/f{i}.go": os.urandom(i * 13 % 5000) for i in range(600)}
    files["pkg/blob.bin"] = os.urandom(BLOB)
    files["bin/tool"] = b"#!/bin/sh\necho tool\n"
    return files


def tree(root):
    """{relative path: (kind, mode, size, sha256 or link target)} of everything under root."""
    out = {}
    for d, dirs, files in os.walk(root):
        for name in dirs + files:
            p = os.path.join(d, name)
            st = os.lstat(p)
            rel = os.path.relpath(p, root)
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("l", 0, 0, os.readlink(p))
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("d", stat.S_IMODE(st.st_mode) | 0o700, 0, "")
            else:
                out[rel] = ("f", stat.S_IMODE(st.st_mode), st.st_size, h.sha256_file(p))
    return out


class Streaming(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = h.tmpfs_dir("goinstall-streaming-")
        cls.old = h.fake_toolchain_archive(OLD, os.path.join(str(cls.tmp), "old"))
        cls.new = h.fake_toolchain_archive(NEW, os.path.join(str(cls.tmp), "new"), extra_files=many_files())
        with open(cls.new.path, "rb") as f:
            cls.data = f.read()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def setUp(self):
        self.site = Site(self, [self.old, self.new])

    def run_gi(self, version, mirrors, timeout=120):
        args = [version, "--index-url", self.site.index_url, "--allow-insecure-index", "--root",
                self.site.root, "--mirror", ",".join(mirrors), "--no-fallback", "--json"]
        r = h.run_goinstall(args, home=self.site.home, timeout=timeout)
        events = [json.loads(x) for x in r.stdout.splitlines() if x.startswith("{")]
        return r, events

    def assert_no_leftovers(self):
        left = [n for n in os.listdir(self.site.root) if n.startswith(".goinstall-staging")]
        self.assertEqual(left, [])

    def reextracted(self, events):
        return [e for e in events if "again from the verified file" in e.get("message", "")]

    def test_streamed_tree_equals_tar(self):
        r, events = self.run_gi(NEW, [self.site.mirror])
        self.assertEqual(r.returncode, 0, r.output)
        self.assertEqual(self.reextracted(events), [])
        ref = h.tmpfs_path(self, "ref-")
        subprocess.run(["tar", "-xzf", self.new.path, "-C", ref], check=True)
        self.assertEqual(tree(os.path.join(self.site.root, NEW)), tree(os.path.join(ref, "go")))
        self.assert_no_leftovers()

    def test_corrupt_stream_exit_7_previous_intact(self):
        r, _ = self.run_gi(OLD, [self.site.mirror])
        self.assertEqual(r.returncode, 0, r.output)
        before = tree(os.path.join(self.site.root, OLD))
        srv = fs.start_fault_server(self, {self.new.filename: self.data})
        srv.set_fault(fs.corrupt(positions=[len(self.data) // 3]))   # every response, mid-stream
        r, events = self.run_gi(NEW, [srv.url])
        self.assertEqual(r.returncode, 7, r.output)
        self.assertIn("checksum", r.output.lower())
        self.assertFalse(os.path.exists(os.path.join(self.site.root, NEW)))
        self.assertEqual(tree(os.path.join(self.site.root, OLD)), before)
        self.assertEqual(os.readlink(os.path.join(self.site.root, "current")), OLD)
        self.assert_no_leftovers()

    def test_sigkill_then_resume_streams_prefix_from_part(self):
        srv = fs.start_fault_server(self, {self.new.filename: self.data})
        rate = 4 << 20
        srv.set_fault(fs.drip(bytes_per_second=rate, max_seconds=60, times=1))
        args = [NEW, "--index-url", self.site.index_url, "--allow-insecure-index", "--root",
                self.site.root, "--mirror", srv.url, "--no-fallback", "--json"]
        proc, _ = h.popen_goinstall(args, home=self.site.home, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
        self.addCleanup(h.kill_process_group, proc)
        part = os.path.join(self.site.root, ".downloads", self.new.filename + ".part")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if os.path.exists(part) and os.path.getsize(part) > len(self.data) // 3:
                break
            time.sleep(0.02)
        os.killpg(proc.pid, 9)
        proc.wait(timeout=10)
        kept = os.path.getsize(part)
        self.assertGreater(kept, 0)
        r, events = self.run_gi(NEW, [srv.url])
        self.assertEqual(r.returncode, 0, r.output)
        reqs = [q for q in srv.requests() if q.path.endswith(self.new.filename)]
        self.assertEqual(reqs[-1].range_start, kept)
        self.assertEqual(self.reextracted(events), [])
        ref = h.tmpfs_path(self, "ref-")
        subprocess.run(["tar", "-xzf", self.new.path, "-C", ref], check=True)
        self.assertEqual(tree(os.path.join(self.site.root, NEW)), tree(os.path.join(ref, "go")))

    def test_mirror_switch_mid_stream_keeps_one_stream(self):
        a = fs.start_fault_server(self, {self.new.filename: self.data})
        a.set_fault([fs.truncate(at_fraction=0.4, times=1), fs.status(404)])
        r, events = self.run_gi(NEW, [a.url, self.site.mirror])
        self.assertEqual(r.returncode, 0, r.output)
        cut = [q for q in a.requests() if q.path.endswith(self.new.filename)][0]
        resumed = [e for e in self.site.nginx.requests_until_marker() if e.path.endswith(self.new.filename)]
        self.assertEqual(resumed[-1].range, f"bytes={cut.body_bytes_sent}-")
        self.assertEqual(self.reextracted(events), [])
        self.assertEqual(events[-1]["mirror"], self.site.mirror)
        with open(os.path.join(self.site.root, NEW, "pkg", "blob.bin"), "rb") as f:
            self.assertEqual(len(f.read()), BLOB)


if __name__ == "__main__":
    unittest.main()
