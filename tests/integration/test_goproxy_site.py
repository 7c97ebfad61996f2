"""The goproxy_site harness, validated by real software: Debian's Go 1.19 go command downloads a
golang.org/toolchain module from our proxy and verifies it against our checksum database (direct
and through the proxy, over HTTPS with a test CA and over plain HTTP), and refuses a tampered zip,
a forked tree head and a lying lookup. Only loopback: GOPROXY and GOSUMDB name 127.0.0.1 only,
and every logged request is checked to be one of ours."""
import base64
import io
import json
import os
import subprocess
import sys
import unittest
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
import goinstall_harness as h  # noqa: E402

try:
    import goproxy_site as gps  # noqa: E402
except ImportError as e:  # python3-cryptography missing
    gps = None
    _import_error = e

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "sumdb")
V1, V2 = "go1.21.3", "go1.21.4"


def _fake_archive(dest, go_version):
    return h.fake_toolchain_archive(go_version, dest, arch="amd64", extra_files={
        "VERSION": f"{go_version}\ntime 2023-10-09T17:04:35Z\n",
        "src/go.mod": "module std\n\ngo 1.21\n",
        "src/cmd/go.mod": "module cmd\n\ngo 1.21\n",
        "api/go1.txt": "pkg fmt, func Println(...interface{}) (int, error)\n",
        "doc/go_spec.html": "<html></html>\n",
        "misc/wasm/go_js_wasm_exec": "#!/bin/sh\nexit 0\n",
        "lib/time/update.bash": "#!/bin/sh\nexit 0\n",
    })


def _fake_module(dest, go_version):
    return gps.make_toolchain_zip(_fake_archive(dest, go_version))


