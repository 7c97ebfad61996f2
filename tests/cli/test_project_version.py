"""Version from the project: with no version argument, goinstall installs what .go-version (here
or in a parent) or the nearest go.mod (toolchain line, else go line) asks for, and says where the
version came from; a bare `goinstall` outside a project is still a usage error with the help."""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
import goinstall_harness as h  # noqa: E402
from release_site import Site  # noqa: E402

VERSIONS = ["go1.21.0", "go1.21.3", "go1.21.13", "go1.22.0", "go1.22.5"]
EXIT_USAGE = 2


class ProjectVersionTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = h.tmpfs_dir("goinstall-project-archives-")
        cls.archives = [h.fake_toolchain_archive(v, os.path.join(str(cls.tmp), "a")) for v in VERSIONS]

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def setUp(self):
        self.site = Site(self, self.archives, tls=True)
        self.home = self.site.home
        self.proj = os.path.join(self.home, "src", "proj")
        self.sub = os.path.join(self.proj, "cmd", "tool")
        os.makedirs(self.sub)
        # Everything but the version comes from the environment, so a bare `goinstall` can run.
        self.env = {"GOINSTALL_INDEX_URL": self.site.index_url, "GOINSTALL_MIRROR": self.site.mirror,
                    "GOINSTALL_NO_FALLBACK": "1", "GOINSTALL_ROOT": self.site.root,
                    "GOINSTALL_CACERT": self.site.cert.ca_cert}

    def write(self, rel, text):
        path = os.path.join(self.proj, rel)
        with open(path, "w", newline="") as f:
            f.write(text)
        return path

    def run_in(self, cwd, args=()):
        return h.run_goinstall(list(args), env_extra=self.env, home=self.home, cwd=cwd, timeout=60)

    def current(self):
        link = os.path.join(self.site.root, "current")
        return os.readlink(link) if os.path.islink(link) else None

    def test_go_mod_lines_and_go_version_file(self):
        cases = [
            # (files, cwd, args, installed, message)
            ({"go.mod": "module example.com/p\n\ngo 1.21\n"}, "sub", [], "go1.21.13",
             "version 1.21 (newest 1.21.x) from ../../go.mod go line"),
            ({"go.mod": "module example.com/p\n\ngo 1.21.3 // minimum\n"}, "proj", ["install"], "go1.21.3",
             "version 1.21.3 from ./go.mod go line"),
            ({"go.mod": "module p\r\n\r\ngo 1.21\r\n\r\ntoolchain go1.22.5\r\n\r\nrequire (\r\n\tgo.x/y v1.0.0\r\n)\r\n"},
             "proj", [], "go1.22.5", "version go1.22.5 from ./go.mod toolchain line"),
            ({"go.mod": "module p\ngo 1.22\n", ".go-version": "# CI pin\n1.21.0\n"}, "sub", ["--json"], "go1.21.0",
             None),
        ]
        for files, where, args, want, message in cases:
            with self.subTest(files=files):
                for name in ("go.mod", ".go-version"):
                    if os.path.exists(os.path.join(self.proj, name)):
                        os.remove(os.path.join(self.proj, name))
                for name, text in files.items():
                    self.write(name, text)
                r = self.run_in(self.sub if where == "sub" else self.proj, args)
                self.assertEqual(r.returncode, 0, r.output)
                self.assertEqual(self.current(), want)
                if message:
                    self.assertIn(f"goinstall: {message}\n", r.stderr)
                    self.assertIn(f"resolved {message.split()[1]} to {want}", r.stderr)
                else:
                    events = [json.loads(ln) for ln in r.stdout.splitlines()]
                    info = [e for e in events if e.get("version_file")]
                    self.assertEqual(len(info), 1, r.stdout)
                    self.assertEqual(info[0]["version_file"], os.path.join(self.proj, ".go-version"))
                    self.assertEqual((info[0]["version_origin"], info[0]["spec"]), ("go_version_file", "1.21.0"))
                    self.assertEqual(events[-1]["version"], want)

    def test_without_a_project_file(self):
        # Bare `goinstall`: usage error and the main help.
        r = self.run_in(self.sub)
        self.assertEqual(r.returncode, EXIT_USAGE, r.output)
        self.assertIn("Usage: goinstall [VERB]", r.stdout)
        self.assertIn(".go-version", r.stdout)
        # `goinstall install` (or only options): the error says what was looked for.
        for args in (["install"], ["--json"]):
            r = self.run_in(self.sub, args)
            self.assertEqual(r.returncode, EXIT_USAGE, r.output)
            text = r.stderr if args == ["install"] else json.loads(r.stdout.splitlines()[-1])["error"]["message"]
            self.assertIn("no .go-version or go.mod here or in a parent directory", text)
        self.assertEqual(self.site.archive_requests(), [])
        # A .go-version above $HOME is not read (the walk stops at $HOME).
        with open(os.path.join(os.path.dirname(self.home), ".go-version"), "w") as f:
            f.write("1.22.5\n")
        self.addCleanup(os.remove, os.path.join(os.path.dirname(self.home), ".go-version"))
        r = self.run_in(self.sub)
        self.assertEqual(r.returncode, EXIT_USAGE, r.output)

    def test_bad_project_files_are_errors_naming_the_file(self):
        gomod = os.path.join(self.proj, "go.mod")
        cases = [
            ("go.mod", "module p\n", f"{gomod}: no go or toolchain line to take the version from"),
            ("go.mod", "module p\ngo 1.x\n", f"{gomod}:2: go '1.x' is not a Go version"),
            ("go.mod", "module p\ngo 1.21\ngo 1.22\n", f"{gomod}:3: repeated go line"),
            (".go-version", "\n# nothing\n", f"{self.proj}/.go-version: no version in the file"),
            (".go-version", "stable-ish\n", f"{self.proj}/.go-version: 'stable-ish' is not a Go version"),
        ]
        for name, text, want in cases:
            with self.subTest(text=text):
                for n in ("go.mod", ".go-version"):
                    if os.path.exists(os.path.join(self.proj, n)):
                        os.remove(os.path.join(self.proj, n))
                self.write(name, text)
                for args in ([], ["install"]):
                    r = self.run_in(self.sub, args)
                    self.assertEqual(r.returncode, EXIT_USAGE, r.output)
                    self.assertTrue(r.stderr.startswith("goinstall: error: " + want), r.stderr)
                    self.assertEqual(r.stdout, "")
        self.assertEqual(self.site.archive_requests(), [])

    def test_an_explicit_version_wins_over_the_project(self):
        self.write("go.mod", "module p\ngo 1.22.0\n")
        r = self.run_in(self.sub, ["1.21.3"])
        self.assertEqual(r.returncode, 0, r.output)
        self.assertEqual(self.current(), "go1.21.3")
        self.assertNotIn("go.mod", r.stderr)
        # And a second bare run of the project version is a no-op without the network.
        r = self.run_in(self.sub)
        self.assertEqual((r.returncode, self.current()), (0, "go1.22.0"), r.output)
        self.site.nginx.stop()
        r = self.run_in(self.sub, ["--quiet"])
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, "", ""))


if __name__ == "__main__":
    unittest.main(verbosity=2)
