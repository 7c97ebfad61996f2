"""'goinstall env' and 'goinstall init': the line each shell runs really puts <root>/current/bin
first on PATH (run by the real bash, dash, zsh and fish, with a root whose name has quotes, spaces
and $), init adds it to the right startup file once, keeps what the file had, and fails clearly."""
import json
import os
import shutil
import stat
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
import goinstall_harness as h  # noqa: E402

NASTY = "it's a $HOME `x` \\ dir"  # every quoting hazard a path can bring


def first_path_entry(shell, script, env):
    """Runs `script` in `shell` and returns the first PATH entry it prints."""
    cmd = {"fish": ["fish", "--no-config", "-c", script + "; echo $PATH[1]"],
           "zsh": ["zsh", "-f", "-c", script + '; echo "${PATH%%:*}"']}.get(
        shell, [shell, "-c", script + '; echo "${PATH%%:*}"'])
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, (shell, r.stderr)
    return r.stdout.strip().splitlines()[-1]


class EnvLineTest(unittest.TestCase):
    def setUp(self):
        self.home = h.tmpfs_path(self, "goinstall-shell-home-")
        self.root = os.path.join(self.home, NASTY)

    def env_line(self, shell):
        r = h.run_goinstall(["env", "--shell", shell, "--root", self.root], home=self.home)
        self.assertEqual(r.returncode, 0, r.output)
        return r.stdout.strip()

    def test_each_shell_runs_its_line_literally(self):
        want = os.path.join(self.root, "current", "bin")
        env = h.isolated_env(self.home)
        for shell in ("bash", "dash", "zsh", "fish"):
            if not shutil.which(shell):
                self.fail(f"{shell} is not installed (scripts/deps.sh --test installs it)")
            line = self.env_line("sh" if shell == "dash" else shell)
            with self.subTest(shell=shell):
                self.assertEqual(first_path_entry(shell, line, env), want, line)

    def test_powershell_line_quotes_by_doubling(self):
        line = self.env_line("pwsh")
        self.assertEqual(line, "$env:PATH = '" + os.path.join(self.root, "current", "bin").replace("'", "''") +
                         "' + [IO.Path]::PathSeparator + $env:PATH")

    def test_shell_from_SHELL_and_unknown_shell(self):
        r = h.run_goinstall(["env", "--root", self.root], home=self.home, env_extra={"SHELL": "/usr/bin/fish"})
        self.assertTrue(r.stdout.startswith("contains -- "), r.output)
        r = h.run_goinstall(["env", "--shell", "tcsh"], home=self.home)
        self.assertEqual(r.returncode, 2, r.output)
        self.assertIn("--shell: 'tcsh' is not one of bash, zsh, sh, fish, powershell", r.stderr)


class InitTest(unittest.TestCase):
    def setUp(self):
        self.home = h.tmpfs_path(self, "goinstall-init-home-")
        self.root = os.path.join(self.home, "tool chains")

    def init(self, *args, env=None):
        return h.run_goinstall(["init", "--root", self.root, *args], home=self.home, env_extra=env)

    def read(self, path):
        with open(path) as f:
            return f.read()

    def test_bash_once_keeping_the_file(self):
        rc = os.path.join(self.home, ".bashrc")
        with open(rc, "w") as f:
            f.write("alias ll='ls -l'")  # no final newline
        r = self.init("--shell", "bash")
        self.assertEqual(r.returncode, 0, r.output)
        self.assertIn(f"added to {rc}:", r.stdout)
        text = self.read(rc)
        self.assertTrue(text.startswith("alias ll='ls -l'\n\n# Added by 'goinstall init'"), text)
        line = text.splitlines()[-1]
        self.assertIn(line, r.stdout)
        # The file works: sourcing it puts the toolchain first.
        env = h.isolated_env(self.home)
        self.assertEqual(first_path_entry("bash", f". {rc}", env), os.path.join(self.root, "current", "bin"))
        # Twice: nothing changes, and it says so.
        r = self.init("--shell", "bash")
        self.assertEqual(r.returncode, 0, r.output)
        self.assertIn("already has the line", r.stdout)
        self.assertEqual(self.read(rc), text)

    def test_shell_files_and_json(self):
        cfg = os.path.join(self.home, ".config")
        zdot = os.path.join(self.home, "zdot")
        os.makedirs(zdot)
        cases = [("zsh", {"ZDOTDIR": zdot}, os.path.join(zdot, ".zshrc")),
                 ("sh", None, os.path.join(self.home, ".profile")),
                 ("fish", None, os.path.join(cfg, "fish", "conf.d", "goinstall.fish")),
                 ("powershell", None, os.path.join(cfg, "powershell", "Microsoft.PowerShell_profile.ps1"))]
        for shell, env, path in cases:
            with self.subTest(shell=shell):
                r = self.init("--shell", shell, "--json", env=env)
                self.assertEqual(r.returncode, 0, r.output)
                result = json.loads(r.stdout.splitlines()[-1])
                self.assertEqual((result["event"], result["ok"], result["profile"], result["changed"]),
                                 ("result", True, path, True))
                self.assertEqual(self.read(path).splitlines()[-1], result["line"])
        # fish reads its conf.d file as written.
        fish_file = cases[2][2]
        got = first_path_entry("fish", f"source '{fish_file}'", h.isolated_env(self.home))
        self.assertEqual(got, os.path.join(self.root, "current", "bin"))

    def test_dry_run_changes_nothing_and_symlinked_profile_stays_a_link(self):
        rc = os.path.join(self.home, ".bashrc")
        r = self.init("--shell", "bash", "--dry-run")
        self.assertEqual(r.returncode, 0, r.output)
        self.assertIn(f"would add to {rc}:", r.stdout)
        self.assertFalse(os.path.exists(rc))
        real = os.path.join(self.home, "dotfiles", "bashrc")
        os.makedirs(os.path.dirname(real))
        with open(real, "w") as f:
            f.write("# mine\n")
        os.symlink(real, rc)
        self.assertEqual(self.init("--shell", "bash").returncode, 0)
        self.assertTrue(os.path.islink(rc))
        self.assertTrue(self.read(real).startswith("# mine\n\n# Added by"), self.read(real))

    def test_errors(self):
        r = self.init("--shell", "csh")
        self.assertEqual(r.returncode, 2, r.output)
        self.assertIn("'csh' is not one of", r.stderr)
        # A profile in a directory it cannot write: the filesystem exit code, the path named.
        ro = os.path.join(self.home, "ro")
        os.makedirs(ro)
        os.chmod(ro, stat.S_IRUSR | stat.S_IXUSR)
        self.addCleanup(os.chmod, ro, 0o755)
        target = os.path.join(ro, "profile")
        if os.geteuid() == 0:
            # root ignores mode bits: use a directory where the file would have to be.
            target = os.path.join(self.home, "afile", "profile")
            with open(os.path.join(self.home, "afile"), "w") as f:
                f.write("x")
        r = self.init("--shell", "bash", "--profile", target)
        self.assertEqual(r.returncode, 10, r.output)
        self.assertIn(os.path.dirname(target), r.stderr)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        # No HOME to find the file in: a usage error that says what to do.
        r = h.run_goinstall(["init", "--shell", "bash", "--root", self.root], home=self.home,
                            env_extra={"HOME": None})
        self.assertEqual(r.returncode, 2, r.output)
        self.assertIn("--profile FILE", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
