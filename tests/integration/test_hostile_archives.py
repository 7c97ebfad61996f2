"""Hostile archives end to end: each one is built here (tarfile/zipfile), published in the index
with its true SHA-256 (so it passes verification and reaches the extractor), and installed over
a working toolchain. Escapes aim at a sentinel directory beside the root, by relative and by
absolute path.

Each case: exit 8, one error line naming the problem, the old toolchain current and unchanged,
no staging left, and — comparing snapshots of the whole test directory (home, root, sentinel)
taken before and after — nothing written anywhere except goinstall's own bookkeeping (the index
cache, the lock). Modes are the one documented exception: set-id, sticky and group/other write
bits are dropped, not refused, so that archive installs with its modes capped at 0755.

Hostile `bin/go` binaries (hanging, flooding, closing their output, leaving a child on the pipe)
run with the check's deadline set to CHECK_S by GOINSTALL_CHECK_TIMEOUT; each sleeps HANG_S, so
PROMPT (3x under HANG_S) separates "ended at the deadline" from "waited for the child"."""
import gzip
import hashlib
import io
import os
import signal
import stat
import subprocess
import sys
import tarfile
import time
import unittest
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
import goinstall_harness as h  # noqa: E402
import fault_server as fsrv  # noqa: E402
import reliability as rel  # noqa: E402

