"""Bad input from users: malformed versions, URLs, mirrors, proxy strings, numbers, config and
catalogue files, GOINSTALL_* environment values, control characters and invalid UTF-8.

Each case: the documented exit code (2 usage, 3 not installed, ...; never 1 or a signal),
exactly one "goinstall: error:" line, the offending value quoted in it (sanitised: control
characters shown as '?'), credentials never shown, no terminal control bytes in the output, and
nothing created or removed outside the root. Runs in a network namespace with no network
(unshare -n), so a URL that slipped through could not reach anything."""
import os
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
import goinstall_harness as h  # noqa: E402
import reliability as rel  # noqa: E402

USAGE, NOT_FOUND, FS = 2, 3, 10
SECRET = "s3cretPW"
ESC = "\x1b[31m"
SHOWN_ESC = "?[31m"  # how goinstall shows ESC [ 3 1 m


def control_bytes(text):
    return sorted({hex(ord(c)) for c in text if (ord(c) < 0x20 and c not in "\n\t") or 0x7f <= ord(c) < 0xa0})


@unittest.skipUnless(shutil.which("unshare") and os.geteuid() == 0, "needs root and unshare")
class BadInput(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        h.goinstall_bin()
        cls.tmp = h.tmpfs_dir("goinstall-badinput-")
        cls.addClassCleanup(cls.tmp.cleanup)
        d = cls.tmp.name
        cls.arc = h.fake_toolchain_archive("go1.21.0", os.path.join(d, "a"))
        cls.index = os.path.join(d, "index.json")
        with open(cls.index, "w") as f:
            f.write(h.make_index([cls.arc]))
        cls.mirror = "file://" + os.path.dirname(cls.arc.path) + "/"
        cls.home = os.path.join(d, "home")
        cls.root = os.path.join(d, "root")
        r = cls.gi(["go1.21.0", "--index-url", cls.index, "--mirror", cls.mirror, "--no-fallback"])
        assert r.returncode == 0, r.output
        cls.before = rel.snapshot(d)

    @classmethod
    def gi(cls, args, env=None, root=True, raw_args=None):
        argv = ["unshare", "-n", h.goinstall_bin(), *args] + (["--root", cls.root] if root else [])
        if raw_args is not None:  # bytes arguments (invalid UTF-8)
            e = h.isolated_env(cls.home, env)
            p = subprocess.run(["unshare", "-n", h.goinstall_bin(), *raw_args], env=e, capture_output=True,
                               timeout=30, cwd=cls.home)
            return h.GoinstallResult(argv, p.returncode, p.stdout.decode("utf-8", "replace"),
                                     p.stderr.decode("utf-8", "replace"), cls.home, e, 0)
        return h.run_isolated(argv, env_extra=env, home=cls.home, timeout=30)

    def check(self, args, code, shown=None, env=None, root=True, raw_args=None, verb_ok=False):
        r = self.gi(args, env=env, root=root, raw_args=raw_args)
        label = f"{args or raw_args} {env or ''}"
        self.assertNotIn(r.returncode, (1, 134, 139), f"{label}: crash or internal error\n{r.output}")
        self.assertGreaterEqual(r.returncode, 0, f"{label}: killed by a signal\n{r.output}")
        codes = code if isinstance(code, tuple) else (code,)
        self.assertIn(r.returncode, codes, f"{label}\n{r.output}")
        errors = [ln for ln in r.stderr.splitlines() if ln.startswith("goinstall: error:")]
        self.assertEqual(len(errors), 1, f"{label}: expected one error line\n{r.stderr}")
        if shown is not None:
            self.assertIn(shown, errors[0], f"{label}: the offending value is not named")
        self.assertEqual(control_bytes(r.stdout + r.stderr), [], f"{label}: {r.output!r}")
        h.assert_no_secret([r.stdout, r.stderr], SECRET)
        return errors[0]

    def tearDown(self):
        after = rel.snapshot(self.tmp.name)
        changed = [k for k in rel.diff_snapshots(self.before, after)
                   if not k[1:].startswith(("home/", "root/.lock", "root/.downloads", "cfg"))]
        self.assertEqual(changed, [], "bad input changed files")

    def test_versions(self):
        cases = ["1..2", "go", "1.2.3.4.5", "latest2", "-", "1.21.x", "\u2603", "go1.21" + ESC, "a" * 3000,
                 "../../etc", " 1.21.3", "1.21.3\n", "go1.21.0/../../x", "1.21rc", "1.21beta-1"]
        for v in cases:
            with self.subTest(version=v[:40]):
                shown = v[:20].replace(ESC, SHOWN_ESC).replace("\n", " ").strip() if v != "-" else None
                self.check(["install", v, "--index-url", self.index, "--mirror", self.mirror, "--no-fallback"],
                           (USAGE, NOT_FOUND), shown)
        for verb in ("use", "uninstall"):
            for v in ("../../etc/passwd", "current", ".lock", "go1.21.0/..", "go1.21.0" + ESC, "", "/"):
                with self.subTest(verb=verb, version=v):
                    self.check([verb, v], (USAGE, NOT_FOUND))
        self.assertTrue(os.path.isdir(os.path.join(self.root, "go1.21.0")))
        self.check(["install"], USAGE)
        self.check(["install", "1.21", "1.22"], USAGE)
        self.check([], USAGE, raw_args=[b"install", b"go1.21\xff\xfe", b"--root", self.root.encode()])

    def test_urls(self):
        cases = ["http://", "https://", "://x", "https://[::1", "https://exa mple.com/", "ftp://127.0.0.1/x",
                 "javascript:alert(1)", "https://127.0.0.1:99999/", ESC + "https://x/", "gopher://127.0.0.1/",
                 f"https://user:{SECRET}@127.0.0.1:99999/"]
        for url in cases:
            with self.subTest(index_url=url):
                shown = url.replace(ESC, SHOWN_ESC)[:12] if SECRET not in url else "127.0.0.1"
                # A string without "://" is a file path: that one is "cannot read" (10).
                self.check(["install", "1.21.0", "--reinstall", "--index-url", url, "--mirror", self.mirror,
                            "--no-fallback"], (USAGE, 4) if "://" in url else (USAGE, FS), shown)
        for m in ["no-such-mirror", "ftp://127.0.0.1/", "http://", "file://relative/dir", ",,,",
                  f"https://u:{SECRET}@[::1/", ESC + "x"]:
            with self.subTest(mirror=m):
                self.check(["install", "1.21.0", "--reinstall", "--index-url", self.index, "--mirror", m,
                            "--no-fallback"], (USAGE, 4))

    def test_proxy_strings(self):
        cases = [("--proxy", "http://"), ("--proxy", "socks9://127.0.0.1:1"), ("--proxy", f"http://u:{SECRET}@:8080"),
                 ("--proxy", f"http://u:{SECRET}@127.0.0.1:99999"), ("--proxy", "127.0.0.1:port"),
                 ("--proxy", ESC + "x"), ("--proxy-auth", "magic"), ("--pac-url", "/nonexistent/proxy.pac")]
        for flag, value in cases:
            with self.subTest(flag=flag, value=value):
                self.check(["proxy", "https://127.0.0.1/", flag, value], (USAGE, FS, 4), root=False)
        # A NO_PROXY entry that is not understood is ignored with a note naming it, not an error.
        r = self.gi(["proxy", "https://10.1.2.3/", "--noproxy-hosts", "10.0.0.0/99" + ESC, "--proxy", "http://127.0.0.1:9"],
                    root=False)
        self.assertEqual(r.returncode, 0, r.output)
        self.assertIn("10.0.0.0/99" + SHOWN_ESC, r.output)
        self.assertEqual(control_bytes(r.output), [])
        for var in ("https_proxy", "HTTPS_PROXY", "all_proxy"):
            with self.subTest(var=var):
                self.check(["install", "1.21.0", "--reinstall", "--index-url", "https://127.0.0.1:1/",
                            "--mirror", self.mirror, "--no-fallback", "--no-system-proxy"],
                           (USAGE, 4), env={var: f"http://u:{SECRET}@:99999" + ESC})

    def test_numbers(self):
        for flag in ("--connect-timeout", "--stall-timeout", "--deadline", "--lock-timeout", "--attempts-per-mirror",
                     "--max-retries", "--triage-timeout", "--race-after"):
            for value in ("-1", "nan", "1e309", "10s", "", ESC):
                with self.subTest(flag=flag, value=value):
                    self.check(["install", "1.21.0", "--reinstall", "--index-url", self.index, "--mirror", self.mirror,
                                flag, value], USAGE, flag)

    def test_old_and_new_names_of_attempts_per_mirror(self):
        # --max-retries is the old name of --attempts-per-mirror: both install; the new one wins.
        for extra in (["--max-retries", "1"], ["--attempts-per-mirror", "2"], ["--max-retries", "1", "--attempts-per-mirror", "2"]):
            with self.subTest(extra=extra):
                r = self.gi(["install", "1.21.0", "--reinstall", "--index-url", self.index, "--mirror", self.mirror,
                             "--no-fallback", *extra])
                self.assertEqual(r.returncode, 0, r.output)
        self.check(["install", "1.21.0", "--reinstall", "--index-url", self.index, "--mirror", self.mirror,
                    "--no-fallback"], USAGE, "GOINSTALL_ATTEMPTS_PER_MIRROR", env={"GOINSTALL_ATTEMPTS_PER_MIRROR": "many"})

    def test_mirror_auto_is_accepted_by_every_downloading_verb(self):
        # `auto` is a mirror choice for install, download and mirror sync alike (not an unknown name).
        out = os.path.join(self.home, "auto-out")
        src = ["--index-url", self.index, "--mirror", "auto", "--mirror", self.mirror, "--no-fallback"]
        for args in (["install", "1.21.0", "--reinstall", *src], ["download", "1.21.0", "-o", out, *src],
                     ["mirror", "sync", out, "--versions", "1.21.0", *src]):
            with self.subTest(verb=args[0]):
                r = self.gi(args, root=args[0] == "install")
                self.assertNotEqual(r.returncode, USAGE, r.output)
                self.assertNotIn("unknown mirror", r.stderr)
                self.assertEqual(r.returncode, 0, r.output)
        # A misspelt choice names where it came from, and says auto is one of the choices.
        for args, env, who in ((["--mirror", "autp"], None, "--mirror"), ([], {"GOINSTALL_MIRROR": "autp"}, "GOINSTALL_MIRROR")):
            for verb in (["download", "1.21.0", "-o", out], ["mirror", "sync", out]):
                with self.subTest(verb=verb[0], source=who):
                    line = self.check([*verb, "--index-url", self.index, *args], USAGE, "autp", env=env, root=False)
                    self.assertIn(who + ": unknown mirror 'autp'", line)
                    self.assertIn("or auto", line)

    def test_environment_values(self):
        cases = {"GOINSTALL_CONNECT_TIMEOUT": "abc", "GOINSTALL_STALL_TIMEOUT": "-3", "GOINSTALL_DEADLINE": "1e999",
                 "GOINSTALL_MAX_RETRIES": ESC + "3", "GOINSTALL_INDEX_URL": "not a url\x07",
                 "GOINSTALL_MIRROR": "no-such-mirror" + ESC, "GOINSTALL_CACERT": "/nonexistent/ca.pem"}
        for var, value in cases.items():
            with self.subTest(var=var):
                args = ["install", "1.21.0", "--reinstall", "--no-fallback"]
                if var != "GOINSTALL_INDEX_URL":
                    args += ["--index-url", self.index]
                if var != "GOINSTALL_MIRROR":
                    args += ["--mirror", self.mirror]
                self.check(args, (USAGE, 4, 5, FS), env={var: value})
        # No HOME and no XDG variables: goinstall cannot guess a root, and says which to set.
        line = self.check(["list"], USAGE, env={"HOME": None, "XDG_DATA_HOME": None, "XDG_CACHE_HOME": None,
                                                "XDG_CONFIG_HOME": None}, root=False)
        self.assertRegex(line, r"(HOME|GOINSTALL_ROOT|--root)")
        # With --root given, no HOME only costs the index cache.
        r = self.gi(["install", "1.21.0", "--reinstall", "--index-url", self.index, "--mirror", self.mirror,
                     "--no-fallback"], env={"HOME": None, "XDG_DATA_HOME": None, "XDG_CACHE_HOME": None,
                                            "XDG_CONFIG_HOME": None})
        self.assertEqual(r.returncode, 0, r.output)

    def test_config_and_catalogue_files(self):
        cfg = os.path.join(self.tmp.name, "cfg")
        os.makedirs(cfg, exist_ok=True)
        bodies = {"not-json": b"proxy = http://x\n", "array": b"[1]", "unknown-key": b'{"proxi": "http://x"}',
                  "wrong-type": b'{"proxy": 8080}', "secret": f'{{"proxy": "http://u:{SECRET}@:99999"}}'.encode(),
                  "control": b'{"\x1b[31m": 1}', "binary": b"\x00\xff\xfe" * 100, "huge": b" " * (2 << 20),
                  "empty": b"", "number-overflow": b'{"max_retries": 88e888}',  # a fuzz finding: was exit 1
                  "catalog-overflow": b'{"mirrors": [1e999]}'}
        for name, body in bodies.items():
            path = os.path.join(cfg, name + ".json")
            with open(path, "wb") as f:
                f.write(body)
            with self.subTest(config=name):
                self.check(["proxy", "https://127.0.0.1/", "--config", path], (USAGE, FS),
                           "config file" if name == "secret" else path, root=False)
        for path in (cfg, os.path.join(cfg, "missing.json")):
            with self.subTest(config=path):
                self.check(["proxy", "https://127.0.0.1/", "--config", path], (USAGE, FS), path, root=False)
        # The user's mirror catalogue, read by every verb that needs mirrors.
        xdg = os.path.join(cfg, "xdg")
        os.makedirs(os.path.join(xdg, "goinstall"), exist_ok=True)
        for body in (b"{", b'{"mirrors": 5}', b'{"mirrors": 1e999}', b'{"mirrors": [{"name": "x", "url": "ftp://x/"}]}',
                     b'{"mirrors": [{"name": "\x1b[2J", "url": "https://127.0.0.1/"}]}'):
            with open(os.path.join(xdg, "goinstall", "mirrors.json"), "wb") as f:
                f.write(body)
            with self.subTest(catalogue=body[:30]):
                self.check(["mirrors"], (USAGE,), "mirrors.json", env={"XDG_CONFIG_HOME": xdg}, root=False)

    def test_other_flags(self):
        src = ["--index-url", self.index, "--mirror", self.mirror]
        cases = [(["install", "1.21.0", "--os", "linux;rm", *src], "linux;rm"),
                 (["install", "1.21.0", "--arch", "../x", *src], "../x"),
                 (["install", "1.21.0", "--sha256", "zz", *src], "zz"), (["install", "1.21.0", "--prefix", "", *src], None),
                 (["env", "--shell", "tcsh" + ESC], "tcsh" + SHOWN_ESC), (["install", "1.21.0", *src, "--root"], None),
                 (["install", "1.21.0", "--no-such-flag"], "no-such-flag"), (["frobnicate"], "frobnicate"),
                 (["list", "extra"], None)]
        for args, shown in cases:
            with self.subTest(args=args):
                self.check(args, USAGE, shown, root="--root" not in args)


if __name__ == "__main__":
    unittest.main()