@unittest.skipUnless(os.access("/usr/lib/go-1.19/bin/go", os.X_OK), "needs golang-1.19-go")
@unittest.skipIf(gps is None, "needs python3-cryptography")
class GoproxySiteTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = h.tmpfs_dir("goinstall-gps-mods-")
        cls.arc1 = _fake_archive(os.path.join(cls.tmp.name, "1"), V1)
        cls.m1 = gps.make_toolchain_zip(cls.arc1)
        cls.m2 = _fake_module(os.path.join(cls.tmp.name, "2"), V2)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def site(self, **kw) -> "gps.GoproxySite":
        s = gps.GoproxySite([self.m1, self.m2], **kw)
        s.start()
        self.addCleanup(s.close)
        return s

    def go(self, site, work, mod, https=None, via_proxy=False, env_extra=None, json_out=True):
        os.makedirs(work, exist_ok=True)
        env = site.go_env(work, https=https, sumdb_via_proxy=via_proxy)
        env.update(env_extra or {})
        r = h.run_isolated([gps.GO119, "mod", "download", *(["-json"] if json_out else []),
                            f"{gps.MODULE}@{mod.version}"], env_extra=env, home=work, timeout=60)
        # Hermetic: nothing but our two origins, no network settings inherited.
        self.assertTrue(r.env["GOPROXY"].startswith(("https://127.0.0.1:", "http://127.0.0.1:")), r.env)
        self.assertNotIn(",", r.env["GOPROXY"] + r.env["GOSUMDB"])
        self.assertNotIn("|", r.env["GOPROXY"])
        if via_proxy:   # the db is reached through GOPROXY only (its /supported answers 200)
            self.assertEqual(r.env["GOSUMDB"], site.vkey)
        else:
            self.assertIn(" https://127.0.0.1:" if https in (None, True) else " http://127.0.0.1:", r.env["GOSUMDB"])
        self.assertNotIn("GONOSUMCHECK", r.env)
        return r

    def assert_only_our_requests(self, site):
        for e in site.access_log():
            self.assertTrue(e.path.startswith(("/proxy/", "/sumdb/")), e.path)

    def assert_downloaded(self, r, site, mod, work):
        self.assertEqual(r.returncode, 0, r.stderr)
        out = json.loads(r.stdout)
        self.assertNotIn("Error", out)
        rid, text = site.record(mod.version)
        self.assertEqual(out["Sum"], mod.h1)
        self.assertIn(f"{gps.MODULE} {mod.version} {out['Sum']}\n".encode(), text)
        self.assertEqual(out["GoModSum"], gps.GOMOD_H1)
        with open(out["Zip"], "rb") as f:
            self.assertEqual(f.read(), mod.zip)
        self.assertEqual(out["Dir"], os.path.join(work, "gopath", "pkg", "mod", f"{gps.MODULE}@{mod.version}"))
        self.assertEqual(h.tree_files(out["Dir"]),
                         ["LICENSE", "VERSION", "bin/go", "bin/gofmt", "lib/time/update.bash",
                          "pkg/tool/linux_amd64/compile", "src/_go.mod", "src/cmd/_go.mod",
                          "src/fmt/print.go", "src/runtime/extern.go"])
        v = subprocess.run(["sh", os.path.join(out["Dir"], "bin", "go"), "version"],
                           capture_output=True, text=True, timeout=10)
        self.assertEqual(v.stdout.strip(), f"go version {mod.go_version} linux/amd64")
        # The go command kept the verified tree head we signed.
        with open(os.path.join(work, "gopath", "pkg", "sumdb", site.name, "latest"), "rb") as f:
            self.assertEqual(f.read(), site.latest_note)
        return out

    # -- formats (no go command) ----------------------------------------------------------------
    def test_formats_against_real_data(self):
        self.assertEqual(gps.gomod_h1(b"module golang.org/toolchain\n"), gps.GOMOD_H1)
        with open(os.path.join(FIXTURES, "toolchain-v0.0.1.mod"), "rb") as f:
            self.assertEqual(gps.gomod_h1(f.read()), gps.GOMOD_H1)
        # Our note and record code read real sum.golang.org data: the signature of a real lookup
        # verifies with the real key, and its record hashes to the documented leaf.
        with open(os.path.join(FIXTURES, "sumdb-public-key.txt")) as f:
            real_key = f.read().strip()
        with open(os.path.join(FIXTURES, "sumdb-lookup-example.txt"), "rb") as f:
            body = f.read()
        rid, rest = body.split(b"\n", 1)
        text, note = rest.split(b"\n\n", 1)
        self.assertEqual(int(rid), 24929362)
        self.assertTrue(gps.verify_note(real_key, note).startswith(b"go.sum database tree\n28905453\n"))
        self.assertEqual(base64.b64encode(gps.tlog_record_hash(text + b"\n")).decode(),
                         "A/+TP2a1pyCJM2jsWxhtn8S+e4UYsO5MYbxns1Xhj+o=")
        self.assertEqual(body, gps.format_record(int(rid), text + b"\n") + note)
        with self.assertRaises(ValueError):
            gps.verify_note(real_key, note.replace(b"28905453", b"28905454"))
        for fn in ("sumdb-note-3935567.txt", "sumdb-note-6476701.txt", "sumdb-note-52544510.txt",
                   "sumdb-latest-28891140.txt", "sumdb-latest-15067302.txt"):
            with open(os.path.join(FIXTURES, fn), "rb") as f:
                gps.verify_note(real_key, f.read())
        # .info as proxy.golang.org serves it (a real body, transcribed in the shared fixtures).
        info = gps.make_toolchain_zip(self.arc1, go_version="go1.21.0", time="2023-08-04T20:14:06Z").info
        self.assertEqual(info, b'{"Version":"v0.0.1-go1.21.0.linux-amd64","Time":"2023-08-04T20:14:06Z"}')
        info = gps.make_toolchain_zip(self.arc1, info_style="distpack").info
        self.assertEqual(info, b'{"Version":"v0.0.1-go1.21.3.linux-amd64", "Time":"2023-10-09T17:04:35Z"}\n')
        # Tile paths as tlog writes them.
        self.assertEqual(gps.tile_path(0, 1234067, 5), "tile/8/0/x001/x234/067.p/5")
        self.assertEqual(gps.tile_path(1, 441, 15), "tile/8/1/441.p/15")
        self.assertEqual(gps.tile_path("data", 3, 256), "tile/8/data/003")
        # The module zip, as cmd/distpack lays it out.
        m = self.m1
        self.assertEqual(m.version, "v0.0.1-go1.21.3.linux-amd64")
        with zipfile.ZipFile(io.BytesIO(m.zip)) as zf:
            infos = zf.infolist()
        names = [i.filename for i in infos]
        self.assertEqual(names, sorted(names))
        self.assertTrue(all(n.startswith(m.prefix) for n in names))
        self.assertFalse([n for n in names if n.endswith("/") or n.endswith("/go.mod")])
        self.assertIn(m.prefix + "src/_go.mod", names)
        self.assertIn(m.prefix + "VERSION", names)
        self.assertFalse([n for n in names if n[len(m.prefix):].startswith(("api/", "doc/", "misc/", "test/"))])
        modes = {i.filename[len(m.prefix):]: (i.external_attr >> 16) & 0o777 for i in infos}
        self.assertEqual(modes["bin/go"], 0o755)
        self.assertEqual(modes["pkg/tool/linux_amd64/compile"], 0o755)
        self.assertEqual(modes["lib/time/update.bash"], 0o755)
        self.assertEqual(modes["src/_go.mod"], 0o644)
        self.assertTrue(all(i.compress_type == zipfile.ZIP_DEFLATED for i in infos))
        self.assertEqual(json.loads(m.info), {"Version": m.version, "Time": "2023-10-09T17:04:35Z"})
        self.assertEqual(gps.zip_h1(m.zip), m.h1)
        # Our signed heads verify with our key; the tiles we serve rebuild the signed root.
        db = gps.SumDB("sum.selfcheck.test", filler=300)
        tree = db.tree()
        note_text = gps.verify_note(db.vkey, db.signed_tree(tree))
        self.assertEqual(note_text, gps.tree_note_text(300, tree.root()))
        tiles = tree.tiles()
        self.assertEqual(sorted(tiles), ["tile/8/0/000", "tile/8/0/001.p/44", "tile/8/1/000.p/1",
                                         "tile/8/data/000", "tile/8/data/001.p/44"])
        l0 = tiles["tile/8/0/000"] + tiles["tile/8/0/001.p/44"]
        leaves = [l0[i:i + 32] for i in range(0, len(l0), 32)]
        self.assertEqual(leaves, [gps.tlog_record_hash(r) for r in db.records])
        self.assertEqual(tiles["tile/8/1/000.p/1"], _mth(leaves[:256]))
        self.assertEqual(gps.tlog_node_hash(tiles["tile/8/1/000.p/1"], _mth(leaves[256:])), tree.root())
        self.assertEqual(tiles["tile/8/data/001.p/44"], b"".join(r + b"\n" for r in db.records[256:]))

    # -- the real go command -------------------------------------------------------------------
    def test_download_https_direct_sumdb(self):
        site = self.site()
        work = h.tmpfs_path(self, "goinstall-gps-w-")
        r = self.go(site, work, self.m1)
        self.assert_downloaded(r, site, self.m1, work)
        paths = [e.path for e in site.https.requests_until_marker()]  # every request logged
        lookup = f"/sumdb/{site.name}/lookup/{gps.MODULE}@{self.m1.version}"
        self.assertIn(lookup, paths)
        tiles = [p for p in paths if p.startswith(f"/sumdb/{site.name}/tile/8/")]
        self.assertTrue(tiles, paths)
        self.assertTrue(all(e.status == 200 for e in site.access_log()), site.access_log())
        self.assertIn(f"/proxy/{gps.MODULE}/@v/{self.m1.version}.zip", paths)
        self.assertFalse([p for p in paths if p.startswith("/proxy/sumdb/")], "GOSUMDB with a URL skips the proxy")
        self.assertEqual(site.http.access_log_lines(), [])
        self.assertTrue(all(e.ssl_protocol.startswith("TLS") for e in site.https.access_log_lines()))
        self.assert_only_our_requests(site)
        # A second download of the same module is served from the cache: no new requests.
        n = len(site.access_log())
        r2 = self.go(site, work, self.m1)
        self.assertEqual(r2.returncode, 0, r2.stderr)
        self.assertEqual(len(site.access_log()), n)

    def test_download_plain_http(self):
        site = self.site()
        work = h.tmpfs_path(self, "goinstall-gps-w-")
        r = self.go(site, work, self.m2, https=False, env_extra={"SSL_CERT_FILE": "/nonexistent"})
        self.assert_downloaded(r, site, self.m2, work)
        paths = [e.path for e in site.http.requests_until_marker()]  # every request logged
        self.assertIn(f"/sumdb/{site.name}/lookup/{gps.MODULE}@{self.m2.version}", paths)
        self.assertTrue([p for p in paths if "/tile/8/" in p])
        self.assertEqual(site.https.requests_until_marker(), [])
        self.assert_only_our_requests(site)

    def test_sumdb_through_the_proxy(self):
        site = self.site()
        # The go command falls back to https://<name>/ if the proxy does not support the db:
        # make sure it does before running it (no packet may leave loopback).
        self.assertEqual(site.check_supported(), 200)
        site.clear_access_log()
        work = h.tmpfs_path(self, "goinstall-gps-w-")
        r = self.go(site, work, self.m1, via_proxy=True)
        self.assertEqual(r.env["GOSUMDB"], site.vkey)
        self.assert_downloaded(r, site, self.m1, work)
        paths = [e.path for e in site.access_log()]  # every request logged
        base = f"/proxy/sumdb/{site.name}/"
        self.assertIn(base + "supported", paths)
        self.assertIn(base + f"lookup/{gps.MODULE}@{self.m1.version}", paths)
        self.assertTrue([p for p in paths if p.startswith(base + "tile/8/")], paths)
        self.assertFalse([p for p in paths if p.startswith("/sumdb/")], paths)
        self.assert_only_our_requests(site)

    def test_list_versions(self):
        site = self.site()
        work = h.tmpfs_path(self, "goinstall-gps-w-")
        r = h.run_isolated([gps.GO119, "list", "-m", "-json", "-versions", f"{gps.MODULE}@{self.m2.version}"],
                           env_extra=site.go_env(work), home=work, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["Versions"], [self.m1.version, self.m2.version])
        self.assertTrue(site.wait_for_request(f"/proxy/{gps.MODULE}/@v/list"))

    # -- refusals ------------------------------------------------------------------------------
    def assert_refused(self, r, *needles, work=None, mod=None):
        """Non-zero exit; with -json the error is the "Error" field on stdout, else stderr."""
        self.assertNotEqual(r.returncode, 0, r.stdout + r.stderr)
        err = r.stderr
        if r.stdout.strip():
            out = json.loads(r.stdout)
            self.assertNotIn("Sum", out)
            err += out.get("Error", "")
        for n in needles:
            self.assertIn(n, err)
        if work is not None:  # nothing extracted into the module cache
            self.assertFalse(os.path.exists(os.path.join(work, "gopath", "pkg", "mod", f"{gps.MODULE}@{mod.version}")))
        return err

    def test_tampered_zip_refused(self):
        site = self.site()
        served = site.tamper_zip(self.m1.version)
        self.assertNotEqual(gps.zip_h1(served), self.m1.h1)
        work = h.tmpfs_path(self, "goinstall-gps-w-")
        r = self.go(site, work, self.m1)
        self.assert_refused(r, "verifying module: checksum mismatch", f"downloaded: {gps.zip_h1(served)}",
                            f"{site.name}: {self.m1.h1}", "SECURITY ERROR", work=work, mod=self.m1)
        self.assertTrue(site.wait_for_request(f"/sumdb/{site.name}/lookup/"))
        # Without -json the same refusal is on stderr.
        work2 = h.tmpfs_path(self, "goinstall-gps-w-")
        r = self.go(site, work2, self.m1, json_out=False)
        self.assertEqual(r.stdout, "")
        self.assertIn("SECURITY ERROR", r.stderr)
        self.assertIn("checksum mismatch", r.stderr)
        # An added file is refused the same way; a corrupt deflate stream fails before hashing.
        site.tamper_zip(self.m1.version, "extra")
        self.assert_refused(self.go(site, h.tmpfs_path(self, "goinstall-gps-w-"), self.m1),
                            "SECURITY ERROR", "checksum mismatch")
        site.tamper_zip(self.m1.version, "flip")
        w = h.tmpfs_path(self, "goinstall-gps-w-")
        self.assert_refused(self.go(site, w, self.m1), work=w, mod=self.m1)
        self.assert_only_our_requests(site)

    def test_zip_bytes_outside_file_contents_do_not_count(self):
        # h1 hashes names and contents, not zip bytes: the go command accepts a zip whose local
        # header mtime was changed, and reports the honest hash.
        site = self.site()
        served = site.tamper_zip(self.m1.version, "header")
        self.assertNotEqual(served, self.m1.zip)
        self.assertEqual(gps.zip_h1(served), self.m1.h1)
        work = h.tmpfs_path(self, "goinstall-gps-w-")
        r = self.go(site, work, self.m1)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(json.loads(r.stdout)["Sum"], self.m1.h1)

    def test_forked_tree_refused(self):
        site = self.site()
        work = h.tmpfs_path(self, "goinstall-gps-w-")
        self.assert_downloaded(self.go(site, work, self.m1), site, self.m1, work)
        seen = site.latest_note
        forked = site.fork()
        self.assertEqual(forked.size, site.db.tree().size + 1)
        # Same key, so the forked head is validly signed, yet inconsistent with the one seen.
        gps.verify_note(site.vkey, site.latest_note)
        self.assertNotEqual(site.latest_note, seen)
        r = self.go(site, work, self.m2)
        err = self.assert_refused(r, "SECURITY ERROR", "go.sum database server misbehavior detected!",
                                  "proof of misbehavior:", work=work, mod=self.m2)
        self.assertIn("SECURITY ERROR", r.stderr)  # fatal: on stderr even with -json
        self.assertIn(f"go.sum database tree\n\t{forked.size - 1}\n", err.replace("\r", ""))
        self.assertIn(f"go.sum database tree\n\t{forked.size}\n", err)
        # A client that never saw the honest head cannot tell (that is what witnesses are for):
        # the fork rewrote only the last record (m2's), so m1 still verifies under the forked head.
        fresh = h.tmpfs_path(self, "goinstall-gps-w-")
        r = self.go(site, fresh, self.m1)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assert_only_our_requests(site)

    def test_lying_lookup_refused(self):
        site = self.site()
        body = site.lie_lookup(self.m1.version)
        self.assertNotIn(self.m1.h1.encode(), body)
        work = h.tmpfs_path(self, "goinstall-gps-w-")
        r = self.go(site, work, self.m1)
        self.assert_refused(r, "verifying go.mod", "cannot authenticate record data in server response",
                            work=work, mod=self.m1)
        self.assertTrue(site.wait_for_request("/tile/8/"))  # it checked the record against the tiles
        self.assert_only_our_requests(site)

    def test_other_key_refused(self):
        site = self.site()
        other = gps.NoteKey(site.name)  # same name, different key
        work = h.tmpfs_path(self, "goinstall-gps-w-")
        r = self.go(site, work, self.m1, env_extra={"GOSUMDB": f"{other.vkey} {site.sumdb_url}"})
        self.assert_refused(r, "verifying go.mod", "reading tree note: note has no verifiable signatures",
                            work=work, mod=self.m1)