OLD, NEW = "go1.21.0", "go1.22.0"
EXIT_BAD_ARCHIVE = 8
EXIT_CANCELLED = 130
CHECK_S = 4      # GOINSTALL_CHECK_TIMEOUT for the hostile bin/go cases
HANG_S = 60      # how long a hostile bin/go (and what it forks) sleeps
PROMPT = 20.0    # 3x under HANG_S
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
                zi.external_attr = ((0o40000 | mode) << 16) | 0x10
                zf.writestr(zi, b"")
            elif kind == "symlink":
                zi.external_attr = (0o120777 << 16)
                zf.writestr(zi, data.encode())
            elif kind == "fifo":  # libarchive 3.6 reads this as a regular file
                zi.external_attr = (0o010644 << 16)
                zf.writestr(zi, b"")
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
        with open(self.old.path, "rb") as f:
            self.srv = fsrv.start_fault_server(self, {"dl/" + self.old.filename: f.read()})
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

    def goinstall(self, args, env=None):
        return h.run_goinstall(list(args) + [
            "--index-url", self.srv.url + "dl/?mode=json&include=all", "--allow-insecure-index",
            "--mirror", self.srv.url + "dl/", "--no-fallback", "--root", self.root], home=self.home, timeout=120,
            env_extra=env)

    def state(self):
        snap = rel.snapshot(self.base)
        return {k: v for k, v in snap.items() if not k.startswith(BOOKKEEPING)}

    def attempt(self, data, words, filename=None, env=None):
        self.publish(data, filename)
        before = self.state()
        r = self.goinstall([NEW], env)
        self.assertEqual(r.returncode, EXIT_BAD_ARCHIVE, r.output)
        errors = [ln for ln in r.stderr.splitlines() if ln.startswith("goinstall: error:")]
        self.assertEqual(len(errors), 1, r.stderr)
        self.assertRegex(errors[0], words)
        self.assertEqual(rel.diff_snapshots(before, self.state()), [], "something was written outside staging")
        self.assertEqual(os.readlink(os.path.join(self.root, "current")), OLD)
        self.assertFalse(any("pwned" in p for p in rel.snapshot(self.base)))
        self.assertEqual(os.listdir(os.path.join(self.root, ".downloads")), [], "the hostile archive was kept")
        self.assertEqual([n for n in os.listdir(self.root) if n.startswith(".goinstall-")], [], "staging left")
        return errors[0]

    def hostile_go(self, body):
        """A go1.22.0 archive whose bin/go records its process group in a file, then runs `body`."""
        self.pidfile = os.path.join(h.tmpfs_path(self, "pids-"), "pgid")
        script = '#!/bin/sh\necho $$ > "$HOSTILE_PIDFILE"\n' + body
        arc = h.fake_toolchain_archive(NEW, h.tmpfs_path(self, "arc-"), go_script=script)
        with open(arc.path, "rb") as f:
            return arc, f.read()

    def recorded_pgid(self):
        """The process group bin/go wrote, or None until the whole line is there (the shell
        creates the file before it writes to it)."""
        try:
            with open(self.pidfile) as f:
                line = f.read()
        except FileNotFoundError:
            return None
        return int(line) if line.endswith("\n") else None

    def assert_group_gone(self):
        """The hostile bin/go ran, and neither it nor anything it forked is left."""
        pgid = self.recorded_pgid()
        self.assertIsNotNone(pgid, "bin/go did not record its process group")

        def gone():
            try:
                os.killpg(pgid, 0)
            except ProcessLookupError:
                return True
            return False
        # Bounded: killed members are reaped by init asynchronously.
        self.assertTrue(h.wait_until(gone, timeout=10), f"process group {pgid} of bin/go is still alive")

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
            "hard links beyond the limit": [file("go/t")] + [(f"go/l{i}", "hardlink", "go/t", 0o644) for i in range(1001)],
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

    def test_hostile_go_binaries_end_at_the_deadline(self):
        cases = {
            "hangs": (f"exec sleep {HANG_S}\n", rf"did not finish within {CHECK_S} s"),
            "floods stdout": ("exec yes go version\n", r"printed more than 64 KiB"),
            "closes stdout and sleeps": (f"exec >&- 2>&-\nsleep {HANG_S}\n", r"did not finish"),
            "writes 64 KiB and sleeps": (f"head -c 65536 /dev/zero\nexec sleep {HANG_S}\n", r"did not finish"),
            "forks a child that keeps the pipe open":
                (f"sleep {HANG_S} &\necho go version {NEW} linux/{h.goarch()}\n", r"did not finish"),
        }
        for label, (body, words) in cases.items():
            with self.subTest(label):
                _, data = self.hostile_go(body)
                t0 = time.monotonic()
                self.attempt(data, words, env={"GOINSTALL_CHECK_TIMEOUT": str(CHECK_S),
                                               "HOSTILE_PIDFILE": self.pidfile})
                self.assertLess(time.monotonic() - t0, PROMPT, "goinstall waited for the hostile bin/go")
                self.assert_group_gone()

    def test_ctrl_c_during_the_check_of_a_local_archive(self):
        # install --archive: the check must be cancellable there too (default 30 s deadline, so
        # only the signal can end it before PROMPT... and HANG_S).
        arc, _ = self.hostile_go(f"sleep {HANG_S} &\nexec sleep {HANG_S}\n")
        before = self.state()
        proc, _ = h.popen_goinstall(["install", "--archive", arc.path, NEW, "--sha256", arc.sha256,
                                     "--root", self.root], env_extra={"HOSTILE_PIDFILE": self.pidfile},
                                    home=self.home)
        self.addCleanup(h.kill_process_group, proc, 1)
        # Wait for the whole line: a signal between the shell's open and write would leave it empty.
        self.assertTrue(h.wait_until(lambda: self.recorded_pgid() is not None or proc.poll() is not None, timeout=30),
                        "bin/go was never run")
        if proc.poll() is not None:
            self.fail("goinstall ended before the signal: " + proc.communicate()[1])
        t0 = time.monotonic()
        proc.send_signal(signal.SIGINT)
        try:
            _, err = proc.communicate(timeout=HANG_S * 2)
        except subprocess.TimeoutExpired:
            self.fail("goinstall did not end on SIGINT")
        self.assertEqual(proc.returncode, EXIT_CANCELLED, err)
        self.assertLess(time.monotonic() - t0, PROMPT)
        self.assert_group_gone()
        self.assertEqual(rel.diff_snapshots(before, self.state()), [])
        self.assertEqual(os.readlink(os.path.join(self.root, "current")), OLD)

    def test_bomb_that_really_inflates(self):
        # 1.1 GiB of zeros in ~1.2 MiB: refused on the declared size before a byte is written.
        line = self.attempt(gzip_bomb(1100 << 20), r"(limit|larger)")
        self.assertIn("go/pkg/bomb", line)

    def test_overlong_names(self):
        # PAX records carry names longer than a file system takes: refused as unsafe (8), not
        # met as ENAMETOOLONG (a file-system error, 10).
        long_part = "a" * 300
        deep = "go/" + "/".join(["d" * 200] * 25)  # 5,000 bytes of 200-byte components
        cases = {
            "component over NAME_MAX": ("file", "go/" + long_part, None),
            "path over PATH_MAX": ("file", deep, None),
            "symlink target over PATH_MAX": ("symlink", "go/lnk", "/".join(["x"] * 2600)),
            "hard link to an overlong name": ("hardlink", "go/hl", "go/" + long_part),
        }
        for label, (kind, name, target) in cases.items():
            with self.subTest(label):
                buf = io.BytesIO()
                with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
                    for n, k, data, mode in base_members():
                        ti = tarfile.TarInfo(n)
                        ti.mode = mode
                        if k == "dir":
                            ti.type = tarfile.DIRTYPE
                            tf.addfile(ti)
                        else:
                            ti.size = len(data)
                            tf.addfile(ti, io.BytesIO(data))
                    ti = tarfile.TarInfo(name)
                    if kind == "symlink":
                        ti.type, ti.linkname = tarfile.SYMTYPE, target
                    elif kind == "hardlink":
                        ti.type, ti.linkname = tarfile.LNKTYPE, target
                    tf.addfile(ti, io.BytesIO(b""))
                self.attempt(gzip.compress(buf.getvalue(), mtime=0), r"(too long|unsafe)")

    def test_bidi_and_control_characters_in_names_are_not_printed(self):
        # U+202E RIGHT-TO-LEFT OVERRIDE, U+2066 LRI, an ANSI escape, C1 CSI: none reaches the terminal.
        hostile = "go/evil\u202egnp.exe\u2066\x1b[2J\u009b1m\r"
        for label, data, filename in (
                ("tar", tar_bytes(base_members() + [(hostile, "chr", None, 0o644)]), None),
                ("zip", zip_bytes(base_members() + [(hostile + "/../x", "file", b"x", 0o644)]),
                 f"{NEW}.linux-{h.goarch()}.zip")):
            with self.subTest(label):
                # A zip's UTF-8-flagged name may not convert to the C locale: refused unnamed then.
                line = self.attempt(data, r"(unsafe entry \"go/evil\?+gnp\.exe|no readable name)", filename=filename)
                for bad in ("\u202e", "\u2066", "\x1b", "\u009b", "\r"):
                    self.assertNotIn(bad, line)
                r = self.goinstall([NEW, "--json"])
                self.assertEqual(r.returncode, EXIT_BAD_ARCHIVE, r.output)
                for bad in ("\u202e", "\u2066", "\x1b", "\u009b", "\\u202e", "\\u001b"):
                    self.assertNotIn(bad, r.stdout.lower() if bad.startswith("\\") else r.stdout)

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
            "fifo": [("go/fifo", "fifo", None, 0o644)],
        }
        for label, extra in cases.items():
            with self.subTest(label):
                data = zip_bytes(base_members() + extra)
                self.attempt(data, r"(unsafe|not allowed|outside|backslash|drive|corrupt)",
                             filename=f"{NEW}.linux-{h.goarch()}.zip")

    def test_modes_are_capped_at_0755(self):
        # A 01777 directory must not install as a world-writable 0777 one (in /usr/local/go as
        # root, any user could then change the toolchain), from a tar or a zip alike.
        members = base_members() + [("go/bin/suid", "file", b"#!/bin/sh\n", 0o6755), ("go/tmp", "dir", None, 0o1777),
                                    ("go/open", "dir", None, 0o777), ("go/all", "file", b"x", 0o777),
                                    ("go/shared", "file", b"x", 0o666)]
        want = {"bin/suid": 0o755, "tmp": 0o755, "open": 0o755, "all": 0o755, "shared": 0o644}
        for label, data, filename in (("tar", tar_bytes(members), None),
                                      ("zip", zip_bytes(members), f"{NEW}.linux-{h.goarch()}.zip")):
            with self.subTest(label):
                self.publish(data, filename)
                r = self.goinstall([NEW, "--reinstall"])
                self.assertEqual(r.returncode, 0, r.output)
                got = {rel_: stat.S_IMODE(os.stat(os.path.join(self.root, NEW, rel_)).st_mode) for rel_ in want}
                self.assertEqual({k: oct(v) for k, v in got.items()}, {k: oct(v) for k, v in want.items()})


if __name__ == "__main__":
    unittest.main()
