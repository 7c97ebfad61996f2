"""Self-check of the shared test harness (tests/harness/goinstall_harness.py).

Runs without goinstall: `GOINSTALL_BUILD_DIR=/tmp/hb python3 tests/integration/test_harness_selfcheck.py`
(the parts that need $GOINSTALL_BIN are skipped when it is unset).
"""

import dataclasses
import json
import os
import shutil
import ssl
import stat
import subprocess
import sys
import tarfile
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
import goinstall_harness as h  # noqa: E402

# urllib must never go through a proxy from the environment: loopback only.
_OPENER_NO_PROXY = urllib.request.ProxyHandler({})


def fetch(url, context=None, headers=None, timeout=10):
    handlers = [_OPENER_NO_PROXY]
    if context is not None:
        handlers.append(urllib.request.HTTPSHandler(context=context))
    opener = urllib.request.build_opener(*handlers)
    req = urllib.request.Request(url, headers=headers or {})
    with opener.open(req, timeout=timeout) as r:
        return r.status, dict(r.headers), r.read()


class NginxTests(unittest.TestCase):
    def test_http_fetch_and_access_log(self):
        with h.Nginx() as ng:
            self.assertTrue(ng.url.startswith("http://127.0.0.1:"), ng.url)
            self.assertLess(ng.start_seconds, 5.0)
            body = os.urandom(100_000)
            ng.put("files/blob.bin", body)
            status, _, got = fetch(ng.url_for("files/blob.bin"))
            self.assertEqual((status, got), (200, body))
            status, hdrs, got = fetch(ng.url_for("files/blob.bin?x=1"),
                                      headers={"Range": "bytes=10-19"})
            self.assertEqual((status, got), (206, body[10:20]))
            with self.assertRaises(urllib.error.HTTPError) as cm:
                fetch(ng.url_for("missing"))
            self.assertEqual(cm.exception.code, 404)

            log = ng.wait_for_log(3)
            self.assertEqual(len(log), 3, log)
            full, ranged, missing = log
            self.assertEqual((full.method, full.path, full.status, full.bytes, full.range),
                             ("GET", "/files/blob.bin", 200, len(body), None))
            self.assertTrue(full.completed)
            self.assertGreater(full.bytes_sent, full.bytes)
            self.assertEqual((ranged.path, ranged.query, ranged.status, ranged.bytes, ranged.range),
                             ("/files/blob.bin", "x=1", 206, 10, "bytes=10-19"))
            self.assertEqual(ranged.request, "GET /files/blob.bin?x=1 HTTP/1.1")
            self.assertEqual((missing.path, missing.status), ("/missing", 404))
            self.assertEqual(full.ssl_protocol, "")
            self.assertEqual(len(ng.access_log_lines(since=2)), 1)
            ng.clear_access_log()
            self.assertEqual(ng.access_log_lines(), [])

            # index.json is served for a directory URL with go.dev's query string.
            ng.put("dl/index.json", h.make_index([]))
            status, hdrs, got = fetch(ng.url_for("dl/?mode=json&include=all"))
            self.assertEqual((status, json.loads(got)), (200, []))
            self.assertEqual(hdrs.get("Content-Type"), "application/json")

            # restart on the same port
            port = ng.port
            ng.restart()
            self.assertEqual(ng.port, port)
            self.assertEqual(fetch(ng.url_for("files/blob.bin"))[2], body)
            d, proc = ng.dir, ng.proc
        self.assertFalse(os.path.exists(d))
        self.assertIsNotNone(proc.returncode)

    def test_extra_location(self):
        loc = 'location = /teapot { return 418 "short and stout\\n"; }'
        with h.Nginx(locations=[loc]) as ng:
            with self.assertRaises(urllib.error.HTTPError) as cm:
                fetch(ng.url_for("teapot"))
            self.assertEqual(cm.exception.code, 418)
            self.assertEqual(ng.wait_for_log(1)[0].status, 418)

    def test_https_urllib_and_curl(self):
        with h.Nginx(tls=True) as ng:
            self.assertTrue(ng.url.startswith("https://localhost:"), ng.url)
            ng.put("hello.txt", "hello over tls\n")
            status, _, got = fetch(ng.url_for("hello.txt"), context=ng.client_ssl_context())
            self.assertEqual((status, got), (200, b"hello over tls\n"))
            # the cert also names 127.0.0.1
            _, _, got = fetch(ng.url_ip + "hello.txt", context=ng.client_ssl_context())
            self.assertEqual(got, b"hello over tls\n")
            # an unconfigured client (system CAs) must reject our test CA
            with self.assertRaises(urllib.error.URLError) as cm:
                fetch(ng.url_for("hello.txt"), context=ssl.create_default_context())
            self.assertIsInstance(cm.exception.reason, ssl.SSLCertVerificationError)
            entries = ng.wait_for_log(2)
            self.assertEqual(entries[0].ssl_server_name, "localhost")
            self.assertIn(entries[0].ssl_protocol, ("TLSv1.2", "TLSv1.3"))

            curl = shutil.which("curl")
            if curl is None:
                self.skipTest("curl not installed (urllib path checked above)")
            r = h.run_isolated([curl, "-sS", "--noproxy", "*", "--max-time", "10",
                                "--cacert", ng.ca_cert, ng.url_for("hello.txt")], timeout=30)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stdout, "hello over tls\n")
            r = h.run_isolated([curl, "-sS", "--noproxy", "*", "--max-time", "10",
                                ng.url_for("hello.txt")], timeout=30)
            self.assertEqual(r.returncode, 60, r.stderr)  # CURLE_PEER_FAILED_VERIFICATION

    def test_bad_certificates_rejected(self):
        with h.tmpfs_dir("goinstall-pki-") as d:
            ca = h.make_ca(d)
            variants = h.make_cert_variants(d, ca)
            trusting_ca = ssl.create_default_context(cafile=ca.cert)
            expect = {
                "good": None,
                "expired": "expired",
                "not_yet_valid": "not yet valid",
                "wrong_name": "Hostname mismatch",
                "self_signed": "self-signed certificate",
                "other_ca": "unable to get local issuer certificate",
            }
            for name, msg in expect.items():
                with self.subTest(variant=name), h.Nginx(tls=True, cert=variants[name]) as ng:
                    ng.put("x", "x")
                    if msg is None:
                        self.assertEqual(fetch(ng.url_for("x"), context=trusting_ca)[2], b"x")
                        continue
                    with self.assertRaises(urllib.error.URLError) as cm:
                        fetch(ng.url_for("x"), context=trusting_ca)
                    err = cm.exception.reason
                    self.assertIsInstance(err, ssl.SSLCertVerificationError)
                    self.assertIn(msg, err.verify_message)
            # The self-signed cert works when trusted itself.
            with h.Nginx(tls=True, cert=variants["self_signed"]) as ng:
                ng.put("x", "y")
                ctx = ssl.create_default_context(cafile=variants["self_signed"].ca_cert)
                self.assertEqual(fetch(ng.url_for("x"), context=ctx)[2], b"y")


