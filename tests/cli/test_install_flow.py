"""The install path as a user meets it, with tiny fake toolchains served by a real nginx over HTTPS:
version specs, idempotence, use/uninstall/list, tampered archives, unknown versions, --prefix."""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
import goinstall_harness as h  # noqa: E402
from release_site import Site  # noqa: E402

VERSIONS = ["go1.20.14", "go1.21.3", "go1.21.13", "go1.22rc1", "go1.22.0"]
EXIT_USAGE, EXIT_NOT_FOUND, EXIT_CHECKSUM, EXIT_BAD_ARCHIVE = 2, 3, 7, 8


class InstallFlow(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = h.tmpfs_dir("goinstall-archives-")
        cls.archives = {v: h.fake_toolchain_archive(v, os.path.join(str(cls.tmp), "a")) for v in VERSIONS}

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def site(self, **kw):
        return Site(self, self.archives.values(), tls=True, **kw)

    def installed(self, site, root=None):
        root = root or site.root
        return sorted(d for d in os.listdir(root) if d.startswith("go1")) if os.path.isdir(root) else []

    def current(self, site):
        link = os.path.join(site.root, "current")
        return os.readlink(link) if os.path.islink(link) else None

    def test_version_specs_resolve_and_install(self):
        site = self.site()
        cases = [("1.21", "go1.21.13"), ("go1.21.3", "go1.21.3"), ("1.22rc1", "go1.22rc1"),
                 ("latest", "go1.22.0"), ("1.20", "go1.20.14")]
        for spec, want in cases:
            with self.subTest(spec=spec):
                r = site.goinstall([spec])
                self.assertEqual(r.returncode, 0, r.output)
                self.assertIn(f"{want} installed in", r.stdout)
                self.assertEqual(self.current(site), want)
                go = os.path.join(site.root, want, "bin", "go")
                self.assertTrue(os.access(go, os.X_OK))
        # 'install' is also an explicit verb.
        r = site.goinstall(["install", "1.21.3", "--reinstall"])
        self.assertEqual(r.returncode, 0, r.output)
        self.assertEqual(len(site.archive_requests()), len(cases) + 1)

    def test_second_run_is_a_no_op_without_network(self):
        site = self.site()
        r = site.goinstall(["1.21.3"])
        self.assertEqual(r.returncode, 0, r.output)
        site.nginx.stop()  # nothing to talk to any more
        r = site.goinstall(["1.21.3", "--json"])
        self.assertEqual(r.returncode, 0, r.output)
        events = [json.loads(line) for line in r.stdout.splitlines()]
        self.assertEqual(events[-1]["event"], "result")
        self.assertTrue(events[-1]["already_installed"])
        # What happened, not how long it took: no transfer was started or attempted, no index fetched.
        kinds = [e["event"] for e in events]
        self.assertIn("already_installed", kinds)
        for k in ("index_source", "download_start", "attempt", "retry", "failover", "triage"):
            self.assertNotIn(k, kinds, r.stdout)
        self.assertFalse(any("waiting for another goinstall" in e.get("message", "") for e in events), events)

    def test_use_uninstall_list_round_trip(self):
        site = self.site()
        for v in ("1.21.3", "1.22.0"):
            self.assertEqual(site.goinstall([v]).returncode, 0)
        r = site.goinstall(["list"], flags=False, env_extra={"GOINSTALL_ROOT": site.root})
        self.assertEqual(r.returncode, 0, r.output)
        lines = r.stdout.splitlines()
        self.assertTrue(lines[0].startswith("* go1.22.0"), lines)
        self.assertTrue(lines[1].startswith("  go1.21.3"), lines)

        r = site.goinstall(["use", "1.21.3", "--root", site.root], flags=False)
        self.assertEqual(r.returncode, 0, r.output)
        self.assertEqual(self.current(site), "go1.21.3")
        r = site.goinstall(["current", "--root", site.root], flags=False)
        self.assertEqual(r.stdout.strip(), "go1.21.3")

        r = site.goinstall(["use", "1.19.1", "--root", site.root], flags=False)
        self.assertEqual(r.returncode, EXIT_NOT_FOUND, r.output)
        self.assertIn("go1.19.1 is not installed", r.stderr)
        self.assertIn("go1.22.0", r.stderr)  # says what is installed

        r = site.goinstall(["uninstall", "go1.22.0", "--root", site.root], flags=False)
        self.assertEqual(r.returncode, 0, r.output)
        self.assertEqual(self.installed(site), ["go1.21.3"])
        self.assertEqual(self.current(site), "go1.21.3")
        r = site.goinstall(["uninstall", "1.21.3", "--root", site.root], flags=False)
        self.assertEqual(r.returncode, 0, r.output)
        self.assertIn("it was current", r.stdout)
        self.assertIsNone(self.current(site))
        self.assertEqual(self.installed(site), [])
        r = site.goinstall(["current", "--root", site.root], flags=False)
        self.assertEqual(r.returncode, EXIT_NOT_FOUND)
        r = site.goinstall(["uninstall", "1.21.3", "--root", site.root], flags=False)
        self.assertEqual(r.returncode, EXIT_NOT_FOUND)

    def test_tampered_archive_is_refused_and_previous_stays(self):
        site = self.site()
        self.assertEqual(site.goinstall(["1.21.3"]).returncode, 0)
        good = self.archives["go1.22.0"]
        bad = h.fake_toolchain_archive("go1.22.0", os.path.join(site.dir, "bad"),
                                       extra_files={"src/evil.go": "package evil\n"})
        site.nginx.put_file(good.filename, bad.path)  # same name, other bytes; index keeps the good hash
        r = site.goinstall(["1.22.0"])
        self.assertEqual(r.returncode, EXIT_CHECKSUM, r.output)
        self.assertIn("checksum mismatch", r.stderr)
        self.assertIn(good.sha256, r.stderr)
        self.assertIn(bad.sha256, r.stderr)
        self.assertEqual(self.installed(site), ["go1.21.3"])
        self.assertEqual(self.current(site), "go1.21.3")
        leftovers = [n for n in os.listdir(site.root) if "staging" in n]
        self.assertEqual(leftovers, [])
        self.assertFalse(os.path.exists(os.path.join(site.root, ".downloads", good.filename)))

    def test_archive_with_wrong_toolchain_is_refused(self):
        site = self.site()
        self.assertEqual(site.goinstall(["1.21.3"]).returncode, 0)
        liar = h.fake_toolchain_archive("go1.21.13", os.path.join(site.dir, "liar"),
                                        go_script="#!/bin/sh\necho 'go version go1.4 linux/amd64'\n")
        site.nginx.put_file(liar.filename, liar.path)
        site.set_index(h.make_index([self.archives["go1.21.3"], liar]))
        r = site.goinstall(["1.21.13"])
        self.assertEqual(r.returncode, EXIT_BAD_ARCHIVE, r.output)
        self.assertIn("go1.4", r.stderr)
        self.assertEqual(self.installed(site), ["go1.21.3"])
        self.assertEqual(self.current(site), "go1.21.3")

    def test_unknown_version_lists_close_matches(self):
        site = self.site()
        r = site.goinstall(["1.21.99"])
        self.assertEqual(r.returncode, EXIT_NOT_FOUND, r.output)
        self.assertIn("go1.21.99", r.stderr)
        self.assertIn("go1.21.13", r.stderr)
        self.assertEqual(len(r.stderr.strip().splitlines()[-1:]), 1)
        self.assertEqual(site.archive_requests(), [])

    def test_bad_input_is_a_usage_error(self):
        site = self.site()
        for args in (["1.x"], ["1.21.3", "--sha256", "xyz"], ["1.21.3", "--connect-timeout", "soon"],
                     ["1.21.3", "--mirror", "ftp://example.invalid/"], ["1.21.3", "1.22.0"], ["--bogus-flag"]):
            with self.subTest(args=args):
                r = site.goinstall(args)
                self.assertEqual(r.returncode, EXIT_USAGE, r.output)
                self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
                self.assertIn("error", r.stderr)
        self.assertEqual(site.archive_requests(), [])

    def test_release_without_checksum_needs_sha256(self):
        a = self.archives["go1.21.3"]
        site = Site(self, [a], tls=True, index_text=h.make_index(
            [h.index_file(a.filename, a.version, sha256="", size=a.size)]))
        r = site.goinstall(["1.21.3"])
        self.assertEqual(r.returncode, EXIT_CHECKSUM, r.output)
        self.assertIn("no SHA-256", r.stderr)
        r = site.goinstall(["1.21.3", "--sha256", "0" * 64])
        self.assertEqual(r.returncode, EXIT_CHECKSUM, r.output)
        r = site.goinstall(["1.21.3", "--sha256", a.sha256.upper()])
        self.assertEqual(r.returncode, 0, r.output)

    def test_prefix_installs_official_layout_and_replaces_atomically(self):
        site = self.site()
        prefix = os.path.join(site.dir, "usr-local")
        os.makedirs(prefix)
        r = site.goinstall(["1.21.3", "--prefix", prefix])
        self.assertEqual(r.returncode, 0, r.output)
        with open(os.path.join(prefix, "go", "VERSION")) as f:
            self.assertEqual(f.readline().strip(), "go1.21.3")
        r = site.goinstall(["1.22.0", "--prefix", prefix])
        self.assertEqual(r.returncode, 0, r.output)
        with open(os.path.join(prefix, "go", "VERSION")) as f:
            self.assertEqual(f.readline().strip(), "go1.22.0")
        self.assertEqual(sorted(os.listdir(prefix)), [".goinstall.lock", "go"])
        # A failing install leaves the previous one in place.
        bad = h.fake_toolchain_archive("go1.21.13", os.path.join(site.dir, "bad"), corrupt="truncate")
        site.nginx.put_file(bad.filename, bad.path)
        site.set_index(h.make_index([bad]))
        r = site.goinstall(["1.21.13", "--prefix", prefix])
        self.assertEqual(r.returncode, EXIT_BAD_ARCHIVE, r.output)
        with open(os.path.join(prefix, "go", "VERSION")) as f:
            self.assertEqual(f.readline().strip(), "go1.22.0")
        self.assertEqual(sorted(os.listdir(prefix)), [".goinstall.lock", "go"])

    def test_ls_remote_and_offline_cache(self):
        site = self.site()
        r = site.goinstall(["ls-remote"])
        self.assertEqual(r.returncode, 0, r.output)
        self.assertEqual(r.stdout.split(), ["go1.22.0", "go1.21.13", "go1.21.3", "go1.20.14"])
        r = site.goinstall(["ls-remote", "--all"])
        self.assertIn("go1.22rc1", r.stdout)
        site.nginx.stop()
        r = site.goinstall(["ls-remote"])
        self.assertEqual(r.returncode, 0, r.output)
        self.assertIn("cached release index", r.stderr)
        self.assertIn("ago", r.stderr)
        r = site.goinstall(["ls-remote", "--offline"])
        self.assertEqual(r.returncode, 0, r.output)
        self.assertIn("go1.21.13", r.stdout)

    def test_malformed_index_names_the_source(self):
        site = self.site(index_text='[{"version": "go1.21.3", "stable": true, "files": [')
        r = site.goinstall(["1.21.3"])
        self.assertEqual(r.returncode, 4, r.output)
        self.assertIn(site.index_url.split("?")[0], r.stderr)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)

    def test_env_prints_path_line(self):
        site = self.site()
        r = site.goinstall(["env", "--root", site.root], flags=False, env_extra={"SHELL": "/bin/bash"})
        self.assertEqual(r.returncode, 0, r.output)
        self.assertEqual(r.stdout.strip(), f"export PATH='{site.root}/current/bin':\"$PATH\"")
        r = site.goinstall(["env", "--shell", "fish", "--root", site.root], flags=False)
        self.assertIn("set -gx PATH", r.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
