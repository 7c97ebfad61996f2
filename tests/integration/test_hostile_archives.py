"""Hostile archives end to end: each one is built here (tarfile/zipfile), published in the index
with its true SHA-256 (so it passes verification and reaches the extractor), and installed over
a working toolchain. Escapes aim at a sentinel directory beside the root, by relative and by
absolute path.

Each case: exit 8, one error line naming the problem, the old toolchain current and unchanged,
no staging left, and — comparing snapshots of the whole test directory (home, root, sentinel)
taken before and after — nothing written anywhere except goinstall's own bookkeeping (the index
cache, the lock). Set-id bits are the one documented exception: they are dropped, not refused,
so that archive installs with the bits cleared."""
import gzip
import hashlib
import io
import os
import stat
import sys
import tarfile
import unittest
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
import goinstall_harness as h  # noqa: E402
import fault_server as fsrv  # noqa: E402
import reliability as rel  # noqa: E402

OLD, NEW = "go1.21.0", "go1.22.0"
EXIT_BAD_ARCHIVE = 8
BOOKKEEPING = ("home/.cache/", "home/tmp/", "root/.downloads", "root/.lock")


def base_members():
    """The members of a valid fake go1.22.0 tree: (name, type, data/target, mode)."""
    return [("go", "dir", None, 0o755), ("go/bin", "dir", None, 0o755),
            ("go/VERSION", "file", f"{NEW}\n".encode(), 0o644),
            ("go/bin/go", "file", f"#!/bin/sh\necho go version {NEW} linux/{h.goarch()}\n".encode(), 0o755)]


def tar_bytes(members, compress=True):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tf:
        for name, kind, data, mode in members:
            ti = tarfile.TarInfo(name)
            ti.mode = mode
            if kind == "dir":
                ti.type = tarfile.DIRTYPE
                tf.addfile(ti)
            elif kind == "file":
                ti.size = len(data)
                tf.addfile(ti, io.BytesIO(data))
            elif kind == "symlink":
                ti.type, ti.linkname = tarfile.SYMTYPE, data
                tf.addfile(ti)
            elif kind == "hardlink":
                ti.type, ti.linkname = tarfile.LNKTYPE, data
                tf.addfile(ti)
            elif kind == "chr":
                ti.type, ti.devmajor, ti.devminor = tarfile.CHRTYPE, 1, 3
                tf.addfile(ti)
            elif kind == "blk":
                ti.type, ti.devmajor, ti.devminor = tarfile.BLKTYPE, 8, 0
                tf.addfile(ti)
            elif kind == "fifo":
                ti.type = tarfile.FIFOTYPE
                tf.addfile(ti)
            elif kind == "huge":  # header declares `data` bytes; none follow
                ti.size = data
                buf.write(ti.tobuf(tarfile.GNU_FORMAT))
    raw = buf.getvalue()
    return gzip.compress(raw, mtime=0) if compress else raw


def zip_bytes(members):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, kind, data, mode in members:
            zi = zipfile.ZipInfo(name)
            if kind == "dir":
                zi.external_attr = (0o40755 << 16) | 0x10
                zf.writestr(zi, b"")
            elif kind == "symlink":
                zi.external_attr = (0o120777 << 16)
                zf.writestr(zi, data.encode())
            else:
                zi.external_attr = (0o100000 | mode) << 16
                zf.writestr(zi, data)
    return buf.getvalue()


