"""Packages, man page and completions, from the build tree the other tests use.

CPack makes the .deb, .rpm and .tar.gz; the .deb is installed with the real dpkg into a fresh
root (its own dpkg database) and run from there, its Depends checked against the libraries the
binary really loads; the .rpm likewise with rpm --root. The man page and the completions are
generated from --help (packaging/gen_docs.py): every verb and every option of every verb must
reach them, and the real bash, zsh and fish must complete with them."""
import glob
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
import goinstall_harness as h  # noqa: E402

BUILD = os.environ.get("GOINSTALL_BUILD_DIR", "")
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DOCS = os.path.join(BUILD, "packaging")
FILES = {  # installed path -> generated file
    "usr/bin/goinstall": None,
    "usr/share/man/man1/goinstall.1.gz": "goinstall.1.gz",
    "usr/share/bash-completion/completions/goinstall": "goinstall.bash",
    "usr/share/zsh/vendor-completions/_goinstall": "_goinstall",
    "usr/share/fish/vendor_completions.d/goinstall.fish": "goinstall.fish",
    "usr/share/doc/goinstall/README.md": None,
}


def run(cmd, **kw):
    kw.setdefault("timeout", 300)
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        raise AssertionError(f"{cmd} exited {r.returncode}\n{r.stdout}\n{r.stderr}")
    return r.stdout


def cli_surface():
    """{verb: [--option, ...]} straight from the binary's --help (independent of gen_docs.py)."""
    text = run([h.goinstall_bin(), "--help"])
    verbs = re.findall(r"^  ([a-z][a-z-]+)\b", text.split("Verbs:\n")[1].split("\n\n")[0], re.M)
    return {v: sorted(set(re.findall(r"^\s+(?:-\w, )?(--[\w-]+)", run([h.goinstall_bin(), v, "--help"]), re.M)))
            for v in verbs}


class PackagingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not BUILD or not os.path.exists(os.path.join(BUILD, "CPackConfig.cmake")):
            raise unittest.SkipTest("GOINSTALL_BUILD_DIR has no CPackConfig.cmake")
        cls.surface = cli_surface()
        cls.out = tempfile.mkdtemp(prefix="goinstall-cpack-", dir="/dev/shm")
        # The docs target is built by scripts/test; build it here too for a direct ctest run.
        run(["cmake", "--build", BUILD, "--target", "goinstall_docs"])
        run(["cpack", "--config", os.path.join(BUILD, "CPackConfig.cmake"), "-B", cls.out])

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.out, ignore_errors=True)

    def package(self, pattern):
        found = glob.glob(os.path.join(self.out, pattern))
        self.assertEqual(len(found), 1, (pattern, os.listdir(self.out)))
        return found[0]

    # ---- documentation generated from --help ---------------------------------------------------

    def test_man_page_names_every_verb_and_option(self):
        page = os.path.join(DOCS, "goinstall.1")
        r = subprocess.run(["groff", "-man", "-ww", "-z", "-Tutf8", page], capture_output=True, text=True, timeout=60)
        warnings = [l for l in (r.stdout + r.stderr).splitlines()
                    if "cannot adjust line" not in l]  # justification of long option lists
        self.assertEqual((r.returncode, warnings), (0, []))
        text = run(["man", "-l", page], env={**os.environ, "MANWIDTH": "200", "MAN_KEEP_FORMATTING": "0"})
        text = re.sub(r".\x08", "", text)
        for verb, options in self.surface.items():
            self.assertRegex(text, rf"goinstall {re.escape(verb)}\b", verb)
            for o in options:
                self.assertIn(o, text, f"{verb} {o}")
        for section in ("EXIT STATUS", "ENVIRONMENT", "FILES", "EXAMPLES"):
            self.assertIn(section, text)
        self.assertRegex(text, r"\b130\b.*cancelled")

    def test_bash_completes_verbs_options_and_values(self):
        script = os.path.join(DOCS, "goinstall.bash")

        def complete(*words):
            words = list(words)
            cmd = (f"source '{script}'; COMP_WORDS=({' '.join(repr(w) for w in words)}); "
                   f"COMP_CWORD={len(words) - 1}; _goinstall; printf '%s\\n' \"${{COMPREPLY[@]}}\"")
            return set(run(["bash", "-c", cmd]).split())

        self.assertEqual(complete("goinstall", ""), set(self.surface) | {"latest"})
        for verb, options in self.surface.items():
            self.assertTrue(set(options) <= complete("goinstall", verb, "--"), verb)
        self.assertEqual(complete("goinstall", "init", "--sh"), {"--shell"})
        self.assertEqual(complete("goinstall", "env", "--shell", ""), {"bash", "zsh", "sh", "fish", "powershell"})
        self.assertEqual(complete("goinstall", "install", "--proxy-auth", "d"), {"digest"})

    def test_fish_completes_verbs_and_options(self):
        script = os.path.join(DOCS, "goinstall.fish")

        def complete(line):
            out = run(["fish", "--no-config", "-c", f"source '{script}'; complete -C '{line}'"])
            return {l.split("\t")[0] for l in out.splitlines()}

        self.assertEqual(complete("goinstall "), set(self.surface))
        for verb, options in self.surface.items():
            self.assertTrue(set(options) <= complete(f"goinstall {verb} --"), verb)
        self.assertEqual(complete("goinstall env --shell "), {"bash", "zsh", "sh", "fish", "powershell"})

    def test_zsh_completion_loads_and_lists_everything(self):
        script = os.path.join(DOCS, "_goinstall")
        run(["zsh", "-n", script])
        # Load it through compinit the way zsh finds it on a fpath, and ask for the function.
        fpath = tempfile.mkdtemp(dir=self.out)
        shutil.copy(script, fpath)
        out = run(["zsh", "-f", "-c", f"fpath=({fpath} $fpath); autoload -Uz compinit; compinit -u -d {fpath}/dump; "
                                       "print -r -- ${_comps[goinstall]}"])
        self.assertEqual(out.strip(), "_goinstall")
        with open(script) as f:
            text = f.read()
        for verb, options in self.surface.items():
            self.assertIn(f"'{verb}:", text)
            for o in options:
                self.assertIn(o, text, f"{verb} {o}")

    # ---- packages ------------------------------------------------------------------------------

    def test_deb_installs_into_a_fresh_root_and_runs(self):
        deb = self.package("goinstall_*.deb")
        fields = run(["dpkg-deb", "-f", deb, "Package", "Version", "Architecture", "Depends"])
        self.assertRegex(fields, r"Package: goinstall\nVersion: \d+\.\d+\.\d+\n")
        self.assertIn(f"Architecture: {run(['dpkg', '--print-architecture']).strip()}", fields)
        depends = {d.split()[0] for d in fields.split("Depends:")[1].strip().split(",")}
        # Every library the binary links comes from a package named in Depends (so it runs on a
        # clean Debian once apt has installed those; their own dependencies are theirs to name).
        binary = h.goinstall_bin()
        needed = set(re.findall(r"NEEDED\s+(\S+)", run(["objdump", "-p", binary])))
        paths = dict(re.findall(r"^\s*(\S+) => (/\S+)", run(["ldd", binary]), re.M))
        self.assertTrue(needed and needed <= set(paths), (needed, paths))
        for lib in (paths[n] for n in sorted(needed)):
            owner = subprocess.run(["dpkg", "-S", os.path.realpath(lib)], capture_output=True, text=True)
            if owner.returncode != 0:
                owner = subprocess.run(["dpkg", "-S", lib], capture_output=True, text=True)
            pkg = owner.stdout.split(":")[0]
            self.assertIn(pkg, depends, f"{lib} comes from {pkg}, not in Depends {sorted(depends)}")
        listing = run(["dpkg-deb", "-c", deb])
        for path in FILES:
            self.assertIn("./" + path, listing)

        root = tempfile.mkdtemp(dir=self.out)
        for d in ("var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers"):
            os.makedirs(os.path.join(root, d))
        open(os.path.join(root, "var/lib/dpkg/status"), "w").close()
        dpkg = ["dpkg", f"--root={root}", "--log=/dev/null", "--force-depends", "--force-not-root"]
        run(dpkg + ["-i", deb])
        self.assertIn("ii  goinstall", run(["dpkg", f"--root={root}", "-l", "goinstall"]))
        for path, generated in FILES.items():
            installed = os.path.join(root, path)
            self.assertTrue(os.path.isfile(installed), path)
            if generated and not path.endswith(".gz"):
                with open(installed) as a, open(os.path.join(DOCS, generated)) as b:
                    self.assertEqual(a.read(), b.read(), path)
        exe = os.path.join(root, "usr/bin/goinstall")
        self.assertEqual(run([exe, "--version"]).strip(), run([binary, "--version"]).strip())
        home = h.tmpfs_path(self, "goinstall-deb-home-")
        r = h.run_isolated([exe, "env", "--shell", "bash", "--root", "/opt/go"], home=home)
        self.assertEqual((r.returncode, r.stdout.strip()), (0, "export PATH='/opt/go/current/bin':\"$PATH\""))
        run(dpkg + ["-r", "goinstall"])
        left = [p for p in FILES if os.path.exists(os.path.join(root, p))]
        self.assertEqual(left, [])

    def test_rpm_contents_and_install_into_a_fresh_root(self):
        if not shutil.which("rpmbuild"):
            self.fail("rpmbuild is missing (package rpm; scripts/deps.sh --test installs it)")
        rpm = self.package("goinstall-*.rpm")
        listing = run(["rpm", "-qlp", rpm]).split()
        for path in FILES:
            self.assertIn("/" + path, listing)
        self.assertNotIn("/usr/share/man", listing)  # no shared system directories owned
        requires = run(["rpm", "-qp", "--requires", rpm])
        self.assertIn("libcurl.so.4", requires)
        root = tempfile.mkdtemp(dir=self.out)
        run(["rpm", "--root", root, "--initdb"])
        run(["rpm", "--root", root, "-i", "--nodeps", rpm])
        exe = os.path.join(root, "usr/bin/goinstall")
        self.assertRegex(run([exe, "--version"]), r"^goinstall \d+\.\d+\.\d+")

    def test_tarball_has_the_tree_and_runs(self):
        tgz = self.package("goinstall-*.tar.gz")
        with tarfile.open(tgz) as t:
            names = t.getnames()
            top = names[0].split("/")[0]
            for path in FILES:
                self.assertIn(f"{top}/{path[len('usr/'):]}", names)
            t.extractall(os.path.join(self.out, "tgz"), filter="data")
        exe = os.path.join(self.out, "tgz", top, "bin", "goinstall")
        self.assertRegex(run([exe, "--version"]), r"^goinstall \d+\.\d+\.\d+")


if __name__ == "__main__":
    unittest.main(verbosity=2)