class ArchiveTests(unittest.TestCase):
    def test_real_toolchain_archive(self):
        t0 = time.monotonic()
        a = h.toolchain_archive()
        print(f"\ntoolchain_archive(): {time.monotonic() - t0:.1f} s "
              f"(build {a.build_seconds:.1f} s), {a.size} bytes, {a.file_count} files",
              file=sys.stderr)
        self.assertEqual(a.version, "go1.19.8")
        self.assertEqual(a.filename, "go1.19.8.linux-amd64.tar.gz")
        self.assertEqual(os.path.basename(a.path), a.filename)
        self.assertEqual(a.size, os.path.getsize(a.path))
        self.assertEqual(a.sha256, h.sha256_file(a.path))
        # Cached, in memory and on disk: nothing rebuilt (the file is the same one, untouched).
        st = os.stat(a.path)
        self.assertEqual(h.toolchain_archive(), dataclasses.replace(a, build_seconds=0.0))
        h._real_archive_memo = None
        b = h.toolchain_archive()
        self.assertEqual((b.sha256, b.build_seconds), (a.sha256, 0.0))
        self.assertEqual((os.stat(b.path).st_ino, os.stat(b.path).st_mtime_ns), (st.st_ino, st.st_mtime_ns))

        tops, regular, bad = set(), 0, []
        version_first_line, go_mode = None, None
        with tarfile.open(a.path, "r:gz") as tf:
            for m in tf:
                tops.add(m.name.split("/")[0])
                if m.isfile():
                    regular += 1
                elif not m.isdir():
                    bad.append(m.name)  # symlinks/hardlinks would not be self-contained
                if m.name == "go/VERSION":
                    version_first_line = tf.extractfile(m).read().decode().splitlines()[0]
                if m.name == "go/bin/go":
                    go_mode = m.mode
        self.assertEqual(tops, {"go"})
        self.assertEqual(bad, [])
        self.assertEqual(version_first_line, "go1.19.8")
        self.assertTrue(go_mode & stat.S_IXUSR, oct(go_mode or 0))
        self.assertGreater(regular, 5000)
        self.assertEqual(regular, a.file_count)

    def test_real_toolchain_works_after_extraction(self):
        a = h.toolchain_archive()
        root = h.tmpfs_path(self, "goinstall-goroot-")
        subprocess.run(["tar", "-C", root, "-xzf", a.path], check=True, timeout=300)
        self.assertEqual(os.listdir(root), ["go"])
        for p in ("go/bin/go", "go/bin/gofmt", "go/src/fmt/print.go", "go/pkg/tool"):
            self.assertTrue(os.path.exists(os.path.join(root, p)), p)
        gobin = os.path.join(root, "go", "bin", "go")
        r = h.run_isolated([gobin, "version"], timeout=60)
        self.assertEqual(r.stdout.strip(), "go version go1.19.8 linux/amd64", r.stderr)
        r = h.run_isolated([gobin, "env", "GOROOT"], timeout=60, home=r.home)
        self.assertEqual(r.stdout.strip(), os.path.join(root, "go"))
        src = os.path.join(r.home, "hello")
        os.makedirs(src)
        with open(os.path.join(src, "main.go"), "w") as f:
            f.write('package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("hello, harness") }\n')
        with open(os.path.join(src, "go.mod"), "w") as f:
            f.write("module example.com/hello\n\ngo 1.19\n")
        r = h.run_isolated([gobin, "build", "-o", "hello", "."], cwd=src, home=r.home,
                           timeout=240)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(subprocess.run([os.path.join(src, "hello")], capture_output=True,
                                        text=True, timeout=30).stdout, "hello, harness\n")

    def test_fake_toolchain_archive(self):
        d = h.tmpfs_path(self, "goinstall-fake-")
        a = h.fake_toolchain_archive("go1.21.3", os.path.join(d, "dl"))
        self.assertEqual(a.filename, "go1.21.3.linux-amd64.tar.gz")
        self.assertEqual(a.sha256, h.sha256_file(a.path))
        self.assertEqual(a.size, os.path.getsize(a.path))
        # deterministic
        b = h.fake_toolchain_archive("go1.21.3", os.path.join(d, "dl2"))
        self.assertEqual(a.sha256, b.sha256)
        out = os.path.join(d, "x")
        os.makedirs(out)
        subprocess.run(["tar", "-C", out, "-xzf", a.path], check=True, timeout=60)
        self.assertEqual(os.listdir(out), ["go"])
        self.assertIn("go/VERSION", h.tree_files(out))
        self.assertIn("go/pkg/tool/", h.tree_files(out, include_dirs=True))
        with open(os.path.join(out, "go", "VERSION")) as f:
            self.assertEqual(f.read().splitlines()[0], "go1.21.3")
        r = subprocess.run([os.path.join(out, "go", "bin", "go"), "version"],
                           capture_output=True, text=True, timeout=10)
        self.assertEqual(r.stdout, "go version go1.21.3 linux/amd64\n")
        r = subprocess.run([os.path.join(out, "go", "bin", "go"), "env", "GOROOT"],
                           capture_output=True, text=True, timeout=10)
        self.assertEqual(r.stdout.strip(), os.path.join(out, "go"))

        c = h.fake_toolchain_archive("go1.20.1", d, go_script="#!/bin/sh\nexit 3\n")
        with tarfile.open(c.path) as tf:
            self.assertEqual(tf.extractfile("go/bin/go").read(), b"#!/bin/sh\nexit 3\n")

        for mode in (True, "garbage", "flip"):
            with self.subTest(corrupt=mode):
                bad = h.fake_toolchain_archive("go1.21.3", os.path.join(d, f"bad-{mode}"),
                                               corrupt=mode)
                self.assertEqual(bad.sha256, h.sha256_file(bad.path))
                self.assertNotEqual(bad.sha256, a.sha256)
                r = subprocess.run(["tar", "-C", d, "-tzf", bad.path], capture_output=True,
                                   timeout=30)
                self.assertNotEqual(r.returncode, 0)

    def test_make_index(self):
        d = h.tmpfs_path(self, "goinstall-index-")
        new = h.fake_toolchain_archive("go1.21.3", d)
        old = h.fake_toolchain_archive("go1.20.10", d)
        rc = h.fake_toolchain_archive("go1.22rc1", d)
        text = h.make_index(
            [old, new, rc],
            extra_files=[h.index_file("go1.21.3.linux-arm64.tar.gz", "go1.21.3", arch="arm64",
                                      sha256="", size=1)],
            extra_releases=[{"version": "go1.9", "stable": True, "files": []}],
            decoys=True)
        self.assertTrue(text.startswith('[\n {\n  "version": "go1.22rc1",\n'), text[:60])
        data = json.loads(text)
        self.assertEqual([r["version"] for r in data], ["go1.22rc1", "go1.21.3", "go1.20.10", "go1.9"])
        self.assertEqual([r["stable"] for r in data], [False, True, True, True])
        files = {f["filename"]: f for f in data[1]["files"]}
        f = files["go1.21.3.linux-amd64.tar.gz"]
        self.assertEqual(f, {"filename": new.filename, "os": "linux", "arch": "amd64",
                             "version": "go1.21.3", "sha256": new.sha256, "size": new.size,
                             "kind": "archive"})
        self.assertEqual(files["go1.21.3.linux-arm64.tar.gz"]["sha256"], "")  # unverifiable
        self.assertIn("go1.21.3.src.tar.gz", files)
        self.assertEqual(files["go1.21.3.src.tar.gz"]["kind"], "source")
        for rel in data:
            for f in rel["files"]:
                self.assertEqual(list(f), ["filename", "os", "arch", "version", "sha256", "size",
                                           "kind"])