def gzip_bomb(total: int) -> bytes:
    """A .tar.gz whose last file header declares `total` bytes (a multiple of 1 MiB) and whose
    gzip stream really inflates to that many zeros — concatenated gzip members of 1 MiB of zeros
    each, ~1 KiB apiece."""
    parts = []
    for name, kind, data, mode in base_members():
        ti = tarfile.TarInfo(name)
        ti.mode = mode
        if kind == "dir":
            ti.type = tarfile.DIRTYPE
            parts.append(ti.tobuf(tarfile.GNU_FORMAT))
        else:
            ti.size = len(data)
            parts.append(ti.tobuf(tarfile.GNU_FORMAT) + data + b"\0" * (-len(data) % 512))
    ti = tarfile.TarInfo("go/pkg/bomb")
    ti.size, ti.mode = total, 0o644
    parts.append(ti.tobuf(tarfile.GNU_FORMAT))
    one = gzip.compress(b"\0" * (1 << 20), mtime=0)
    return gzip.compress(b"".join(parts), mtime=0) + one * (total >> 20)


class HostileArchives(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        h.goinstall_bin()
        cls.tmp = h.tmpfs_dir("goinstall-harc-")
        cls.addClassCleanup(cls.tmp.cleanup)
        cls.old = h.fake_toolchain_archive(OLD, os.path.join(cls.tmp.name, "a"))

    def setUp(self):
        self.base = h.tmpfs_path(self, "harc-")
        self.sentinel = os.path.join(self.base, "sentinel")
        os.makedirs(self.sentinel)
        with open(os.path.join(self.sentinel, "secret"), "w") as f:
            f.write("do not touch\n")
        self.home = os.path.join(self.base, "home")
        self.root = os.path.join(self.base, "root")
        os.makedirs(self.home)
        self.srv = fsrv.start_fault_server(self, {"dl/" + self.old.filename: open(self.old.path, "rb").read()})
        self.publish(None)
        r = self.goinstall([OLD])
        self.assertEqual(r.returncode, 0, r.output)

    def publish(self, data, filename=None):
        """Puts `data` in the index as go1.22.0 for this host, with its real checksum."""
        files = [self.old]
        if data is not None:
            filename = filename or f"{NEW}.linux-{h.goarch()}.tar.gz"
            self.srv.put("dl/" + filename, data)
            files.append(h.index_file(filename, NEW, "linux", h.goarch(), hashlib.sha256(data).hexdigest(), len(data)))
        self.srv.put("dl/index.json", h.make_index(files))

    def goinstall(self, args):
        return h.run_goinstall(list(args) + [
            "--index-url", self.srv.url + "dl/?mode=json&include=all", "--allow-insecure-index",
            "--mirror", self.srv.url + "dl/", "--no-fallback", "--root", self.root], home=self.home, timeout=60)

    def state(self):
        snap = rel.snapshot(self.base)
        return {k: v for k, v in snap.items() if not k.startswith(BOOKKEEPING)}

    def attempt(self, data, words, filename=None):
        self.publish(data, filename)
        before = self.state()
        r = self.goinstall([NEW])
        self.assertEqual(r.returncode, EXIT_BAD_ARCHIVE, r.output)
        errors = [ln for ln in r.stderr.splitlines() if ln.startswith("goinstall: error:")]
        self.assertEqual(len(errors), 1, r.stderr)
        self.assertRegex(errors[0], words)
        self.assertEqual(rel.diff_snapshots(before, self.state()), [], "something was written outside staging")
        self.assertEqual(os.readlink(os.path.join(self.root, "current")), OLD)
        self.assertFalse(any("pwned" in p for p in rel.snapshot(self.base)))
        self.assertEqual(os.listdir(os.path.join(self.root, ".downloads")), [], "the hostile archive was kept")
        return errors[0]

    def test_hostile_tar_archives(self):
        s = self.sentinel
        rel_s = os.path.relpath(s, os.path.join(self.root, ".goinstall-staging-x", "go"))
        file = lambda name, data=b"pwned\n": (name, "file", data, 0o644)  # noqa: E731
        cases = {
            "dot-dot": [file(f"go/{rel_s}/pwned")],
            "dot-dot at the top": [file("../sentinel/pwned")],
            "absolute path": [file(s + "/pwned-abs")],
            "symlink out, then write through it": [("go/out", "symlink", s, 0o777), file("go/out/pwned")],
            "relative symlink out, then write through": [("go/out", "symlink", rel_s, 0o777), file("go/out/pwned")],
            "symlink inside, then write through it": [("go/lnk", "symlink", "bin", 0o777), file("go/lnk/pwned")],
            "hard link to a file outside": [("go/hl", "hardlink", s + "/secret", 0o644)],
            "hard link with dot-dot": [("go/hl", "hardlink", f"go/{rel_s}/secret", 0o644)],
            "device node": [("go/null", "chr", None, 0o666)],
            "block device": [("go/disk", "blk", None, 0o660)],
            "fifo": [("go/fifo", "fifo", None, 0o644)],
            "outside the top go/": [file("notgo/pwned")],
            "a sibling of go/ with its prefix": [file("gox/pwned")],
            "duplicate file": [file("go/VERSION", b"go1.99.0\n")],
            "file replaces a directory": [file("go/bin", b"pwned\n")],
            "declared size of 5 GiB": [("go/pkg/huge", "huge", 5 << 30, 0o644)],
        }
        for label, extra in cases.items():
            with self.subTest(label):
                self.attempt(tar_bytes(base_members() + extra), r"(unsafe|not allowed|outside|corrupt|limit|larger)")

    def test_trees_the_toolchain_check_refuses(self):
        # Safe to extract, but not this host's Go toolchain: the check refuses them, nothing is left.
        without_version = [m for m in base_members() if m[0] != "go/VERSION"]
        cases = {
            "only bin/go.exe": (base_members()[:3] + [("go/bin/go.exe", "file", b"MZ", 0o755)],
                                r"no go/bin/go \(only go/bin/go\.exe"),
            "VERSION of one 16 MiB line": (without_version + [("go/VERSION", "file", NEW.encode() + b"x" * (16 << 20), 0o644)],
                                           r"contains go1\.22\.0x"),
        }
        for label, (members, words) in cases.items():
            with self.subTest(label):
                self.attempt(tar_bytes(members), words)

    def test_bomb_that_really_inflates(self):
        # 1.1 GiB of zeros in ~1.2 MiB: refused on the declared size before a byte is written.
        line = self.attempt(gzip_bomb(1100 << 20), r"(limit|larger)")
        self.assertIn("go/pkg/bomb", line)

    def test_hostile_zip_archives(self):
        s = self.sentinel
        file = lambda name: (name, "file", b"pwned\n", 0o644)  # noqa: E731
        cases = {
            "backslashes": [file("go\\..\\..\\sentinel\\pwned")],
            "drive letter": [file("C:/sentinel/pwned")],
            "drive letter with backslash": [file("C:\\pwned")],
            "dot-dot": [file("go/../../sentinel/pwned")],
            "absolute": [file(s + "/pwned-abs")],
            "symlink out": [("go/out", "symlink", s, 0o777), file("go/out/pwned")],
        }
        for label, extra in cases.items():
            with self.subTest(label):
                data = zip_bytes(base_members() + extra)
                self.attempt(data, r"(unsafe|not allowed|outside|backslash|drive|corrupt)",
                             filename=f"{NEW}.linux-{h.goarch()}.zip")

    def test_setid_bits_are_dropped(self):
        members = base_members() + [("go/bin/suid", "file", b"#!/bin/sh\n", 0o6755), ("go/tmp", "dir", None, 0o1777)]
        self.publish(tar_bytes(members))
        r = self.goinstall([NEW])
        self.assertEqual(r.returncode, 0, r.output)
        mode = os.stat(os.path.join(self.root, NEW, "bin", "suid")).st_mode
        self.assertEqual(stat.S_IMODE(mode), 0o755)
        self.assertEqual(stat.S_IMODE(os.stat(os.path.join(self.root, NEW, "tmp")).st_mode), 0o777)


if __name__ == "__main__":
    unittest.main()
