"""A local Go module proxy (GOPROXY) and checksum database (GOSUMDB) for toolchain-module tests.

    import goinstall_harness as h, goproxy_site as gps
    arc = h.fake_toolchain_archive("go1.21.3", tmp)
    mod = gps.make_toolchain_zip(arc)                       # golang.org/toolchain@v0.0.1-go1.21.3.linux-amd64
    with gps.GoproxySite([mod]) as site:                     # nginx, HTTPS (test CA) + plain HTTP
        env = site.go_env(workdir)                           # GOPROXY, GOSUMDB='<vkey> <url>', ...
        ...                                                  # site.fork(), site.tamper_zip(v), site.lie_lookup(v)

Everything is served as static files by Debian's nginx (the harness's `Nginx`): the proxy tree under
/proxy/ (`golang.org/toolchain/@v/{list,<v>.info,<v>.mod,<v>.zip}`, `sumdb/<name>/supported`, and
`sumdb/<name>/...` mirroring the database), and the checksum database under /sumdb/<name>/
(`latest`, `lookup/<module>@<version>`, `tile/8/<L>/<NNN>[.p/<W>]`, `tile/8/data/...`).
Formats follow golang/mod sumdb (note, tlog) and cmd/distpack; the site is checked by running the
real go command (Debian's Go 1.19) against it: tests/integration/test_goproxy_site.py.

Needs python3-cryptography (Ed25519). Standard library otherwise.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import hashlib
import io
import json
import os
import ssl
import stat
import tarfile
import time
import urllib.error
import urllib.request
import zipfile
from typing import Iterable, Optional, Sequence, Union

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

import goinstall_harness as h

__all__ = [
    "MODULE", "GOMOD", "GOMOD_H1", "TILE_HEIGHT",
    "toolchain_version", "dirhash_h1", "zip_h1", "gomod_h1", "distpack_mode",
    "ToolchainModule", "make_toolchain_zip",
    "NoteKey", "verify_note", "tlog_record_hash", "tlog_node_hash", "Tree", "tile_path", "SumDB",
    "GoproxySite", "GO119",
]

MODULE = "golang.org/toolchain"
GOMOD = b"module golang.org/toolchain\n"       # cmd/distpack: fmt.Sprintf("module %s\n", modPath)
GOMOD_H1 = "h1:8wlg68NqwW7eMnI1aABk/C2pDYXj8mrMY4TyRfiLeS0="  # every real .../go.mod record
TILE_HEIGHT = 8                                # sum.golang.org and cmd/go use height 8
GO119 = "/usr/lib/go-1.19/bin/go"              # Debian's golang-1.19-go: the reference client

# cmd/distpack removes these from the binary distribution to make the module form.
_MODULE_DROPPED_DIRS = ("api/", "doc/", "misc/", "test/")
_DEFAULT_TIME = "2023-10-09T17:04:35Z"


# ------------------------------------------------------------------------------------------------
# Hashes (golang.org/x/mod/sumdb/dirhash Hash1)
# ------------------------------------------------------------------------------------------------

def dirhash_h1(files: Iterable[tuple]) -> str:
    """Go's dirhash.Hash1 over (name, data) pairs: sha256 of the lines
    "<hex sha256(data)>  <name>\\n" sorted by name (bytewise), as "h1:" + base64."""
    lines = []
    names = set()
    for name, data in files:
        if "\n" in name:
            raise ValueError(f"dirhash: filenames with newlines are not supported: {name!r}")
        if name in names:
            raise ValueError(f"dirhash: duplicate name {name!r}")
        names.add(name)
        lines.append((name.encode(), hashlib.sha256(data).hexdigest()))
    lines.sort()
    summary = hashlib.sha256()
    for name, hx in lines:
        summary.update(f"{hx}  ".encode() + name + b"\n")
    return "h1:" + base64.b64encode(summary.digest()).decode()


def zip_h1(zip_data: Union[bytes, str, os.PathLike]) -> str:
    """dirhash.HashZip: Hash1 over every file entry of the zip, full names (prefix included)."""
    if not isinstance(zip_data, bytes):
        with open(zip_data, "rb") as f:
            zip_data = f.read()
    with zipfile.ZipFile(io.BytesIO(zip_data)) as zf:
        return dirhash_h1((i.filename, zf.read(i)) for i in zf.infolist())


def gomod_h1(mod: bytes = GOMOD) -> str:
    """The go.sum hash of a .mod file: Hash1 of the single file named "go.mod"."""
    return dirhash_h1([("go.mod", mod)])


def distpack_mode(name: str) -> int:
    """cmd/distpack's mode(): bin/**, pkg/tool/**, *.bash/.sh/.pl/.rc, **/go_*_*_exec → 0755."""
    base = name.rsplit("/", 1)[-1]
    if name.startswith(("bin/", "pkg/tool/")) or name.endswith((".bash", ".sh", ".pl", ".rc")):
        return 0o755
    if "/" in name and base.startswith("go_") and base.endswith("_exec"):
        mid = base[3:-5].split("_")
        if len(mid) >= 2 and all(mid):
            return 0o755
    return 0o644


