"""Shared helpers for goinstall's Python integration and CLI tests (standard library only).

Import from a test file with:

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
    import goinstall_harness as h

See README.md beside this file for an overview. House rules this module follows: traffic only to
loopback, ephemeral ports, every wait bounded, every server and temp dir cleaned up.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import fcntl
import gzip
import hashlib
import io
import ipaddress
import json
import os
import platform
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tarfile
import tempfile
import time
import unittest
import urllib.parse
import weakref
from typing import Callable, Iterable, Mapping, Optional, Sequence, Tuple, Union

__all__ = [
    "ToolchainArchive", "toolchain_archive", "fake_toolchain_archive", "REAL_GOROOT",
    "make_index", "index_file",
    "Nginx", "LogEntry", "free_port", "wait_for_port", "start_on_free_port",
    "CA", "CertFiles", "make_ca", "make_cert", "make_cert_variants",
    "goinstall_bin", "isolated_env", "run_isolated", "run_goinstall", "popen_goinstall",
    "kill_process_group", "GoinstallResult",
    "TmpfsDir", "tmpfs_dir", "tmpfs_path",
    "assert_no_secret", "tree_files", "sha256_file", "goarch",
]

REAL_GOROOT = "/usr/lib/go-1.19"   # Debian's golang-1.19-go
MARKER_PREFIX = "/goinstall-test-marker-"  # paths of Nginx.requests_until_marker's requests
# Bump when the layout of the cached real archive changes, so old caches are rebuilt.
_ARCHIVE_FORMAT = 2
# Fixed mtime for archive members: deterministic output.
_FIXED_MTIME = 1680000000  # 2023-03-28


def _log(msg: str) -> None:
    print(f"goinstall_harness: {msg}", file=sys.stderr, flush=True)


def goarch() -> str:
    """Go's name for this machine's architecture (amd64, arm64, ...)."""
    m = platform.machine().lower()
    return {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64",
            "i386": "386", "i686": "386", "armv7l": "armv6l", "ppc64le": "ppc64le",
            "s390x": "s390x", "riscv64": "riscv64"}.get(m, m)


def sha256_file(path: Union[str, os.PathLike]) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ------------------------------------------------------------------------------------------------
# Temp dirs on tmpfs
# ------------------------------------------------------------------------------------------------

def _tmpfs_root() -> str:
    if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK | os.X_OK):
        return "/dev/shm"
    return tempfile.gettempdir()


def _rmtree(path: str) -> None:
    """rmtree that also removes read-only dirs/files (chmod and retry)."""
    if not os.path.lexists(path):
        return

    def onerror(func, p, exc_info):
        try:
            parent = os.path.dirname(p)
            os.chmod(parent, 0o700)
            if not os.path.islink(p) and os.path.isdir(p):
                os.chmod(p, 0o700)
            func(p)
        except FileNotFoundError:
            pass
        except OSError:
            pass

    shutil.rmtree(path, onerror=onerror)


class TmpfsDir:
    """A fresh directory on tmpfs (/dev/shm, else the temp dir), removed by cleanup().

    Works like tempfile.TemporaryDirectory: `with tmpfs_dir("x") as path:`; or keep the object,
    use `.name` (or the object itself: it is os.PathLike) and call `.cleanup()` (e.g. with
    TestCase.addCleanup). Also removed when garbage-collected or at interpreter exit.
    """

    def __init__(self, prefix: str = "goinstall-test-"):
        self.name = tempfile.mkdtemp(prefix=prefix, dir=_tmpfs_root())
        self._finalizer = weakref.finalize(self, _rmtree, self.name)

    @property
    def path(self) -> str:
        return self.name

    def cleanup(self) -> None:
        self._finalizer()

    def __fspath__(self) -> str:
        return self.name

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"TmpfsDir({self.name!r})"

    def __enter__(self) -> str:
        return self.name

    def __exit__(self, *exc) -> None:
        self.cleanup()


def tmpfs_dir(prefix: str = "goinstall-test-") -> TmpfsDir:
    """A fresh directory on tmpfs; see TmpfsDir."""
    return TmpfsDir(prefix)


def tmpfs_path(testcase: unittest.TestCase, prefix: str = "goinstall-test-") -> str:
    """A fresh tmpfs directory whose removal is registered with testcase.addCleanup."""
    d = TmpfsDir(prefix)
    testcase.addCleanup(d.cleanup)
    return d.name


# ------------------------------------------------------------------------------------------------
# Toolchain archives
# ------------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class ToolchainArchive:
    path: str             # absolute path of the .tar.gz
    sha256: str           # hex, computed from the file
    size: int             # bytes
    version: str          # "go1.19.8"
    filename: str         # "go1.19.8.linux-amd64.tar.gz"
    os: str = "linux"
    arch: str = "amd64"
    kind: str = "archive"
    file_count: int = 0   # regular files in the archive (0 if unknown)
    build_seconds: float = 0.0  # time spent building in this call (0 when served from cache)


def _cache_dir() -> str:
    bd = os.environ.get("GOINSTALL_BUILD_DIR")
    d = os.path.join(bd, "test-cache") if bd else os.path.join(_tmpfs_root(), "goinstall-test-cache")
    os.makedirs(d, exist_ok=True)
    return d


def _real_version() -> str:
    with open(os.path.join(REAL_GOROOT, "VERSION"), encoding="utf-8") as f:
        return f.read().splitlines()[0].strip()


def _source_fingerprint() -> str:
    st = os.stat(os.path.join(REAL_GOROOT, "bin", "go"))
    return f"{_ARCHIVE_FORMAT}:{_real_version()}:{st.st_size}:{st.st_mtime_ns}"


class _FileLock:
    """Exclusive fcntl.flock on a file, acquired with a bounded wait."""

    def __init__(self, path: str, timeout: float = 900.0):
        self.path, self.timeout, self.fd = path, timeout, None

    def __enter__(self):
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + self.timeout
        announced = False
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self
            except BlockingIOError:
                if time.monotonic() > deadline:
                    os.close(self.fd)
                    raise TimeoutError(f"could not lock {self.path} within {self.timeout}s")
                if not announced:
                    _log(f"waiting for another process building into {os.path.dirname(self.path)}")
                    announced = True
                time.sleep(0.2)

    def __exit__(self, *exc):
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)


def _count_regular_files(root: str) -> int:
    n = 0
    for _dirpath, _dirs, files in os.walk(root, followlinks=True):
        for f in files:
            n += 1
    return n


def _build_real_archive(dest: str, members: Sequence[str] = (), level: str = "-1") -> float:
    """tar (dereferencing Debian's symlinks) | pigz/gzip > dest. Returns seconds taken.

    members: paths under the Go root to take (all of it when empty); level: the compressor's."""
    if not os.path.isfile(os.path.join(REAL_GOROOT, "bin", "go")):
        raise RuntimeError(f"{REAL_GOROOT}/bin/go missing: install golang-1.19-go "
                           "(scripts/deps.sh --test)")
    parent, base = os.path.split(REAL_GOROOT.rstrip("/"))
    gz = shutil.which("pigz") or shutil.which("gzip")
    if gz is None:
        raise RuntimeError("neither pigz nor gzip found")
    tar_cmd = ["tar", "-C", parent, "--create", "--file=-",
               "--dereference", "--hard-dereference",
               "--sort=name", "--owner=0", "--group=0", "--numeric-owner",
               f"--mtime=@{_FIXED_MTIME}", "--format=gnu",
               f"--transform=s,^{re.escape(base)},go,"]
    tar_cmd += [os.path.join(base, m) for m in members] if members else [base]
    env = dict(os.environ, LC_ALL="C")
    t0 = time.monotonic()
    with open(dest, "wb") as out:
        tar = subprocess.Popen(tar_cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        try:
            comp = subprocess.Popen([gz, level, "-n", "-c"], stdin=tar.stdout, stdout=out,
                                    stderr=subprocess.PIPE)
            tar.stdout.close()  # comp owns the read end now
            try:
                _, comp_err = comp.communicate(timeout=600)
                tar_err = tar.stderr.read()
                tar.wait(timeout=30)
            finally:
                if comp.poll() is None:
                    comp.kill()
                    comp.wait()
        finally:
            if tar.poll() is None:
                tar.kill()
                tar.wait()
            tar.stderr.close()
        if tar.returncode != 0 or comp.returncode != 0:
            raise RuntimeError(f"building toolchain archive failed: tar rc={tar.returncode} "
                               f"{tar_err.decode(errors='replace')} / {os.path.basename(gz)} "
                               f"rc={comp.returncode} {comp_err.decode(errors='replace')}")
        out.flush()
        os.fsync(out.fileno())
    return time.monotonic() - t0


_real_archive_memo: Optional[ToolchainArchive] = None


def toolchain_archive() -> ToolchainArchive:
    """The REAL Go toolchain (Debian's golang-1.19-go) as an official-layout archive.

    Top folder go/ (VERSION, bin/go, bin/gofmt, pkg/, src/, ...), symlinks dereferenced, members
    sorted, owner 0, fixed mtime. Built once into $GOINSTALL_BUILD_DIR/test-cache/ (or
    /dev/shm/goinstall-test-cache), guarded by a flock so parallel tests build it once.
    """
    global _real_archive_memo
    if _real_archive_memo is not None and os.path.exists(_real_archive_memo.path):
        return dataclasses.replace(_real_archive_memo, build_seconds=0.0)

    version = _real_version()
    arch = goarch()
    filename = f"{version}.linux-{arch}.tar.gz"
    cache = _cache_dir()
    path = os.path.join(cache, filename)
    meta_path = path + ".json"
    fingerprint = _source_fingerprint()

    with _FileLock(os.path.join(cache, ".toolchain.lock")):
        meta = None
        try:
            with open(meta_path, encoding="utf-8") as f:
                meta = json.load(f)
            st = os.stat(path)
            if (meta.get("fingerprint") != fingerprint or meta.get("size") != st.st_size
                    or meta.get("mtime_ns") != st.st_mtime_ns):
                meta = None
        except (OSError, ValueError):
            meta = None

        build_seconds = 0.0
        if meta is None:
            for stale in os.listdir(cache):  # left by a build that was killed
                if stale.startswith(f".{filename}.tmp."):
                    os.unlink(os.path.join(cache, stale))
            tmp = os.path.join(cache, f".{filename}.tmp.{os.getpid()}")
            try:
                build_seconds = _build_real_archive(tmp)
                t1 = time.monotonic()
                digest = sha256_file(tmp)
                hash_seconds = time.monotonic() - t1
                os.replace(tmp, path)
            except BaseException:
                if os.path.exists(tmp):
                    os.unlink(tmp)
                raise
            st = os.stat(path)
            meta = {"fingerprint": fingerprint, "sha256": digest, "size": st.st_size,
                    "mtime_ns": st.st_mtime_ns, "version": version,
                    "file_count": _count_regular_files(REAL_GOROOT),
                    "build_seconds": round(build_seconds, 2)}
            tmp_meta = meta_path + f".tmp.{os.getpid()}"
            with open(tmp_meta, "w", encoding="utf-8") as f:
                json.dump(meta, f, indent=1)
            os.replace(tmp_meta, meta_path)
            _log(f"built {path} ({st.st_size / 1e6:.1f} MB, {meta['file_count']} files) in "
                 f"{build_seconds:.1f} s with {os.path.basename(shutil.which('pigz') or 'gzip')}"
                 f" (+{hash_seconds:.1f} s sha256)")

    _real_archive_memo = ToolchainArchive(
        path=path, sha256=meta["sha256"], size=meta["size"], version=version,
        filename=filename, os="linux", arch=arch, file_count=meta.get("file_count", 0),
        build_seconds=0.0)
    return dataclasses.replace(_real_archive_memo, build_seconds=build_seconds)


# What an official release of Go 1.20 or later holds (no precompiled pkg/GOOS_GOARCH/*.a): the
# real Debian toolchain cut to that is ~61 MiB gzipped, ~207 MB extracted, like go1.21's 66 MB.
_OFFICIAL_LAYOUT = ("VERSION", "api", "bin", "misc", "pkg/include", "pkg/tool", "src", "test")


def official_layout_archive(dest_dir: Union[str, os.PathLike]) -> ToolchainArchive:
    """The REAL Go toolchain (Debian's golang-1.19-go) in an official release's layout and size,
    gzip's default level, built into dest_dir (~5 s with pigz). For benchmarks whose downloads
    should cost what a real one does, extraction included (issue 15)."""
    version = _real_version()
    arch = goarch()
    filename = f"{version}.linux-{arch}.tar.gz"
    os.makedirs(dest_dir, exist_ok=True)
    path = os.path.join(os.fspath(dest_dir), filename)
    seconds = _build_real_archive(path, _OFFICIAL_LAYOUT, "-6")
    return ToolchainArchive(path=path, sha256=sha256_file(path), size=os.path.getsize(path),
                            version=version, filename=filename, os="linux", arch=arch,
                            file_count=0, build_seconds=seconds)


_FAKE_GO_SCRIPT = """#!/bin/sh
# Fake go command written by goinstall_harness.fake_toolchain_archive.
root=$(cd "$(dirname "$0")/.." && pwd)
case "$1" in
  version) echo "go version {version} {os}/{arch}" ;;
  env)
    shift
    for v in "$@"; do
      case "$v" in
        GOROOT) echo "$root" ;;
        GOVERSION) echo "{version}" ;;
        GOOS) echo "{os}" ;;
        GOARCH) echo "{arch}" ;;
        *) echo "" ;;
      esac
    done ;;
  *) echo "fake go {version}: unsupported: $*" >&2; exit 2 ;;
esac
"""


def fake_toolchain_archive(version: str, dest_dir: Union[str, os.PathLike],
                           go_script: Optional[str] = None,
                           corrupt: Union[bool, str] = False, *,
                           goos: str = "linux", arch: Optional[str] = None,
                           filename: Optional[str] = None, top: str = "go",
                           extra_files: Optional[Mapping[str, Union[str, bytes]]] = None,
                           tweak: Optional[Callable[[tarfile.TarFile], None]] = None,
                           ) -> ToolchainArchive:
    """A tiny toolchain archive for fast tests that don't need the real compiler.

    Contains <top>/VERSION (the version), <top>/bin/go (a /bin/sh script: `go version` prints
    "go version <version> <goos>/<arch>"; `go env GOROOT` prints its root; or `go_script` as
    given, with {version}/{os}/{arch} NOT substituted), <top>/bin/gofmt, <top>/pkg/tool/..,
    <top>/src/.. . `extra_files` maps paths relative to <top>/ to contents (executable if the
    content starts with "#!"). `tweak(tarfile)` may add members of its own (e.g. hostile paths).

    corrupt: False; True or "truncate" cuts the gzip stream in half; "garbage" writes bytes that
    are not gzip at all; "flip" flips a byte in the middle of the compressed data. The returned
    sha256/size are those of the file as written (corrupted), so checksum verification passes
    and only extraction fails; to test a checksum mismatch, publish a different sha256.
    """
    arch = arch or goarch()
    dest_dir = os.fspath(dest_dir)
    os.makedirs(dest_dir, exist_ok=True)
    filename = filename or f"{version}.{goos}-{arch}.tar.gz"
    path = os.path.join(dest_dir, filename)
    script = go_script if go_script is not None else _FAKE_GO_SCRIPT.format(
        version=version, os=goos, arch=arch)
    files: dict = {
        "VERSION": f"{version}\n",
        "bin/go": script,
        "bin/gofmt": "#!/bin/sh\ncat\n",
        f"pkg/tool/{goos}_{arch}/compile": "#!/bin/sh\necho fake compile >&2\nexit 2\n",
        "src/runtime/extern.go": "package runtime\n",
        "src/fmt/print.go": "package fmt\n",
        "LICENSE": "fake toolchain for goinstall tests\n",
    }
    if extra_files:
        files.update(extra_files)

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tf:
        dirs = set()
        for rel in files:
            parts = rel.split("/")[:-1]
            for i in range(1, len(parts) + 1):
                dirs.add("/".join(parts[:i]))
        for d in [""] + sorted(dirs):
            ti = tarfile.TarInfo(f"{top}/{d}".rstrip("/") if d else top)
            ti.type, ti.mode, ti.mtime = tarfile.DIRTYPE, 0o755, _FIXED_MTIME
            tf.addfile(ti)
        for rel in sorted(files):
            data = files[rel]
            data = data.encode() if isinstance(data, str) else data
            ti = tarfile.TarInfo(f"{top}/{rel}")
            ti.size, ti.mtime = len(data), _FIXED_MTIME
            ti.mode = 0o755 if data.startswith(b"#!") else 0o644
            tf.addfile(ti, io.BytesIO(data))
        if tweak is not None:
            tweak(tf)
    gz = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=gz, mtime=0) as g:
        g.write(buf.getvalue())
    data = gz.getvalue()
    if corrupt in (True, "truncate"):
        data = data[: len(data) // 2]
    elif corrupt == "garbage":
        data = b"this is not a gzip stream\n" * 40
    elif corrupt == "flip":
        mid = len(data) // 2
        data = data[:mid] + bytes([data[mid] ^ 0xFF]) + data[mid + 1:]
    elif corrupt:
        raise ValueError(f"unknown corrupt mode {corrupt!r}")
    with open(path, "wb") as f:
        f.write(data)
    return ToolchainArchive(path=path, sha256=hashlib.sha256(data).hexdigest(), size=len(data),
                            version=version, filename=filename, os=goos, arch=arch,
                            file_count=len(files))


# ------------------------------------------------------------------------------------------------
# Release index (go.dev/dl/?mode=json&include=all)
# ------------------------------------------------------------------------------------------------

def _version_key(v: str):
    m = re.fullmatch(r"go(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:(rc|beta)(\d+))?", v)
    if not m:
        return (0, 0, 0, 0, 0, v)
    major, minor, patch, pre, pren = m.groups()
    # final > rc > beta
    rank = {"beta": 0, "rc": 1, None: 2}[pre]
    return (int(major), int(minor or 0), int(patch or 0), rank, int(pren or 0), v)


def index_file(filename: str, version: str, os: str = "linux", arch: str = "amd64",
               sha256: str = "", size: int = 0, kind: str = "archive") -> dict:
    """One file entry of the index. sha256="" makes an unverifiable file."""
    return {"filename": filename, "os": os, "arch": arch, "version": version,
            "sha256": sha256, "size": size, "kind": kind}


def _decoy_files(version: str) -> list:
    fake = lambda s: hashlib.sha256(f"{version}:{s}".encode()).hexdigest()  # noqa: E731
    return [
        index_file(f"{version}.src.tar.gz", version, "", "", fake("src"), 26000000, "source"),
        index_file(f"{version}.darwin-amd64.tar.gz", version, "darwin", "amd64", fake("da"),
                   150000000),
        index_file(f"{version}.darwin-arm64.pkg", version, "darwin", "arm64", fake("dp"),
                   145000000, "installer"),
        index_file(f"{version}.linux-386.tar.gz", version, "linux", "386", fake("l386"),
                   115000000),
        index_file(f"{version}.linux-arm64.tar.gz", version, "linux", "arm64", fake("la"),
                   110000000),
        index_file(f"{version}.windows-amd64.zip", version, "windows", "amd64", fake("wz"),
                   155000000),
        index_file(f"{version}.windows-amd64.msi", version, "windows", "amd64", fake("wm"),
                   130000000, "installer"),
    ]


def make_index(entries: Iterable[Union[ToolchainArchive, Mapping]],
               extra_files: Iterable[Mapping] = (),
               extra_releases: Iterable[Mapping] = (),
               decoys: bool = False,
               stable: Optional[Mapping[str, bool]] = None) -> str:
    """JSON text in go.dev's `/dl/?mode=json&include=all` schema, 1-space indent.

    entries: ToolchainArchive objects (or file dicts as made by index_file) - grouped into
    releases by version, newest first. extra_files: more file dicts merged the same way (e.g.
    index_file(..., sha256="") for an unverifiable file). extra_releases: raw release dicts
    appended as given. decoys: add the other platforms' files (src, darwin, windows, linux-arm64,
    installers) with fake sha256s to each release. stable: override {version: bool}; by default
    a version is stable unless it contains "rc" or "beta".
    """
    releases: dict = {}
    for e in list(entries) + list(extra_files):
        if isinstance(e, ToolchainArchive):
            f = index_file(e.filename, e.version, e.os, e.arch, e.sha256, e.size, e.kind)
        else:
            f = {**index_file(e["filename"], e["version"]), **dict(e)}
        releases.setdefault(f["version"], []).append(f)
    out = []
    for v in sorted(releases, key=_version_key, reverse=True):
        files = list(releases[v])
        if decoys:
            have = {f["filename"] for f in files}
            files += [d for d in _decoy_files(v) if d["filename"] not in have]
        is_stable = (stable or {}).get(v, not re.search(r"(rc|beta)\d*$", v))
        out.append({"version": v, "stable": bool(is_stable), "files": files})
    out.extend(dict(r) for r in extra_releases)
    return json.dumps(out, indent=1) + "\n"


# ------------------------------------------------------------------------------------------------
# Certificates (openssl CLI)
# ------------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class CA:
    cert: str   # PEM certificate
    key: str    # PEM private key
    dir: str


@dataclasses.dataclass(frozen=True)
class CertFiles:
    cert: str     # server certificate (PEM)
    key: str      # its private key (PEM)
    ca_cert: str  # the certificate that verifies it (the CA; for self_signed, the cert itself)


def _openssl(args: Sequence[str], cwd: Optional[str] = None) -> None:
    r = subprocess.run(["openssl", *args], cwd=cwd, stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)} failed ({r.returncode}):\n{r.stderr}")


def _keygen_args(key_type: str) -> list:
    if key_type == "ec":
        return ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
    if key_type == "rsa":
        return ["-newkey", "rsa:2048"]
    raise ValueError(f"key_type must be 'ec' or 'rsa', not {key_type!r}")


def _uniq_dir(parent: str, stem: str) -> str:
    os.makedirs(parent, exist_ok=True)
    return tempfile.mkdtemp(prefix=f"{stem}-", dir=parent)


def make_ca(dir: Union[str, os.PathLike], name: str = "goinstall test CA",
            key_type: str = "ec", days: int = 3650) -> CA:
    """A test root CA (self-signed, CA:TRUE) in a new subdirectory of `dir`."""
    d = _uniq_dir(os.fspath(dir), "ca")
    cert, key = os.path.join(d, "ca.pem"), os.path.join(d, "ca.key")
    _openssl(["req", "-x509", *_keygen_args(key_type), "-nodes", "-keyout", key, "-out", cert,
              "-subj", f"/CN={name}", "-days", str(days), "-sha256",
              "-addext", "basicConstraints=critical,CA:TRUE",
              "-addext", "keyUsage=critical,keyCertSign,cRLSign",
              "-addext", "subjectKeyIdentifier=hash"])
    return CA(cert=cert, key=key, dir=d)


def _asn1_time(offset: Union[int, float, datetime.timedelta]) -> str:
    if not isinstance(offset, datetime.timedelta):
        offset = datetime.timedelta(seconds=offset)
    t = datetime.datetime.now(datetime.timezone.utc) + offset
    return t.strftime("%Y%m%d%H%M%SZ")


def make_cert(dir: Union[str, os.PathLike], ca: Optional[CA],
              names: Sequence[str] = ("localhost", "127.0.0.1"),
              not_before: Union[int, float, datetime.timedelta] = datetime.timedelta(days=-1),
              not_after: Union[int, float, datetime.timedelta] = datetime.timedelta(days=30),
              self_signed: bool = False, key_type: str = "ec") -> CertFiles:
    """A server certificate for `names` (IP literals become IP SANs, others DNS SANs).

    not_before / not_after: offsets from now (timedelta or seconds; negative = past), so
    expired = (-2 days, -1 day), not yet valid = (+1 day, +2 days). Signed by `ca` unless
    self_signed (then ca may be None and ca_cert is the cert itself).
    """
    if not names:
        raise ValueError("names must not be empty")
    if not self_signed and ca is None:
        raise ValueError("ca is required unless self_signed")
    d = _uniq_dir(os.fspath(dir), "cert")
    key, csr, cert = (os.path.join(d, n) for n in ("server.key", "server.csr", "server.pem"))
    sans = []
    for n in names:
        try:
            ipaddress.ip_address(n)
            sans.append(f"IP:{n}")
        except ValueError:
            sans.append(f"DNS:{n}")
    open(os.path.join(d, "index.txt"), "w").close()
    with open(os.path.join(d, "serial"), "w") as f:
        f.write("01" + os.urandom(8).hex() + "\n")  # random serial: each cert distinct
    os.makedirs(os.path.join(d, "newcerts"))
    ext = ["basicConstraints = critical, CA:FALSE",
           "keyUsage = critical, digitalSignature, keyEncipherment",
           "authorityKeyIdentifier = keyid, issuer"]
    if self_signed:
        # A self-signed leaf must be usable as its own trust anchor when trusted explicitly.
        ext = ["basicConstraints = critical, CA:TRUE",
               "keyUsage = critical, digitalSignature, keyEncipherment, keyCertSign"]
    conf = "\n".join([
        "[ ca ]", "default_ca = CA_default",
        "[ CA_default ]", f"dir = {d}", f"database = {d}/index.txt",
        f"new_certs_dir = {d}/newcerts", f"serial = {d}/serial", "default_md = sha256", "policy = policy_any",
        "copy_extensions = none", "unique_subject = no", "email_in_dn = no",
        "[ policy_any ]", "commonName = supplied",
        "[ server_ext ]", *ext,
        "extendedKeyUsage = serverAuth", "subjectKeyIdentifier = hash",
        f"subjectAltName = {', '.join(sans)}", ""])
    conf_path = os.path.join(d, "openssl.cnf")
    with open(conf_path, "w") as f:
        f.write(conf)
    cn = names[0]
    _openssl(["req", "-new", *_keygen_args(key_type), "-nodes", "-keyout", key, "-out", csr,
              "-subj", f"/CN={cn}"])
    args = ["ca", "-batch", "-notext", "-config", conf_path, "-extensions", "server_ext",
            "-in", csr, "-out", cert, "-outdir", os.path.join(d, "newcerts"),
            "-startdate", _asn1_time(not_before), "-enddate", _asn1_time(not_after)]
    if self_signed:
        args += ["-selfsign", "-keyfile", key]
    else:
        args += ["-cert", ca.cert, "-keyfile", ca.key]
    _openssl(args, cwd=d)
    return CertFiles(cert=cert, key=key, ca_cert=cert if self_signed else ca.cert)


def make_cert_variants(dir: Union[str, os.PathLike], ca: CA) -> dict:
    """Server certs for the usual TLS failure tests, all for localhost/127.0.0.1 unless noted:
    good, expired, not_yet_valid, wrong_name (wrong.invalid), self_signed, other_ca (signed by
    a CA the client does not trust; its ca_cert is that other CA)."""
    day = datetime.timedelta(days=1)
    other = make_ca(dir, name="goinstall untrusted test CA")
    return {
        "good": make_cert(dir, ca),
        "expired": make_cert(dir, ca, not_before=-2 * day, not_after=-day),
        "not_yet_valid": make_cert(dir, ca, not_before=day, not_after=2 * day),
        "wrong_name": make_cert(dir, ca, names=["wrong.invalid"]),
        "self_signed": make_cert(dir, None, self_signed=True),
        "other_ca": make_cert(dir, other),
    }


# ------------------------------------------------------------------------------------------------
# nginx
# ------------------------------------------------------------------------------------------------

NGINX_BIN = "/usr/sbin/nginx"


def free_port(host: str = "127.0.0.1") -> int:
    """An ephemeral port that was free a moment ago (bind to port 0)."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(fam, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_until(pred: Callable[[], object], timeout: float = 20.0, interval: float = 0.02):
    """Poll `pred()` until it returns something truthy (returned) or `timeout` s pass (returns
    the last falsy value). For ordering a test on an observable event (a file, a log line, a
    process state) instead of sleeping; the timeout is a safety net, never the thing tested."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(interval)


def has_open(pid: int, path: str) -> bool:
    """True if process `pid` has `path` open now (a link in /proc/PID/fd). E.g. a goinstall that
    has opened ROOT/.lock while another one holds it is waiting for that lock."""
    want = os.path.realpath(path)
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") == want:
                return True
        except OSError:
            continue
    return False


def wait_for_port(host: str, port: int, timeout: float = 5.0,
                  alive: Optional[Callable[[], bool]] = None) -> bool:
    """Poll until a TCP connect to host:port succeeds (True) or timeout/`alive()` false."""
    deadline = time.monotonic() + timeout
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    while time.monotonic() < deadline:
        if alive is not None and not alive():
            return False
        with socket.socket(fam, socket.SOCK_STREAM) as s:
            s.settimeout(0.5)
            try:
                s.connect((host, port))
                return True
            except OSError:
                pass
        time.sleep(0.02)
    return False


def start_on_free_port(start: Callable[[int], subprocess.Popen], what: str, timeout: float = 30.0,
                       tries: int = 3) -> Tuple[int, subprocess.Popen]:
    """Starts a server on a free loopback port: start(port) launches it (start_new_session=True).
    Waits (bounded) until the port accepts; another port if the process exited first (the port
    was taken between free_port() and its bind). Returns (port, proc); RuntimeError if never."""
    for _ in range(tries):
        port = free_port()
        proc = start(port)
        if wait_for_port("127.0.0.1", port, timeout, alive=lambda: proc.poll() is None) and proc.poll() is None:
            return port, proc
        kill_process_group(proc)
    raise RuntimeError(f"{what} did not listen ({tries} ports tried, {timeout:.0f} s each)")


@dataclasses.dataclass(frozen=True)
class LogEntry:
    method: str
    path: str            # request URI path (before '?'), as sent
    query: str           # query string ('' if none)
    status: int
    bytes: int           # body bytes sent ($body_bytes_sent)
    bytes_sent: int      # total bytes incl. headers ($bytes_sent)
    range: Optional[str]  # Range request header, None if absent
    if_range: Optional[str]
    request: str         # the request line, e.g. "GET /x HTTP/1.1"
    protocol: str
    user_agent: str
    host: str
    completed: bool      # nginx's $request_completion: False if the client went away early
    connection: int      # connection serial number: equal values = same (kept-alive) connection
    connection_requests: int
    ssl_protocol: str    # "" for plain HTTP
    ssl_server_name: str  # SNI sent by the client
    request_time: float
    raw: dict


_LOG_FORMAT = ("log_format harness escape=json '{"
               '"request":"$request","method":"$request_method","uri":"$request_uri",'
               '"protocol":"$server_protocol","status":"$status",'
               '"body_bytes_sent":"$body_bytes_sent","bytes_sent":"$bytes_sent",'
               '"range":"$http_range","if_range":"$http_if_range",'
               '"user_agent":"$http_user_agent","host":"$http_host",'
               '"completion":"$request_completion","connection":"$connection",'
               '"connection_requests":"$connection_requests","ssl_protocol":"$ssl_protocol",'
               '"ssl_server_name":"$ssl_server_name","request_time":"$request_time","msec":"$msec"'
               "}';")


def _parse_log_line(line: str) -> LogEntry:
    r = json.loads(line)
    uri = r["uri"]
    path, _, query = uri.partition("?")

    def num(k, conv=int):
        try:
            return conv(r.get(k) or 0)
        except ValueError:
            return conv(0)

    return LogEntry(
        method=r["method"], path=path, query=query, status=num("status"),
        bytes=num("body_bytes_sent"), bytes_sent=num("bytes_sent"),
        range=r["range"] or None,
        if_range=r["if_range"] or None, request=r["request"], protocol=r["protocol"],
        user_agent=r["user_agent"], host=r["host"], completed=r["completion"] == "OK",
        connection=num("connection"), connection_requests=num("connection_requests"),
        ssl_protocol=r["ssl_protocol"], ssl_server_name=r["ssl_server_name"],
        request_time=num("request_time", float), raw=r)


class Nginx:
    """Debian's nginx as a child process serving `docroot` on 127.0.0.1:<ephemeral port>.

        with Nginx(tls=True) as ng:          # cert for localhost/127.0.0.1 from a fresh test CA
            ng.put("dl/index.json", make_index([...]))
            urlopen(ng.url + "dl/?mode=json&include=all", context=ng.client_ssl_context())
            ng.wait_for_log(1); ng.access_log_lines()[-1].status == 200

    Args: docroot (default: <tmp>/www, created), tls, cert (CertFiles; with tls=True and no cert,
    one is made with a fresh CA: see .ca_cert), locations (list of `location ... { }` snippets
    put in the server block), server_extra / http_extra (raw directives), host ("127.0.0.1" or
    "::1"). The server block has `root <docroot>; index index.json index.html;` so
    GET /dl/?mode=json... serves dl/index.json (as application/json). http2=True (with tls)
    offers HTTP/2 by ALPN (`listen ... ssl http2`: nginx 1.22 predates the `http2 on;`
    directive of 1.25.1); the log's `protocol` is then "HTTP/2.0" for h2 clients.
    """

    def __init__(self, docroot: Optional[Union[str, os.PathLike]] = None, tls: bool = False,
                 cert: Optional[CertFiles] = None, locations: Sequence[str] = (),
                 server_extra: str = "", http_extra: str = "", host: str = "127.0.0.1",
                 start_timeout: float = 5.0, http2: bool = False):
        if http2 and not tls:
            raise ValueError("Nginx(http2=True) needs tls=True (h2 is offered by ALPN)")
        if not os.access(NGINX_BIN, os.X_OK):
            raise RuntimeError(f"{NGINX_BIN} missing: install nginx-light (scripts/deps.sh --test)")
        self._tmp = TmpfsDir("goinstall-nginx-")
        self.dir = self._tmp.name
        self.docroot = os.fspath(docroot) if docroot is not None else os.path.join(self.dir, "www")
        os.makedirs(self.docroot, exist_ok=True)
        self.tls = tls
        self.http2 = http2
        self.host = host
        self.locations = list(locations)
        self.server_extra, self.http_extra = server_extra, http_extra
        self.start_timeout = start_timeout
        self.ca_cert: Optional[str] = None
        self.cert = cert
        if tls and cert is None:
            try:
                ca = make_ca(os.path.join(self.dir, "pki"))
                self.cert = make_cert(os.path.join(self.dir, "pki"), ca)
            except BaseException:
                self._tmp.cleanup()
                raise
        if self.cert is not None:
            self.ca_cert = self.cert.ca_cert
        self.port: Optional[int] = None
        self.proc: Optional[subprocess.Popen] = None
        self.access_log = os.path.join(self.dir, "access.log")
        self.error_log = os.path.join(self.dir, "error.log")
        self.conf_path = os.path.join(self.dir, "nginx.conf")
        self.start_seconds = 0.0

    # -- config --------------------------------------------------------------------------------
    def _config(self, port: int) -> str:
        d = self.dir
        listen_host = f"[{self.host}]" if ":" in self.host else self.host
        ssl_lines = ""
        if self.tls:
            ssl_lines = (f"    ssl_certificate {self.cert.cert};\n"
                         f"    ssl_certificate_key {self.cert.key};\n"
                         "    ssl_protocols TLSv1.2 TLSv1.3;\n")
        user = "user root;\n" if os.geteuid() == 0 else ""
        locs = "\n".join("    " + l.strip().replace("\n", "\n    ") for l in self.locations)
        return f"""# generated by goinstall_harness.Nginx
daemon off;
master_process off;
worker_processes 1;
{user}pid {d}/nginx.pid;
error_log {d}/error.log info;
events {{ worker_connections 256; }}
http {{
    types {{
        text/html html htm;
        text/plain txt;
        application/json json;
        application/gzip gz tgz;
        application/zip zip;
    }}
    default_type application/octet-stream;
    {_LOG_FORMAT}
    access_log {self.access_log} harness;
    client_body_temp_path {d}/client_body_temp;
    proxy_temp_path {d}/proxy_temp;
    fastcgi_temp_path {d}/fastcgi_temp;
    uwsgi_temp_path {d}/uwsgi_temp;
    scgi_temp_path {d}/scgi_temp;
    sendfile on;
    keepalive_timeout 10s;
    server_tokens off;
    {self.http_extra}
    server {{
        listen {listen_host}:{port}{' ssl' if self.tls else ''}{' http2' if self.http2 else ''};
        server_name localhost;
{ssl_lines}        root {self.docroot};
        index index.json index.html;
        {self.server_extra}
{locs}
    }}
}}
"""

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self, port: Optional[int] = None) -> "Nginx":
        """Start (on `port`, or the previous port on a restart, or a fresh ephemeral one)."""
        if self.proc is not None:
            raise RuntimeError("nginx already running")
        fixed = port or self.port
        t0 = time.monotonic()
        last_err = ""
        for _attempt in range(5):
            p = fixed or free_port(self.host)
            with open(self.conf_path, "w") as f:
                f.write(self._config(p))
            out = open(os.path.join(self.dir, "nginx.stdout"), "ab")
            try:
                self.proc = subprocess.Popen(
                    [NGINX_BIN, "-p", self.dir + "/", "-c", self.conf_path, "-e", self.error_log],
                    stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                    start_new_session=True)
            finally:
                out.close()
            # Stops the server even if a test forgets to (at garbage collection or exit).
            self._proc_finalizer = weakref.finalize(self, kill_process_group, self.proc, 2.0)
            if wait_for_port(self.host, p, self.start_timeout,
                             alive=lambda: self.proc.poll() is None):
                self.port = p
                self.start_seconds = time.monotonic() - t0
                return self
            last_err = self._tail(self.error_log) + self._tail(os.path.join(self.dir, "nginx.stdout"))
            self._proc_finalizer()
            self.proc = None
            in_use = "Address already in use" in last_err
            if not in_use or (fixed and _attempt >= 4):
                break
            if fixed:
                time.sleep(0.2)   # restart on the same port: let the old socket go
        raise RuntimeError(f"nginx failed to start:\n{last_err}")

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM (fast shutdown), then SIGKILL to the process group; bounded; idempotent."""
        if self.proc is not None:
            self._proc_finalizer.detach()
            kill_process_group(self.proc, timeout)
            self.proc = None

    def restart(self) -> None:
        """Stop and start again on the same port (for 'server went away and came back')."""
        self.stop()
        self.start(self.port)

    def close(self) -> None:
        self.stop()
        self._tmp.cleanup()

    def __enter__(self) -> "Nginx":
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc) -> None:
        self.close()

    # -- use -----------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """http://127.0.0.1:<port>/ or, with TLS, https://localhost:<port>/ (ends with '/')."""
        if self.tls:
            host = "localhost" if self.host == "127.0.0.1" else f"[{self.host}]"
            return f"https://{host}:{self.port}/"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    @property
    def url_ip(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}/"

    def url_for(self, relpath: str) -> str:
        return self.url + relpath.lstrip("/")

    def put(self, relpath: str, data: Union[str, bytes]) -> str:
        """Write a file under the docroot; returns its path."""
        p = os.path.join(self.docroot, relpath.lstrip("/"))
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
        return p

    def put_file(self, relpath: str, src: Union[str, os.PathLike], symlink: bool = False) -> str:
        """Place an existing file (e.g. toolchain_archive().path) under the docroot and return
        its path. Copies by default (tmpfs; ~0.2 s for the real archive), so a test may modify
        the served file freely; symlink=True is free but then never write to the result
        (it would change the cached archive)."""
        p = os.path.join(self.docroot, relpath.lstrip("/"))
        os.makedirs(os.path.dirname(p), exist_ok=True)
        if os.path.lexists(p):
            os.unlink(p)
        if symlink:
            os.symlink(os.path.abspath(os.fspath(src)), p)
        else:
            shutil.copyfile(src, p)
        return p

    def client_ssl_context(self) -> ssl.SSLContext:
        """A verifying client context trusting this server's CA."""
        return ssl.create_default_context(cafile=self.ca_cert)

    def access_log_lines(self, since: int = 0, markers: bool = False) -> list:
        """Parsed access-log entries (LogEntry), oldest first, skipping the first `since`;
        requests_until_marker's own requests left out (and not counted) unless `markers`."""
        try:
            with open(self.access_log, encoding="utf-8", errors="replace") as f:
                text = f.read()
        except FileNotFoundError:
            return []
        out = []
        for line in text.split("\n"):
            if not line.strip():
                continue
            try:
                entry = _parse_log_line(line)
            except (ValueError, KeyError):
                continue  # a partially written last line
            if markers or not entry.path.startswith(MARKER_PREFIX):
                out.append(entry)
        return out[since:]

    def wait_for_log(self, count: int, timeout: float = 5.0, since: int = 0) -> list:
        """Wait (bounded) until at least `count` entries (after `since`) are logged.
        nginx logs a request after the response is sent, so a client may finish first."""
        deadline = time.monotonic() + timeout
        while True:
            lines = self.access_log_lines(since)
            if len(lines) >= count or time.monotonic() > deadline:
                return lines
            time.sleep(0.02)

    def requests_until_marker(self, since: int = 0, timeout: float = 5.0) -> list:
        """The entries logged after entry `since`, up to (not including) a marker request this
        sends now and waits for: "no request was made" without sleeping and hoping. Call it once
        the client under test has exited (its requests are complete, so logged before the marker)."""
        import urllib.error
        import urllib.request
        marker = f"{MARKER_PREFIX}{os.getpid()}-{time.monotonic_ns()}"
        ctx = None
        if self.tls:  # the marker only synchronises: any certificate will do
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                             urllib.request.HTTPSHandler(context=ctx))
        try:
            opener.open(self.url.rstrip("/") + marker, timeout=timeout).read()
        except urllib.error.HTTPError:
            pass  # 404: logged all the same
        deadline = time.monotonic() + timeout
        while True:
            lines = self.access_log_lines(markers=True)
            paths = [e.path for e in lines]
            if marker in paths:
                return [e for e in lines[:paths.index(marker)]
                        if not e.path.startswith(MARKER_PREFIX)][since:]
            if time.monotonic() > deadline:
                raise AssertionError(f"nginx never logged the marker request {marker}")
            time.sleep(0.02)

    def clear_access_log(self) -> None:
        """Empties the log; while nginx runs, once every finished request is in it (else the last
        request of a client that just exited could be logged after the truncate)."""
        if self.proc is not None and self.proc.poll() is None:
            self.requests_until_marker()
        if os.path.exists(self.access_log):
            with open(self.access_log, "r+b") as f:
                f.truncate(0)

    def error_log_text(self) -> str:
        try:
            with open(self.error_log, encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    @staticmethod
    def _tail(path: str, n: int = 4000) -> str:
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                return f.read()[-n:]
        except FileNotFoundError:
            return ""


# ------------------------------------------------------------------------------------------------
# Running goinstall
# ------------------------------------------------------------------------------------------------

def goinstall_bin() -> str:
    """$GOINSTALL_BIN; raises unittest.SkipTest when unset (e.g. a harness self-check run by
    hand) and fails when it is set but not executable."""
    b = os.environ.get("GOINSTALL_BIN")
    if not b:
        raise unittest.SkipTest("GOINSTALL_BIN is not set")
    if not os.access(b, os.X_OK):
        raise AssertionError(f"GOINSTALL_BIN={b} is not an executable file")
    return b


_homes: list = []


def _new_home() -> str:
    d = TmpfsDir("goinstall-home-")
    _homes.append(d)  # kept alive (and so not removed) until interpreter exit
    return d.name


def isolated_env(home: Union[str, os.PathLike],
                 env_extra: Optional[Mapping[str, Optional[str]]] = None,
                 builtin_mirrors: bool = False) -> dict:
    """The environment run_goinstall uses: PATH from ours, HOME=home, XDG_{DATA,CACHE,CONFIG}_HOME
    = home/.local/share, home/.cache, home/.config (not created), TMPDIR=home/tmp (created),
    LANG=C.UTF-8, GOPROXY=off, GOINSTALL_CAPTIVE_PROBE_URL=none; nothing else is inherited (so no *_proxy, GO*, SSL_CERT_* ...).
    env_extra is applied last; a value of None removes the variable."""
    home = os.fspath(home)
    tmp = os.path.join(home, "tmp")
    os.makedirs(tmp, exist_ok=True)
    # Safety net: goinstall's built-in mirror catalogue names real internet hosts, and failover
    # would try them. Unless a test asks for them (and isolates the network itself), every run
    # gets a user catalogue that drops the built-ins. A test may write its own file first.
    cfg = os.path.join(home, ".config", "goinstall")
    mirrors = os.path.join(cfg, "mirrors.json")
    if not builtin_mirrors and not os.path.exists(mirrors):
        os.makedirs(cfg, exist_ok=True)
        with open(mirrors, "w") as f:
            f.write('{"builtin": false}\n')
    env = {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "HOME": home,
        "XDG_DATA_HOME": os.path.join(home, ".local", "share"),
        "XDG_CACHE_HOME": os.path.join(home, ".cache"),
        "XDG_CONFIG_HOME": os.path.join(home, ".config"),
        "TMPDIR": tmp,
        "LANG": "C.UTF-8",
        # The same safety net for the toolchain-module route: its default proxy is a real internet
        # host, tried when every index source fails. A test that wants the route names its proxy.
        "GOPROXY": "off",
        # And for triage: its captive-portal probe asks a real internet host (through the system's
        # nameserver). A test that wants the probe names a loopback URL.
        "GOINSTALL_CAPTIVE_PROBE_URL": "none",
    }
    for k, v in (env_extra or {}).items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = str(v)
    # Belt and braces: nothing proxy-ish unless the test put it in env_extra itself.
    extra_keys = set((env_extra or {}).keys())
    for k in list(env):
        if k.lower().endswith("_proxy") and k not in extra_keys:
            del env[k]
    return env


def kill_process_group(proc: subprocess.Popen, timeout: float = 5.0) -> None:
    """SIGTERM the process group of `proc` (started with start_new_session=True), wait up to
    `timeout`, then SIGKILL it; reaps proc."""
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        except PermissionError:
            proc.send_signal(sig)
        try:
            proc.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


class GoinstallResult(subprocess.CompletedProcess):
    """CompletedProcess (text stdout/stderr) plus .home, .env and .duration (seconds)."""

    def __init__(self, args, returncode, stdout, stderr, home, env, duration):
        super().__init__(args, returncode, stdout, stderr)
        self.home, self.env, self.duration = home, env, duration

    @property
    def output(self) -> str:
        return (self.stdout or "") + (self.stderr or "")


def run_isolated(argv: Sequence[str], env_extra: Optional[Mapping[str, Optional[str]]] = None,
                 home: Optional[Union[str, os.PathLike]] = None, timeout: float = 120,
                 input: Optional[str] = None, cwd: Optional[str] = None) -> GoinstallResult:
    """Run any command the way run_goinstall runs goinstall (isolated env, own process group,
    stdin /dev/null unless `input`, text output captured). On timeout the whole process group
    is killed and subprocess.TimeoutExpired is raised (with what was captured)."""
    home = os.fspath(home) if home is not None else _new_home()
    os.makedirs(home, exist_ok=True)
    env = isolated_env(home, env_extra)
    t0 = time.monotonic()
    proc = subprocess.Popen(list(argv), env=env, cwd=cwd or home,
                            stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            errors="replace", start_new_session=True)
    try:
        out, err = proc.communicate(input=input, timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_process_group(proc, 2.0)
        try:  # bounded: a child that left the group may still hold the pipes
            out, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            out, err = "", "(its output pipes were still held open by a child that left its group)"
        raise subprocess.TimeoutExpired(list(argv), timeout, output=out, stderr=err)
    except BaseException:
        kill_process_group(proc, 2.0)
        raise
    return GoinstallResult(list(argv), proc.returncode, out, err, home, env,
                           time.monotonic() - t0)


def run_goinstall(args: Sequence[str], env_extra: Optional[Mapping[str, Optional[str]]] = None,
                  home: Optional[Union[str, os.PathLike]] = None, timeout: float = 120,
                  input: Optional[str] = None, cwd: Optional[str] = None) -> GoinstallResult:
    """Run $GOINSTALL_BIN with `args` in an isolated environment (see isolated_env). `home`
    defaults to a fresh tmpfs dir (removed at interpreter exit; see result.home)."""
    return run_isolated([goinstall_bin(), *args], env_extra=env_extra, home=home,
                        timeout=timeout, input=input, cwd=cwd)


def popen_goinstall(args: Sequence[str], env_extra: Optional[Mapping[str, Optional[str]]] = None,
                    home: Optional[Union[str, os.PathLike]] = None, **popen_kwargs):
    """Start goinstall in the background (isolated env, own session/process group, stdin
    /dev/null, stdout/stderr piped as text unless overridden). Returns (Popen, home). The caller
    must stop it: `self.addCleanup(kill_process_group, proc)`, then read the pipes."""
    home = os.fspath(home) if home is not None else _new_home()
    env = isolated_env(home, env_extra)
    kw = dict(stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
              text=True, errors="replace", cwd=home)
    kw.update(popen_kwargs)
    proc = subprocess.Popen([goinstall_bin(), *args], env=env, start_new_session=True, **kw)
    return proc, home


# ------------------------------------------------------------------------------------------------
# Assertions and small helpers
# ------------------------------------------------------------------------------------------------

def assert_no_secret(texts: Union[str, bytes, Iterable[Union[str, bytes, None]]],
                     secret: str) -> None:
    """AssertionError if `secret` appears in any of `texts` - raw, percent-encoded, or base64
    (also as 'user:secret' Basic credentials is covered when secret is the whole pair)."""
    if not secret:
        raise ValueError("empty secret")
    if isinstance(texts, (str, bytes)):
        texts = [texts]
    forms = {secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret),
             base64.b64encode(secret.encode()).decode()}
    for i, t in enumerate(texts):
        if t is None:
            continue
        s = t.decode("utf-8", "replace") if isinstance(t, bytes) else t
        for form in forms:
            if len(form) >= 4 and form in s:
                at = s.index(form)
                ctx = s[max(0, at - 40):at] + "<SECRET>" + s[at + len(form):at + len(form) + 40]
                raise AssertionError(f"secret leaked in text #{i}: ...{ctx}...")


def tree_files(path: Union[str, os.PathLike], include_dirs: bool = False) -> list:
    """Sorted relative paths ('/'-separated) of the files and symlinks under `path` (plus dirs,
    with a trailing '/', if include_dirs). Does not follow symlinks."""
    root = os.fspath(path)
    out = []
    for dirpath, dirs, files in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        rel = "" if rel == "." else rel.replace(os.sep, "/") + "/"
        for d in list(dirs):
            full = os.path.join(dirpath, d)
            if os.path.islink(full):
                out.append(rel + d)   # symlink to a dir: listed, not entered
            elif include_dirs:
                out.append(rel + d + "/")
        for f in files:
            out.append(rel + f)
    return sorted(out)