class ProcessAndHelperTests(unittest.TestCase):
    def test_isolated_environment(self):
        saved = dict(os.environ)
        self.addCleanup(lambda: (os.environ.clear(), os.environ.update(saved)))
        os.environ.update({"http_proxy": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9",
                           "All_Proxy": "socks5://127.0.0.1:9", "no_proxy": "*",
                           "GOROOT": "/nonexistent", "LANG": "de_DE.UTF-8"})
        home = h.tmpfs_path(self, "goinstall-home-")
        r = h.run_isolated(["env"], home=home, env_extra={"GOINSTALL_X": "1"}, timeout=10)
        env = dict(line.split("=", 1) for line in r.stdout.splitlines() if "=" in line)
        self.assertFalse([k for k in env if k.lower().endswith("_proxy")], env)
        self.assertNotIn("GOROOT", env)
        self.assertEqual(env["HOME"], home)
        for k in ("XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "TMPDIR"):
            self.assertTrue(env[k].startswith(home + "/"), (k, env[k]))
        self.assertEqual(env["LANG"], "C.UTF-8")
        self.assertEqual(env["GOINSTALL_X"], "1")
        self.assertEqual(env["PATH"], os.environ["PATH"])
        # stdin is /dev/null, input= feeds it
        self.assertEqual(h.run_isolated(["cat"], timeout=10).stdout, "")
        self.assertEqual(h.run_isolated(["cat"], input="abc", timeout=10).stdout, "abc")

    def test_timeout_kills_process_group(self):
        t0 = time.monotonic()
        with self.assertRaises(subprocess.TimeoutExpired):
            h.run_isolated(["sh", "-c", "sleep 30 & sleep 30; wait"], timeout=0.5)
        # Separates "killed at the 0.5 s timeout" from "waited for the 30 s sleeps": 10 s, 3x under.
        self.assertLess(time.monotonic() - t0, 10)

    def test_run_goinstall(self):
        h.goinstall_bin()  # skips when GOINSTALL_BIN is unset
        r = h.run_goinstall(["--help"], timeout=30)
        self.assertTrue(r.output.strip(), "goinstall --help printed nothing")
        self.assertTrue(os.path.isdir(r.home))

    def test_tmpfs_dir_and_helpers(self):
        d = h.tmpfs_dir("goinstall-selfcheck-")
        if os.path.isdir("/dev/shm"):
            self.assertTrue(d.name.startswith("/dev/shm/"), d.name)
        os.makedirs(os.path.join(d, "a", "b"))
        with open(os.path.join(d, "a", "b", "f"), "w") as f:
            f.write("x")
        os.symlink("b", os.path.join(d, "a", "link"))
        os.chmod(os.path.join(d, "a", "b"), 0o500)  # read-only dir must still be removable
        self.assertEqual(h.tree_files(d), ["a/b/f", "a/link"])
        self.assertEqual(h.tree_files(d, include_dirs=True), ["a/", "a/b/", "a/b/f", "a/link"])
        d.cleanup()
        self.assertFalse(os.path.exists(d.name))
        with h.tmpfs_dir("goinstall-selfcheck-") as p:
            self.assertTrue(os.path.isdir(p))
        self.assertFalse(os.path.exists(p))

        h.assert_no_secret(["nothing here", b"nor here", None], "s3cr3t-token")
        for leaked in ("url http://u:s3cr3t-token@h/", "Authorization: Basic czNjcjN0LXRva2Vu",
                       "p=s3cr3t%2Ftoken"):
            secret = "s3cr3t/token" if "%2F" in leaked else "s3cr3t-token"
            with self.assertRaises(AssertionError):
                h.assert_no_secret(["ok", leaked], secret)


if __name__ == "__main__":
    unittest.main(verbosity=2)