# ------------------------------------------------------------------------------------------------
# Toolchain module zip (cmd/distpack module form)
# ------------------------------------------------------------------------------------------------

def toolchain_version(go_version: str, goos: str = "linux", goarch: str = "amd64") -> str:
    """"go1.21.3", "linux", "amd64" → "v0.0.1-go1.21.3.linux-amd64" (Go's GOARCH names)."""
    return f"v0.0.1-{go_version}.{goos}-{goarch}"


@dataclasses.dataclass
class ToolchainModule:
    go_version: str          # "go1.21.3"
    goos: str
    goarch: str
    version: str             # "v0.0.1-go1.21.3.linux-amd64"
    zip: bytes               # the module zip as served
    mod: bytes               # the .mod file
    info: bytes              # the .info file
    h1: str                  # go.sum hash of the zip (the sumdb record's)
    gomod_h1: str            # go.sum hash of the .mod file
    time: str                # RFC 3339 time of .info and of the zip entries
    names: list              # zip entry names, in zip order

    @property
    def path(self) -> str:
        return MODULE

    @property
    def prefix(self) -> str:
        return f"{MODULE}@{self.version}/"

    def gosum_lines(self) -> str:
        return (f"{MODULE} {self.version} {self.h1}\n"
                f"{MODULE} {self.version}/go.mod {self.gomod_h1}\n")


def _read_tree(source) -> dict:
    """{relative path: (data, mode)} of the go/ tree in a toolchain .tar.gz (ToolchainArchive or
    path) or a GOROOT-like directory (symlinks followed)."""
    files = {}
    if isinstance(source, h.ToolchainArchive):
        source = source.path
    source = os.fspath(source)
    if os.path.isdir(source):
        for dirpath, dirnames, filenames in os.walk(source, followlinks=True):
            dirnames.sort()
            for fn in filenames:
                p = os.path.join(dirpath, fn)
                rel = os.path.relpath(p, source).replace(os.sep, "/")
                with open(p, "rb") as f:
                    files[rel] = (f.read(), os.stat(p).st_mode & 0o777)
        return files
    with tarfile.open(source, "r:*") as tf:
        for m in tf.getmembers():
            if not m.isfile():
                continue
            name = m.name.lstrip("./")
            top, _, rel = name.partition("/")
            if top != "go" or not rel:
                raise ValueError(f"{source}: member outside go/: {m.name!r}")
            files[rel] = (tf.extractfile(m).read(), m.mode & 0o777)
    return files


