"""Hostile servers on loopback: a 1 GB index (with a Content-Length, and chunked), HTML where
JSON belongs, JSON of the wrong shape, control characters and invalid UTF-8 in bodies, headers
and index fields, redirect loops, redirects to file:// and other schemes, an https → http
downgrade, Content-Lengths that lie (long and short), a 1 GB archive, a captive portal's HTML
instead of the archive.

Each case: the documented exit code (never 1, never a signal), exactly one "goinstall: error:"
line, no terminal control bytes in anything printed (text and --json), nothing installed, and
bounded reading and memory (the 1 GB index is cut at the 64 MiB cap: the server's byte count says
so; peak RSS stays far below it). No case is timed: none of them has a timeout to tell apart, and
a hang ends in the runner's timeout (TimeoutExpired)."""
import json
import os
import resource
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
import goinstall_harness as h  # noqa: E402
import fault_server as fsrv  # noqa: E402
import reliability as rel  # noqa: E402

from reliability import http_response as resp  # noqa: E402

V = "go1.22.0"
GB = 1 << 30
EXIT_NOT_FOUND, EXIT_NETWORK, EXIT_TLS, EXIT_CHECKSUM = 3, 4, 5, 7
EVIL = b"\x1b[31mRED\x1b[0m \x1b]0;pwned\x07 \x9b2J \xff\xfe\xc3 \x00\x08\x7f end"
EVIL_JSON = "\u001b[2J\u001b]0;pwned\u0007\u009b1m"  # the same inside JSON strings (valid UTF-8)
INDEX_PATH = "/dl/"


def control_bytes(text: str) -> list:
    """C0/C1 controls other than newline and tab: nothing a server sends may reach the terminal
    as a control sequence."""
    return sorted({hex(ord(c)) for c in text if (ord(c) < 0x20 and c not in "\n\t") or 0x7f <= ord(c) < 0xa0})