@unittest.skipUnless(os.environ.get("GOINSTALL_GOPROXY_REAL") == "1",
                     "opt-in (~60 s): GOINSTALL_GOPROXY_REAL=1 converts the real Go 1.19 toolchain")
@unittest.skipUnless(os.access("/usr/lib/go-1.19/bin/go", os.X_OK), "needs golang-1.19-go")
@unittest.skipIf(gps is None, "needs python3-cryptography")
class RealToolchainModuleTest(unittest.TestCase):
    def test_real_toolchain_module(self):
        arc = h.toolchain_archive()
        mod = gps.make_toolchain_zip(arc, compresslevel=1)
        self.assertEqual(mod.version, "v0.0.1-go1.19.8.linux-amd64")
        self.assertIn(mod.prefix + "src/cmd/_go.mod", mod.names)
        with gps.GoproxySite([mod]) as site:
            work = h.tmpfs_path(self, "goinstall-gps-real-")
            r = h.run_isolated([gps.GO119, "mod", "download", "-json", f"{gps.MODULE}@{mod.version}"],
                               env_extra=site.go_env(work), home=work, timeout=300)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            out = json.loads(r.stdout)
            self.assertEqual(out["Sum"], mod.h1)
        # The module cache keeps no Unix modes (x/mod Unzip): whoever runs the toolchain must
        # restore the execute bits, as cmd/go's toolchain.Exec does.
        gobin = os.path.join(out["Dir"], "bin", "go")
        self.assertFalse(os.stat(gobin).st_mode & 0o111)
        for rel in ("bin/go", "bin/gofmt"):
            os.chmod(os.path.join(out["Dir"], rel), 0o755)
        tools = os.path.join(out["Dir"], "pkg", "tool")
        for dirpath, _dirs, files in os.walk(tools):
            for f in files:
                os.chmod(os.path.join(dirpath, f), 0o755)
        v = h.run_isolated([gobin, "version"], home=work)
        self.assertEqual(v.stdout.strip(), "go version go1.19.8 linux/amd64", v.stderr)


def _mth(hashes):
    """RFC 6962 root over already-hashed leaves (an independent check of Tree.root)."""
    if len(hashes) == 1:
        return hashes[0]
    k = 1
    while k * 2 < len(hashes):
        k *= 2
    return gps.tlog_node_hash(_mth(hashes[:k]), _mth(hashes[k:]))


if __name__ == "__main__":
    unittest.main(verbosity=2)