def make_toolchain_zip(source, *, go_version: Optional[str] = None, goos: Optional[str] = None,
                       goarch: Optional[str] = None, time: Optional[str] = None,
                       info_style: str = "proxy", dest_dir: Optional[Union[str, os.PathLike]] = None,
                       compresslevel: int = 9) -> ToolchainModule:
    """The golang.org/toolchain module form of a toolchain, laid out as cmd/distpack does it.

    source: a ToolchainArchive / .tar.gz with a top-level go/ (h.fake_toolchain_archive or
    h.toolchain_archive), or a GOROOT directory. go_version defaults to the first line of VERSION;
    goos/goarch to the archive's (else linux / h.goarch()); time to VERSION's "time" line, else a
    fixed 2023 date.

    Zip: entries "golang.org/toolchain@v0.0.1-<go>.<os>-<arch>/<path>" for every file of the tree
    except api/ doc/ misc/ test/; every go.mod renamed to _go.mod (x/mod rejects go.mod files
    outside the module root, and distpack's RenameGoMod runs after the prefix is added, so the
    zip has no go.mod at all, not even at its root); no directory entries; Deflate; sorted by
    name; Unix modes by distpack's rule; mtime = time.
    .mod: "module golang.org/toolchain\\n". .info: proxy.golang.org's compact
    {"Version":…,"Time":…} (info_style="proxy", no newline) or distpack's file
    {"Version":…, "Time":…}\\n (info_style="distpack").
    dest_dir: also write <version>.zip/.mod/.info there (like GOROOT/pkg/distpack).
    compresslevel: 9 is distpack's BestCompression (~45 s for the real 1.19 tree; 1 is faster)."""
    files = _read_tree(source)
    if "VERSION" not in files:
        raise ValueError("toolchain tree has no VERSION file")
    vlines = files["VERSION"][0].decode().split("\n")
    go_version = go_version or vlines[0].strip()
    if time is None:
        time = next((l.split()[1] for l in vlines[1:] if l.startswith("time ") and len(l.split()) == 2),
                    _DEFAULT_TIME)
    if isinstance(source, h.ToolchainArchive):
        goos = goos or source.os
        goarch = goarch or source.arch
    goos, goarch = goos or "linux", goarch or h.goarch()
    version = toolchain_version(go_version, goos, goarch)
    prefix = f"{MODULE}@{version}/"
    dt = datetime.datetime.strptime(time, "%Y-%m-%dT%H:%M:%SZ")

    entries = []
    for rel, (data, _mode) in files.items():
        if rel.startswith(_MODULE_DROPPED_DIRS):
            continue
        name = prefix + rel
        if name.endswith("/go.mod"):
            name = name[: -len("go.mod")] + "_go.mod"
        entries.append((name, rel, data))
    entries.sort()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as zf:
        for name, rel, data in entries:
            zi = zipfile.ZipInfo(name, date_time=dt.timetuple()[:6])
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.create_system = 3  # Unix: external_attr carries the mode, as Go's FileInfoHeader
            zi.external_attr = (stat.S_IFREG | distpack_mode(rel)) << 16
            zf.writestr(zi, data)
    zdata = buf.getvalue()
    if info_style == "proxy":
        info = json.dumps({"Version": version, "Time": time}, separators=(",", ":")).encode()
    elif info_style == "distpack":
        info = ('{"Version":"%s", "Time":"%s"}\n' % (version, time)).encode()
    else:
        raise ValueError(f"info_style must be 'proxy' or 'distpack', not {info_style!r}")
    mod = ToolchainModule(go_version=go_version, goos=goos, goarch=goarch, version=version,
                          zip=zdata, mod=GOMOD, info=info, h1=zip_h1(zdata), gomod_h1=gomod_h1(GOMOD),
                          time=time, names=[e[0] for e in entries])
    if dest_dir is not None:
        d = os.fspath(dest_dir)
        os.makedirs(d, exist_ok=True)
        for ext, data in ((".zip", mod.zip), (".mod", mod.mod), (".info", mod.info)):
            with open(os.path.join(d, version + ext), "wb") as f:
                f.write(data)
    return mod


# ------------------------------------------------------------------------------------------------
# Signed notes (golang.org/x/mod/sumdb/note)
# ------------------------------------------------------------------------------------------------

_ALG_ED25519 = 1


class NoteKey:
    """An Ed25519 note signer: .name, .key_hash (uint32), .vkey
    ("<name>+<hash8hex>+<base64(0x01||pub)>", what GOSUMDB takes), .skey (note's PRIVATE+KEY form)."""

    def __init__(self, name: str, seed: Optional[bytes] = None):
        if not name or any(c in name for c in "+ \t\n") or not name.isprintable():
            raise ValueError(f"invalid note key name {name!r}")
        self.name = name
        self._priv = (ed25519.Ed25519PrivateKey.from_private_bytes(seed) if seed is not None
                      else ed25519.Ed25519PrivateKey.generate())
        self.seed = self._priv.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                             serialization.NoEncryption())
        self.public = self._priv.public_key().public_bytes(serialization.Encoding.Raw,
                                                           serialization.PublicFormat.Raw)
        key_bytes = bytes([_ALG_ED25519]) + self.public
        self.key_hash = int.from_bytes(hashlib.sha256(name.encode() + b"\n" + key_bytes).digest()[:4], "big")
        self.vkey = f"{name}+{self.key_hash:08x}+{base64.b64encode(key_bytes).decode()}"
        self.skey = (f"PRIVATE+KEY+{name}+{self.key_hash:08x}+"
                     f"{base64.b64encode(bytes([_ALG_ED25519]) + self.seed).decode()}")

    def sign(self, text: bytes) -> bytes:
        """A signed note: text (must end in "\\n"), a blank line, "— <name> <base64(hash4||sig)>\\n"."""
        if not text.endswith(b"\n"):
            raise ValueError("note text must end in a newline")
        sig = self._priv.sign(text)
        blob = base64.b64encode(self.key_hash.to_bytes(4, "big") + sig).decode()
        return text + b"\n" + f"\u2014 {self.name} {blob}\n".encode()


def tree_note_text(n: int, root: bytes) -> bytes:
    """tlog.FormatTree: "go.sum database tree\\n<N>\\n<base64 hash>\\n"."""
    return f"go.sum database tree\n{n}\n{base64.b64encode(root).decode()}\n".encode()