class HostileServers(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        h.goinstall_bin()
        cls.tmp = h.tmpfs_dir("goinstall-hostile-")
        cls.addClassCleanup(cls.tmp.cleanup)
        d = cls.tmp.name
        cls.ca = h.make_ca(os.path.join(d, "ca"))
        cls.cert = h.make_cert(os.path.join(d, "ca"), cls.ca)
        cls.arc = h.fake_toolchain_archive(V, os.path.join(d, "a"))
        cls.arc_bytes = open(cls.arc.path, "rb").read()
        cls.index = h.make_index([cls.arc])
        # A well-behaved HTTPS site, for the cases where only the archive's host misbehaves.
        cls.good = fsrv.FaultServer({"dl/index.json": cls.index.encode(), "dl/" + cls.arc.filename: cls.arc_bytes},
                                    tls_cert=cls.cert)
        cls.good.start()
        cls.addClassCleanup(cls.good.stop)

    def server(self, routes, tls=False):
        s = rel.RawServer(routes, cert=self.cert if tls else None)
        self.addCleanup(s.stop)
        return s

    def goinstall(self, args, index_url, mirror=None, timeout=60, measure=False, env=None):
        """Runs goinstall; returns (result, peak RSS in KiB of the process when `measure`)."""
        home = h.tmpfs_path(self, "home-")
        self.root = os.path.join(home, "root")
        # Plain-http index servers keep the cases fast; the TLS cases use https:// index URLs.
        insecure = ["--allow-insecure-index"] if index_url.startswith("http://") else []
        argv = list(args) + insecure + ["--index-url", index_url, "--cacert", self.ca.cert, "--root", self.root,
                             "--mirror", mirror or self.good.url + "dl/", "--no-fallback", "--max-retries", "1",
                             "--connect-timeout", "5", "--stall-timeout", "5"]
        if not measure:
            return h.run_goinstall(argv, home=home, timeout=timeout, env_extra=env), 0
        wrapper = ("import resource, subprocess, sys\n"
                   "r = subprocess.run(sys.argv[1:])\n"
                   "print('MAXRSS', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n"
                   "sys.exit(r.returncode)\n")
        r = h.run_isolated([sys.executable, "-c", wrapper, h.goinstall_bin(), *argv], home=home, timeout=timeout)
        rss = int(r.stderr.rsplit("MAXRSS", 1)[1].split()[0])
        r.stderr = r.stderr.rsplit("MAXRSS", 1)[0]
        return r, rss

    def assert_clean_failure(self, r, code, words=None):
        self.assertEqual(r.returncode, code, r.output)
        errors = [ln for ln in r.stderr.splitlines() if ln.startswith("goinstall: error:")]
        self.assertEqual(len(errors), 1, r.stderr)
        if words:
            self.assertRegex(errors[0], words)
        self.assertEqual(control_bytes(r.stdout + r.stderr), [], repr(r.stderr))
        installed = os.listdir(self.root) if os.path.isdir(self.root) else []
        self.assertEqual([n for n in installed if n.startswith("go") or n == "current"], [], installed)
        self.assertEqual([n for n in installed if n.startswith(".goinstall-")], [], installed)
        return errors[0]

    def both_modes(self, args, index_url, code, words=None, mirror=None):
        """The case in text mode (checked) and in --json mode (the result line names the code)."""
        r, _ = self.goinstall(args, index_url, mirror)
        line = self.assert_clean_failure(r, code, words)
        rj, _ = self.goinstall(list(args) + ["--json"], index_url, mirror)
        self.assertEqual(rj.returncode, code, rj.output)
        self.assertEqual(control_bytes(rj.stdout + rj.stderr), [])
        last = json.loads(rj.stdout.splitlines()[-1])
        self.assertEqual((last["event"], last["ok"], last["error"]["exit_code"]), ("result", False, code))
        return line

    # -- the index -----------------------------------------------------------------------------

    def test_gigabyte_index_is_cut_at_the_cap(self):
        for chunked in (False, True):
            with self.subTest(chunked=chunked):
                srv = self.server({INDEX_PATH: rel.stream_body(GB, chunked=chunked)})
                r, rss_kib = self.goinstall([V], srv.url + "dl/?mode=json&include=all", measure=True)
                self.assert_clean_failure(r, EXIT_NETWORK, r"(larger|too big|exceed|limit|cap)")
                self.assertTrue(srv.wait_idle(), "the server still streams to a client that has exited")
                self.assertLess(srv.bytes_sent, 256 << 20, "the client kept reading past the cap")
                self.assertLess(rss_kib, 256 * 1024, f"peak RSS {rss_kib} KiB")

    def test_html_instead_of_json(self):
        portal = b"<!DOCTYPE html><html><head><title>Hotel Wi-Fi</title></head><body>Log in</body></html>\n"
        srv = self.server({INDEX_PATH: resp("200 OK", portal, [("Content-Type", "text/html")])})
        self.both_modes([V], srv.url + "dl/?mode=json&include=all", EXIT_NETWORK, r"(JSON|json|HTML|html)")

    def test_json_of_the_wrong_shape(self):
        bodies = [b'{"version": "go1.22.0"}', b"[1, 2, 3]", b'[{"version": 1, "files": []}]',
                  b'[{"version": "go1.22.0", "stable": "yes", "files": []}]',
                  b'[{"version": "go1.22.0", "files": [{"filename": 5, "os": "linux"}]}]',
                  b'[{"version": "go1.22.0", "files": [{"filename": "../../etc/passwd", "os": "linux", '
                  b'"arch": "amd64", "sha256": "' + b"0" * 64 + b'", "kind": "archive"}]}]',
                  b'[{"version": "go1.22.0", "files": [{"filename": "x.tar.gz", "size": -5}]}]',
                  b"[" * 100000, b'[{"version": "go1.22.0", "files": []}', b""]
        for body in bodies:
            with self.subTest(body=body[:60]):
                srv = self.server({INDEX_PATH: resp("200 OK", body, [("Content-Type", "application/json")])})
                r, _ = self.goinstall([V], srv.url + "dl/?mode=json&include=all")
                self.assert_clean_failure(r, EXIT_NETWORK, r"index")

    def test_control_characters_from_the_server_are_not_printed(self):
        evil_index = h.make_index([h.index_file(self.arc.filename + EVIL_JSON, V + EVIL_JSON, sha256=self.arc.sha256,
                                                size=self.arc.size, arch=h.goarch())])
        cases = [
            ("error body", {INDEX_PATH: resp("503 Service Unavailable", EVIL, [("Content-Type", "text/plain")])},
             [V], EXIT_NETWORK),
            ("reason phrase and headers",
             {INDEX_PATH: resp(b"500 \x1b[31mBOOM\x07".decode("latin-1"), EVIL,
                               [("Retry-After", b"\x1b[2J"), ("X-Evil", EVIL), ("Content-Type", b"text/\x1b[1mplain")])},
             [V], EXIT_NETWORK),
            ("fields of the index", {INDEX_PATH: resp("200 OK", evil_index.encode(), [("Content-Type", "application/json")])},
             [V], EXIT_NETWORK),
            ("ls-remote of that index",
             {INDEX_PATH: resp("200 OK", evil_index.encode(), [("Content-Type", "application/json")])},
             ["ls-remote", "--all"], None),
        ]
        for name, routes, args, code in cases:
            with self.subTest(name):
                srv = self.server(routes)
                r, _ = self.goinstall(args, srv.url + "dl/?mode=json&include=all")
                self.assertNotIn(r.returncode, (1, 134, 139), r.output)
                self.assertGreaterEqual(r.returncode, 0)
                self.assertEqual(control_bytes(r.stdout + r.stderr), [], repr(r.output))
                if code is not None:
                    self.assert_clean_failure(r, code)

    def test_index_redirects(self):
        loop = self.server({})
        loop.routes[INDEX_PATH] = resp("302 Found", b"", [("Location", loop.url + "dl/?mode=json&include=all")])
        plain = self.server({INDEX_PATH: resp("200 OK", self.index.encode(), [("Content-Type", "application/json")])})
        targets = [("loop", None, r"redirect"),
                   ("file", "file:///etc/passwd", r"file"),
                   ("ftp", "ftp://127.0.0.1:1/index.json", r"ftp"),
                   ("gopher", "gopher://127.0.0.1:1/_index", r"gopher"),
                   ("downgrade", plain.url + "dl/?mode=json&include=all", r"http\b")]
        for name, location, words in targets:
            with self.subTest(name):
                srv = loop if location is None else self.server(
                    {INDEX_PATH: resp("301 Moved Permanently", b"", [("Location", location)])}, tls=name == "downgrade")
                # Without the network diagnosis that follows a failure: it probes the redirect's
                # target on purpose, and this case is about what the install itself fetches.
                r, _ = self.goinstall([V], srv.url + "dl/?mode=json&include=all", env={"GOINSTALL_NO_TRIAGE": "1"})
                self.assertIn(r.returncode, (EXIT_NETWORK, EXIT_TLS), r.output)
                self.assert_clean_failure(r, r.returncode, words)
        self.assertEqual(plain.requests, [], "the downgraded URL was fetched")

    def test_index_content_length_lies(self):
        body = self.index.encode()
        for name, announced in (("longer", len(body) + 1000), ("shorter", len(body) - 40)):
            with self.subTest(name):
                srv = self.server({INDEX_PATH: resp("200 OK", body, [("Content-Type", "application/json")],
                                                    content_length=announced)})
                r, _ = self.goinstall([V], srv.url + "dl/?mode=json&include=all")
                self.assert_clean_failure(r, EXIT_NETWORK)

    # -- the archive's host --------------------------------------------------------------------

    def test_hostile_archive_hosts(self):
        name = "/dl/" + self.arc.filename
        index_url = self.good.url + "dl/?mode=json&include=all"
        loop = self.server({})
        loop.routes[name] = resp("302 Found", b"", [("Location", loop.url + name[1:])])
        cases = [
            ("redirect loop", loop, EXIT_NETWORK, r"redirect"),
            ("redirect to the same bytes on file://",
             self.server({name: resp("302 Found", b"", [("Location", "file://" + self.arc.path)])}),
             EXIT_NETWORK, r"file"),
            ("redirect to ftp", self.server({name: resp("302 Found", b"", [("Location", "ftp://127.0.0.1:1/x")])},
                                            tls=False), EXIT_NETWORK, r"ftp"),
            ("Content-Length longer than the body",
             self.server({name: resp("200 OK", self.arc_bytes, content_length=len(self.arc_bytes) + 5000)}),
             EXIT_NETWORK, None),
            ("a gigabyte instead of the archive",
             self.server({name: rel.stream_body(GB, prefix=b"", content_type="application/octet-stream")}),
             None, None),
            ("captive portal HTML",
             self.server({name: resp("200 OK", b"<html><body>Sign in to continue</body></html>",
                                     [("Content-Type", "text/html")])}),
             None, None),
        ]
        for label, srv, code, words in cases:
            with self.subTest(label):
                r, _ = self.goinstall([V], index_url, mirror=srv.url + "dl/")
                self.assertIn(r.returncode, (EXIT_NETWORK, EXIT_CHECKSUM) if code is None else (code,), r.output)
                self.assert_clean_failure(r, r.returncode, words)
                if label.startswith("a gigabyte"):
                    self.assertTrue(srv.wait_idle(), "the server still streams to a client that has exited")
                    self.assertLess(srv.bytes_sent, 64 << 20, "read far past the index's size for the archive")


if __name__ == "__main__":
    unittest.main()