# ------------------------------------------------------------------------------------------------
# Transparency log (RFC 6962 hashing, golang.org/x/mod/sumdb/tlog tiles)
# ------------------------------------------------------------------------------------------------

def tlog_record_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def tlog_node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def tile_path(level: Union[int, str], n: int, width: int, height: int = TILE_HEIGHT) -> str:
    """tile/<H>/<L|data>/<NNN with x-prefixed 3-digit groups>[.p/<W>] (W < 2^H: partial)."""
    s = f"{n % 1000:03d}"
    while n >= 1000:
        n //= 1000
        s = f"x{n % 1000:03d}/{s}"
    p = f".p/{width}" if width != 1 << height else ""
    return f"tile/{height}/{level}/{s}{p}"


def format_record(rid: int, text: bytes) -> bytes:
    """tlog.FormatRecord: "<id>\\n" + text + "\\n" (text ends in \\n, has no blank line)."""
    return f"{rid}\n".encode() + text + b"\n"


class Tree:
    """A Merkle tree over record texts: levels[k][i] = hash of the complete subtree of 2^k leaves
    starting at leaf i*2^k (what tlog calls stored hashes)."""

    def __init__(self, records: Sequence[bytes]):
        self.records = list(records)
        for r in self.records:
            if not r.endswith(b"\n") or b"\n\n" in r:
                raise ValueError(f"malformed record text {r!r}")
        self.levels = [[tlog_record_hash(r) for r in self.records]]
        while len(self.levels[-1]) > 1:
            prev = self.levels[-1]
            self.levels.append([tlog_node_hash(prev[2 * i], prev[2 * i + 1]) for i in range(len(prev) // 2)])

    @property
    def size(self) -> int:
        return len(self.records)

    def subtree_hash(self, lo: int, hi: int) -> bytes:
        """RFC 6962 MTH(D[lo:hi])."""
        n = hi - lo
        if n <= 0:
            raise ValueError("empty range")
        if n & (n - 1) == 0 and lo % n == 0:
            return self.levels[n.bit_length() - 1][lo // n]
        k = 1 << ((n - 1).bit_length() - 1)  # largest power of two < n
        return tlog_node_hash(self.subtree_hash(lo, lo + k), self.subtree_hash(lo + k, hi))

    def root(self, n: Optional[int] = None) -> bytes:
        n = self.size if n is None else n
        if n == 0:
            return hashlib.sha256(b"").digest()
        return self.subtree_hash(0, n)

    def tiles(self, n: Optional[int] = None, height: int = TILE_HEIGHT) -> dict:
        """{path: bytes} for every hash tile and data tile of the tree of size n (tlog.NewTiles(h,
        0, n): the full tiles and, per level, the partial one). A hash tile of width W is W×32
        bytes of the level-(L·H) hashes; a data tile is the concatenated record texts, each
        followed by "\\n" (FormatRecord without the id line)."""
        n = self.size if n is None else n
        out = {}
        per = 1 << height
        level = 0
        while n >> (height * level) > 0:
            count = n >> (height * level)
            hashes = self.levels[height * level]
            for t in range((count + per - 1) // per):
                w = min(per, count - t * per)
                out[tile_path(level, t, w, height)] = b"".join(hashes[t * per: t * per + w])
                if level == 0:
                    out[tile_path("data", t, w, height)] = b"".join(
                        r + b"\n" for r in self.records[t * per: t * per + w])
            level += 1
        return out


def _check_record_line(s: str) -> None:
    if any(c in s for c in " \n\t") or not s:
        raise ValueError(f"invalid record field {s!r}")


class SumDB:
    """A checksum database: a NoteKey, record texts "<path> <version> h1:…\\n<path> <version>/go.mod
    h1:…\\n" in id order, and their tree. Produces the static files of a sumdb server."""

    def __init__(self, name: str = "sum.goinstall.test", key: Optional[NoteKey] = None, filler: int = 0):
        self.key = key or NoteKey(name)
        self.name = self.key.name
        self.records: list = []
        self.ids: dict = {}  # (path, version) -> record id
        for i in range(filler):
            self.add(f"example.com/filler{i // 4}", f"v1.0.{i % 4}",
                     "h1:" + base64.b64encode(hashlib.sha256(b"zip%d" % i).digest()).decode(),
                     "h1:" + base64.b64encode(hashlib.sha256(b"mod%d" % i).digest()).decode())

    @property
    def vkey(self) -> str:
        return self.key.vkey

    @staticmethod
    def record_text(path: str, version: str, h1: str, gomod_h1: str) -> bytes:
        for s in (path, version, h1, gomod_h1):
            _check_record_line(s)
        return f"{path} {version} {h1}\n{path} {version}/go.mod {gomod_h1}\n".encode()

    def add(self, path: str, version: str, h1: str, gomod_h1: str) -> int:
        if (path, version) in self.ids:
            raise ValueError(f"{path}@{version} already recorded")
        self.records.append(self.record_text(path, version, h1, gomod_h1))
        self.ids[(path, version)] = len(self.records) - 1
        return len(self.records) - 1

    def tree(self) -> Tree:
        return Tree(self.records)

    def signed_tree(self, tree: Optional[Tree] = None) -> bytes:
        tree = tree or self.tree()
        return self.key.sign(tree_note_text(tree.size, tree.root()))

    def lookup_body(self, path: str, version: str, note: bytes, rid: Optional[int] = None,
                    text: Optional[bytes] = None) -> bytes:
        """The /lookup response: "<id>\\n<record text>\\n" followed by the signed tree note."""
        rid = self.ids[(path, version)] if rid is None else rid
        text = self.records[rid] if text is None else text
        return format_record(rid, text) + note

    def files(self, tree: Optional[Tree] = None) -> dict:
        """{relative path: bytes} for a server of this database at the given tree (default: all
        records): latest, lookup/<path>@<version> for every record, and the tiles."""
        tree = tree or self.tree()
        note = self.signed_tree(tree)
        out = {"latest": note}
        for (path, version), rid in self.ids.items():
            if rid < tree.size:
                out[f"lookup/{path}@{version}"] = format_record(rid, tree.records[rid]) + note
        out.update(tree.tiles())
        return out


# ------------------------------------------------------------------------------------------------
# The site: nginx serving the proxy tree and the database
# ------------------------------------------------------------------------------------------------

class GoproxySite:
    """A module proxy + checksum database on loopback, served by nginx (static files).

    GoproxySite(modules=(), name="sum.goinstall.test", tls=True, http=True, filler=300,
                sumdb_via_proxy=True)
    - tls: an HTTPS nginx with a fresh test CA (.ca_cert; give it to clients as SSL_CERT_FILE);
      http: a plain-HTTP nginx on the same files. URLs use 127.0.0.1 (the cert has that IP SAN).
    - filler: unrelated records logged before the toolchains, so record ids pass 256 and proofs
      need full tiles and a level-1 tile like the real log's.
    - sumdb_via_proxy: the proxy answers /proxy/sumdb/<name>/supported (200) and mirrors the
      database there (a symlink); False → 404, as proxy.golang.org answers.
    Context manager (start/stop); .add(module), .fork(), .tamper_zip(v), .lie_lookup(v),
    .restore(); .access_log(), .requests(substring); .go_env(...) for the go command.
    """

    def __init__(self, modules: Iterable[ToolchainModule] = (), *, name: str = "sum.goinstall.test",
                 tls: bool = True, http: bool = True, filler: int = 300, sumdb_via_proxy: bool = True,
                 key: Optional[NoteKey] = None):
        if not (tls or http):
            raise ValueError("need tls or http")
        self._tmp = h.tmpfs_dir("goinstall-goproxy-")
        self.dir = self._tmp.name
        self.docroot = os.path.join(self.dir, "www")
        os.makedirs(self.docroot)
        self.db = SumDB(name, key=key, filler=filler)
        self.name = self.db.name
        self.modules: dict = {}
        self.cert = None
        if tls:
            pki = os.path.join(self.dir, "pki")
            self.cert = h.make_cert(pki, h.make_ca(pki, name="goinstall goproxy test CA"))
        self.https = h.Nginx(docroot=self.docroot, tls=True, cert=self.cert) if tls else None
        self.http = h.Nginx(docroot=self.docroot) if http else None
        self.forked = False
        self._published_tree: Optional[Tree] = None
        self._sumdb_via_proxy = sumdb_via_proxy
        for m in modules:
            self.add(m, publish=False)
        self.publish()
        self.set_sumdb_via_proxy(sumdb_via_proxy)

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> "GoproxySite":
        for ng in self.servers:
            if ng.proc is None:
                ng.start()
        return self

    def stop(self) -> None:
        for ng in self.servers:
            ng.stop()

    def close(self) -> None:
        for ng in self.servers:
            ng.close()
        self._tmp.cleanup()

    def __enter__(self) -> "GoproxySite":
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def servers(self) -> list:
        return [ng for ng in (self.https, self.http) if ng is not None]

    # -- URLs and keys ---------------------------------------------------------------------------
    def _base(self, https: Optional[bool]) -> str:
        if https is None:
            https = self.https is not None
        ng = self.https if https else self.http
        if ng is None or ng.port is None:
            raise RuntimeError(f"{'https' if https else 'http'} server not running")
        return ng.url_ip

    def proxy_url_for(self, https: Optional[bool] = None) -> str:
        return self._base(https) + "proxy"

    def sumdb_url_for(self, https: Optional[bool] = None) -> str:
        return self._base(https) + "sumdb/" + self.name

    @property
    def proxy_url(self) -> str:
        """GOPROXY value: https://127.0.0.1:<port>/proxy (the http one if tls=False)."""
        return self.proxy_url_for()

    @property
    def sumdb_url(self) -> str:
        """The database's direct URL: https://127.0.0.1:<port>/sumdb/<name>."""
        return self.sumdb_url_for()

    @property
    def vkey(self) -> str:
        return self.db.vkey

    @property
    def gosumdb(self) -> str:
        """GOSUMDB value naming our key and direct URL ("<vkey> <url>": no proxy probe)."""
        return f"{self.vkey} {self.sumdb_url}"

    @property
    def ca_cert(self) -> Optional[str]:
        return self.cert.ca_cert if self.cert else None

    # -- content -------------------------------------------------------------------------------
    def _put(self, rel: str, data: bytes) -> None:
        p = os.path.join(self.docroot, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        tmp = p + ".tmp-new"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, p)

    def _moddir(self) -> str:
        return f"proxy/{MODULE}/@v/"

    def add(self, mod: ToolchainModule, publish: bool = True) -> int:
        """Serve the module's .info/.mod/.zip, list it, log its record; returns the record id."""
        if mod.version in self.modules:
            raise ValueError(f"{mod.version} already on the site")
        self.modules[mod.version] = mod
        d = self._moddir()
        self._put(d + mod.version + ".info", mod.info)
        self._put(d + mod.version + ".mod", mod.mod)
        self._put(d + mod.version + ".zip", mod.zip)
        self._put(d + "list", "".join(v + "\n" for v in self.modules).encode())
        rid = self.db.add(MODULE, mod.version, mod.h1, mod.gomod_h1)
        if publish:
            self.publish()
        return rid

    def publish(self, tree: Optional[Tree] = None) -> Tree:
        """Write the database files (latest, lookups, tiles) for `tree` (default: every record)."""
        tree = tree or self.db.tree()
        for rel, data in self.db.files(tree).items():
            self._put(f"sumdb/{self.name}/{rel}", data)
        self._published_tree = tree
        return tree

    def set_sumdb_via_proxy(self, on: bool) -> None:
        """Whether <proxy>/sumdb/<name>/supported answers 200 (and the proxy mirrors the db)."""
        self._sumdb_via_proxy = on
        link = os.path.join(self.docroot, "proxy", "sumdb", self.name)
        supported = os.path.join(self.docroot, "sumdb", self.name, "supported")
        if on:
            self._put(f"sumdb/{self.name}/supported", b"")
            os.makedirs(os.path.dirname(link), exist_ok=True)
            if not os.path.lexists(link):
                os.symlink(os.path.relpath(os.path.join(self.docroot, "sumdb", self.name),
                                           os.path.dirname(link)), link)
        else:
            if os.path.lexists(link):
                os.unlink(link)
            if os.path.exists(supported):
                os.unlink(supported)

    @property
    def tree_size(self) -> int:
        return self._published_tree.size

    @property
    def latest_note(self) -> bytes:
        with open(os.path.join(self.docroot, "sumdb", self.name, "latest"), "rb") as f:
            return f.read()

    def record(self, version: str) -> tuple:
        """(id, record text) of golang.org/toolchain@version in the honest log."""
        rid = self.db.ids[(MODULE, version)]
        return rid, self.db.records[rid]

    def served_zip_path(self, version: str) -> str:
        return os.path.join(self.docroot, self._moddir() + version + ".zip")

    # -- attacks -------------------------------------------------------------------------------
    def fork(self, extra: int = 1, rewrite: Optional[int] = None) -> Tree:
        """Publish a tree head signed by the same key that is inconsistent with the one published
        so far: record `rewrite` (default: the last one) gets a different zip hash, and `extra`
        new records are appended (so the forked tree is larger: a client that saw the old head
        must find TreeHash(old N) ≠ old hash → SECURITY ERROR). Every lookup and /latest then
        carries the forked head. Only tiles from the rewritten record on change; pick `rewrite`
        inside the last partial tile (the default) so full tiles a client has cached stay valid."""
        old = self._published_tree
        recs = list(old.records)
        rid = len(recs) - 1 if rewrite is None else rewrite
        text = recs[rid].decode().split("\n")
        f = text[0].split(" ")
        f[2] = "h1:" + base64.b64encode(hashlib.sha256(b"forked" + recs[rid]).digest()).decode()
        text[0] = " ".join(f)
        recs[rid] = "\n".join(text).encode()
        for i in range(extra):
            recs.append(SumDB.record_text(
                "example.com/forked", f"v0.0.{i}",
                "h1:" + base64.b64encode(hashlib.sha256(b"fz%d" % i).digest()).decode(),
                "h1:" + base64.b64encode(hashlib.sha256(b"fm%d" % i).digest()).decode()))
        forked = Tree(recs)
        honest_tiles = old.tiles()
        for rel, data in forked.tiles().items():
            if rel in honest_tiles and honest_tiles[rel] != data and ".p/" not in rel:
                raise ValueError(f"fork would change full tile {rel}; rewrite a later record")
        self.publish(forked)
        self.forked = True
        return forked

    def tamper_zip(self, version: str, how: str = "content") -> bytes:
        """Replace the served zip. "content": a valid zip whose bin/go differs (same names: what
        an attacker who rebuilt the archive serves); "flip": one byte flipped in the middle of
        the largest entry's compressed data (a corrupt zip);
        "extra": an extra file added; "header": bytes changed outside any file content (a local
        header's mtime; the h1 hash is unchanged). Returns the bytes now served."""
        mod = self.modules[version]
        if how == "flip":
            # Inside the compressed data of the largest entry: a flip in a local header or the
            # central directory can leave every file's content, and so the h1 hash, unchanged.
            z = bytearray(mod.zip)
            zi = max(zipfile.ZipFile(io.BytesIO(mod.zip)).infolist(), key=lambda i: i.compress_size)
            off = zi.header_offset
            name_len = int.from_bytes(z[off + 26: off + 28], "little")
            extra_len = int.from_bytes(z[off + 28: off + 30], "little")
            z[off + 30 + name_len + extra_len + zi.compress_size // 2] ^= 0xFF
            data = bytes(z)
        elif how == "header":
            # The mtime of the first local file header: no file content changes, so the zip's
            # h1 hash (over names and contents) does not either; clients must still accept it.
            z = bytearray(mod.zip)
            z[10:14] = bytes(b ^ 0x5A for b in z[10:14])
            data = bytes(z)
        elif how in ("content", "extra"):
            src = zipfile.ZipFile(io.BytesIO(mod.zip))
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                for zi in src.infolist():
                    data = src.read(zi)
                    if how == "content" and zi.filename == mod.prefix + "bin/go":
                        data = data.replace(b"#!/bin/sh\n", b"#!/bin/sh\necho pwned >&2\n", 1)
                        if data == src.read(zi):
                            data += b"\n# tampered\n"
                    zf.writestr(zi, data)
                if how == "extra":
                    zi = zipfile.ZipInfo(mod.prefix + "bin/evil", date_time=(2023, 1, 1, 0, 0, 0))
                    zi.external_attr = (stat.S_IFREG | 0o755) << 16
                    zf.writestr(zi, b"#!/bin/sh\necho pwned\n")
            data = buf.getvalue()
        else:
            raise ValueError(f"unknown tamper mode {how!r}")
        self._put(self._moddir() + version + ".zip", data)
        return data

    def lie_lookup(self, version: str, h1: Optional[str] = None) -> bytes:
        """Make /lookup/golang.org/toolchain@version answer with the right record id and the
        current signed head, but record text that is not the logged leaf (zip hash `h1`, default:
        that of a tampered zip). Returns the response body."""
        rid = self.db.ids[(MODULE, version)]
        mod = self.modules[version]
        if h1 is None:
            h1 = zip_h1(self.tamper_zip(version, "content"))
            self._put(self._moddir() + version + ".zip", mod.zip)  # zip stays honest here
        text = SumDB.record_text(MODULE, version, h1, mod.gomod_h1)
        body = format_record(rid, text) + self.latest_note
        self._put(f"sumdb/{self.name}/lookup/{MODULE}@{version}", body)
        return body

    def restore(self) -> None:
        """Undo tamper_zip and lie_lookup (re-serve every zip, republish the honest tree; a fork
        cannot be undone for clients that saw it)."""
        for v, m in self.modules.items():
            self._put(self._moddir() + v + ".zip", m.zip)
        self.publish()
        self.forked = False

    # -- observation -----------------------------------------------------------------------------
    def access_log(self) -> list:
        """LogEntry list of every server (https first, then http), each request logged: call it
        once the client under test has exited (nginx logs a request after its last byte is sent,
        so a client can finish first; a marker request to each server waits for that)."""
        out = []
        for ng in self.servers:
            out += ng.requests_until_marker()
        return out

    def clear_access_log(self) -> None:
        for ng in self.servers:
            ng.clear_access_log()

    def requests(self, contains: str = "", status: Optional[int] = None) -> list:
        """Logged requests whose path contains `contains` (and has `status`)."""
        return [e for e in self.access_log()
                if contains in e.path and (status is None or e.status == status)]

    def wait_for_request(self, contains: str, timeout: float = 5.0) -> list:
        """Bounded wait until a request whose path contains `contains` is logged (nginx logs
        after the response, so a fast client can finish first)."""
        deadline = time.monotonic() + timeout
        while True:
            r = [e for ng in self.servers for e in ng.access_log_lines() if contains in e.path]
            if r or time.monotonic() > deadline:
                return r
            time.sleep(0.02)

    def check_supported(self, https: Optional[bool] = None, timeout: float = 5.0) -> int:
        """HTTP status of <proxy>/sumdb/<name>/supported (fetched with urllib, trusting our CA)."""
        url = self.proxy_url_for(https) + f"/sumdb/{self.name}/supported"
        ctx = ssl.create_default_context(cafile=self.ca_cert) if url.startswith("https") else None
        try:
            with urllib.request.urlopen(url, timeout=timeout, context=ctx) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code

    # -- clients -------------------------------------------------------------------------------
    def go_env(self, workdir: Union[str, os.PathLike], https: Optional[bool] = None,
               sumdb_via_proxy: bool = False) -> dict:
        """Environment for a hermetic go command (or goinstall) run against this site: GOPROXY
        (ours only, no fallback), GOSUMDB ("<vkey> <url>", or with sumdb_via_proxy just the vkey,
        so the go command probes <proxy>/sumdb/<name>/supported), GONOSUMDB/GOPRIVATE/GONOPROXY/
        GOINSECURE empty, GOENV=off, GOTOOLCHAIN=local, GOFLAGS=-modcacherw, HOME/GOPATH/
        GOMODCACHE/GOCACHE under workdir, SSL_CERT_FILE = our CA."""
        w = os.fspath(workdir)
        env = {
            "HOME": w,
            "GOPATH": os.path.join(w, "gopath"),
            "GOMODCACHE": os.path.join(w, "gopath", "pkg", "mod"),
            "GOCACHE": os.path.join(w, "gocache"),
            "GOENV": "off",
            "GOTOOLCHAIN": "local",
            "GOFLAGS": "-modcacherw",
            "GO111MODULE": "on",
            "GOPROXY": self.proxy_url_for(https),
            "GOSUMDB": self.vkey if sumdb_via_proxy else f"{self.vkey} {self.sumdb_url_for(https)}",
            "GONOSUMDB": "", "GOPRIVATE": "", "GONOPROXY": "", "GOINSECURE": "", "GONOSUMCHECK": None,
            "GOTELEMETRY": "off",
            "CGO_ENABLED": "0",
        }
        if self.ca_cert:
            env["SSL_CERT_FILE"] = self.ca_cert
            env["SSL_CERT_DIR"] = os.path.join(w, "no-cert-dir")
        return env



def verify_note(vkey: str, msg: bytes) -> bytes:
    """Check a signed note against a verifier key ("<name>+<hash>+<base64 key>"); returns the
    text. Raises ValueError when no signature line of that key verifies. (Used to check our notes
    and the real sum.golang.org fixtures with the same code.)"""
    name, hash_hex, key_b64 = vkey.split("+", 2)
    key_bytes = base64.b64decode(key_b64)
    if key_bytes[0] != _ALG_ED25519 or len(key_bytes) != 33:
        raise ValueError("not an Ed25519 verifier key")
    kh = int.from_bytes(hashlib.sha256(name.encode() + b"\n" + key_bytes).digest()[:4], "big")
    if f"{kh:08x}" != hash_hex:
        raise ValueError("verifier key hash mismatch")
    split = msg.rfind(b"\n\n")
    if split < 0:
        raise ValueError("malformed note")
    text, sigs = msg[: split + 1], msg[split + 2:]
    pub = ed25519.Ed25519PublicKey.from_public_bytes(key_bytes[1:])
    for line in sigs.decode().split("\n"):
        if not line:
            continue
        if not line.startswith("\u2014 "):
            raise ValueError(f"malformed signature line {line!r}")
        lname, _, blob = line[2:].rpartition(" ")
        raw = base64.b64decode(blob)
        if lname != name or int.from_bytes(raw[:4], "big") != kh:
            continue
        try:
            pub.verify(raw[4:], text)
            return text
        except Exception as e:  # cryptography's InvalidSignature
            raise ValueError("invalid signature") from e
    raise ValueError("no signature by this key")
