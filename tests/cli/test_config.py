"""Configuration: flags > GOINSTALL_* environment > config file > defaults, per setting type;
`goinstall config` shows each value and its source with secrets masked; bad files and values are
errors naming the file, key and value; a config file alone is enough to install."""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
import goinstall_harness as h  # noqa: E402
from release_site import Site  # noqa: E402

EXIT_USAGE = 2
PASSWORD = "s3cr3t-Pa55w0rd"


class ConfigTest(unittest.TestCase):
    def setUp(self):
        self.home = h.tmpfs_path(self, "goinstall-config-home-")
        self.cfg_dir = os.path.join(self.home, ".config", "goinstall")  # $XDG_CONFIG_HOME/goinstall

    def write_config(self, data, path=None):
        path = path or os.path.join(self.cfg_dir, "config.json")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(data if isinstance(data, str) else json.dumps(data))
        return path

    def config(self, args=(), env=None, ok=True):
        # `config` sends nothing, so the harness's safety net (no captive-portal probe) can go: the
        # default must show as the default.
        env = {"GOINSTALL_CAPTIVE_PROBE_URL": None, **(env or {})}
        r = h.run_goinstall(["config", "--json", *args], env_extra=env, home=self.home, timeout=30)
        if ok:
            self.assertEqual(r.returncode, 0, r.output)
            lines = r.stdout.splitlines()
            self.assertEqual(len(lines), 1, r.stdout)
            return json.loads(lines[0])
        return r

    def test_precedence_flag_env_file_default_for_each_type(self):
        # (key, flag args, env var and value, file value, expected flag/env/file/default values)
        a, b, c = (os.path.join(self.home, d) for d in ("flag-root", "env-root", "file-root"))
        cases = [
            ("root", ["--root", a], ("GOINSTALL_ROOT", b), c, (a, b, c, os.path.join(self.home, ".local/share/goinstall"))),
            ("connect_timeout", ["--connect-timeout", "3"], ("GOINSTALL_CONNECT_TIMEOUT", "4.5"), 6, (3, 4.5, 6, 10)),
            ("attempts_per_mirror", ["--attempts-per-mirror", "7"], ("GOINSTALL_ATTEMPTS_PER_MIRROR", "8"), 9,
             (7, 8, 9, 3)),
            ("connections", ["--connections", "1"], ("GOINSTALL_CONNECTIONS", "2"), 3, (1, 2, 3, 8)),
            ("lock_timeout", ["--lock-timeout", "1"], ("GOINSTALL_LOCK_TIMEOUT", "2"), 3, (1, 2, 3, 600)),
            ("offline", ["--offline=false"], ("GOINSTALL_OFFLINE", "yes"), False, (False, True, False, False)),
            ("no_fallback", ["--no-fallback"], ("GOINSTALL_NO_FALLBACK", "0"), True, (True, False, True, False)),
            ("index_url", ["--index-url", "file:///f/i.json"], ("GOINSTALL_INDEX_URL", "file:///e/i.json"),
             "file:///c/i.json", ("file:///f/i.json", "file:///e/i.json", "file:///c/i.json", None)),
            ("mirrors", ["--mirror", "http://127.0.0.1:1/f/"], ("GOINSTALL_MIRROR", "http://127.0.0.1:1/e/"),
             ["http://127.0.0.1:1/c/", "http://127.0.0.1:1/d/"],
             ("http://127.0.0.1:1/f/", "http://127.0.0.1:1/e/", "http://127.0.0.1:1/c/", None)),
            ("no_triage", ["--no-triage"], ("GOINSTALL_NO_TRIAGE", "1"), False, (True, True, False, False)),
            ("triage_timeout", ["--triage-timeout", "3"], ("GOINSTALL_TRIAGE_TIMEOUT", "4.5"), 6, (3, 4.5, 6, 10)),
            ("captive_probe_url", ["--captive-probe-url", "none"],
             ("GOINSTALL_CAPTIVE_PROBE_URL", "http://127.0.0.1:1/generate_204"), "https://127.0.0.1:2/g",
             ("none", "http://127.0.0.1:1/generate_204", "https://127.0.0.1:2/g",
              "http://connectivitycheck.gstatic.com/generate_204")),
        ]
        for key, flag, (var, env_value), file_value, (want_flag, want_env, want_file, want_default) in cases:
            with self.subTest(key=key):
                got = self.config()["settings"][key]
                self.assertEqual(got["source"], "default")
                if want_default is not None:
                    self.assertEqual(got["value"], want_default)
                cfg = self.write_config({key: file_value})
                got = self.config()["settings"][key]
                self.assertEqual((got["source"], got["from"]), ("file", cfg))
                self.check_value(key, got["value"], want_file)
                got = self.config(env={var: env_value})["settings"][key]
                self.assertEqual((got["source"], got["from"]), ("env", var))
                self.check_value(key, got["value"], want_env)
                got = self.config(flag, env={var: env_value})["settings"][key]
                self.assertEqual((got["source"], got["from"]), ("flag", flag[0].split("=")[0]))
                self.check_value(key, got["value"], want_flag)
                os.remove(cfg)

    def check_value(self, key, value, want):
        if key == "mirrors":
            self.assertEqual(value[0], want)  # the preferred one first, then the catalogue
        else:
            self.assertEqual(value, want)

    def test_config_file_chosen_by_flag_env_or_default(self):
        other = self.write_config({"attempts_per_mirror": 5}, os.path.join(self.home, "elsewhere", "ci.json"))
        self.write_config({"attempts_per_mirror": 4})
        out = self.config()
        self.assertEqual(out["config_file"]["chosen_by"], "default")
        self.assertEqual(out["settings"]["attempts_per_mirror"]["value"], 4)
        out = self.config(env={"GOINSTALL_CONFIG": other})
        self.assertEqual(out["config_file"], {"path": other, "chosen_by": "GOINSTALL_CONFIG", "loaded": True})
        self.assertEqual(out["settings"]["attempts_per_mirror"]["value"], 5)
        out = self.config(["--config", self.write_config({"attempts_per_mirror": 6}, os.path.join(self.home, "x.json"))],
                          env={"GOINSTALL_CONFIG": other})
        self.assertEqual((out["config_file"]["chosen_by"], out["settings"]["attempts_per_mirror"]["value"]),
                         ("--config", 6))
        # The default file missing is fine; a named one missing is an error naming it.
        os.remove(os.path.join(self.cfg_dir, "config.json"))
        out = self.config()
        self.assertFalse(out["config_file"]["loaded"])
        missing = os.path.join(self.home, "nope.json")
        for args, env, who in ((["--config", missing], None, "--config"), ([], {"GOINSTALL_CONFIG": missing}, "GOINSTALL_CONFIG")):
            r = h.run_goinstall(["list", *args], env_extra=env, home=self.home, timeout=30)
            self.assertEqual(r.returncode, EXIT_USAGE, r.output)
            self.assertEqual(r.stderr.strip(), f"goinstall: error: {who}: config file {missing} does not exist")

    def test_relative_and_home_paths_in_the_file(self):
        path = self.write_config({"root": "toolchains", "cache_dir": "~/cache", "cacert": "../ca.pem"})
        s = self.config()["settings"]
        self.assertEqual(s["root"]["value"], os.path.join(os.path.dirname(path), "toolchains"))
        self.assertEqual(s["cache_dir"]["value"], os.path.join(self.home, "cache"))
        self.assertEqual(s["cacert"]["value"], os.path.join(self.home, ".config", "ca.pem"))

    def test_bad_files_and_values_name_the_file_key_and_value(self):
        cfg = os.path.join(self.cfg_dir, "config.json")
        cases = [
            ({"colour": "blue"}, f"{cfg}: unknown key 'colour' (known: root, cache_dir, index_url, mirrors, "),
            ({"connect_timeout": "10"}, f"{cfg}: connect_timeout must be a number of seconds, not a string"),
            ({"attempts_per_mirror": 2.5}, f"{cfg}: attempts_per_mirror must be a whole number, not a number"),
            ({"max_retries": 2.5}, f"{cfg}: max_retries must be a whole number, not a number"),
            ({"offline": "yes"}, f"{cfg}: offline must be true or false, not a string"),
            ({"mirrors": "aliyun"}, f"{cfg}: mirrors must be an array of strings, not a string"),
            ({"mirrors": ["a,b"]}, f"{cfg}: mirrors: 'a,b' has a comma"),
            ({"root": ""}, f"{cfg}: root is empty"),
            ({"connect_timeout": -1}, f"{cfg}: connect_timeout: '-1' is not a number of seconds"),
            ({"max_retries": 1000}, f"{cfg}: max_retries: '1000' is not a number from 1 to 100"),
            ({"triage_timeout": 601}, f"{cfg}: triage_timeout: '601' is not a number of seconds up to 600"),
            ({"no_triage": "yes"}, f"{cfg}: no_triage must be true or false, not a string"),
            ({"captive_probe_url": "ftp://x/"}, f"{cfg}: captive_probe_url: 'ftp://x/' is not an http(s) URL or 'none'"),
            ({"connections": 0}, f"{cfg}: connections: '0' is not a number from 1 to 16"),
            ({"proxy_auth": "kerberos"}, f"{cfg}: proxy_auth: 'kerberos' is not one of basic"),
            ({"mirrors": ["nosuchmirror"]}, f"{cfg}: mirrors: unknown mirror 'nosuchmirror'"),
            ('{"root": "/x",\n  "deadline": }', f"{cfg}: not valid JSON (line 2, column 15)"),
            ("[1, 2]", f"{cfg}: not a JSON object"),
        ]
        for data, want in cases:
            with self.subTest(data=data):
                self.write_config(data)
                for verb in (["list"], ["install", "1.21.3", "--index-url", "file:///nonexistent"]):
                    # (the harness's captive_probe_url=none would hide the file's value)
                    r = h.run_goinstall(verb, env_extra={"GOINSTALL_CAPTIVE_PROBE_URL": None}, home=self.home, timeout=30)
                    self.assertEqual(r.returncode, EXIT_USAGE, r.output)
                    self.assertTrue(r.stderr.startswith("goinstall: error: " + want), r.stderr)
                    self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)
        os.remove(cfg)
        # Environment values are checked the same way, naming the variable.
        for var, value, want in (("GOINSTALL_OFFLINE", "maybe", "GOINSTALL_OFFLINE: 'maybe' is not a boolean"),
                                 ("GOINSTALL_DEADLINE", "soon", "GOINSTALL_DEADLINE: 'soon' is not a number of seconds"),
                                 ("GOINSTALL_MIRROR", "nosuch", "GOINSTALL_MIRROR: unknown mirror 'nosuch'")):
            r = h.run_goinstall(["config"], env_extra={var: value}, home=self.home, timeout=30)
            self.assertEqual(r.returncode, EXIT_USAGE, r.output)
            self.assertTrue(r.stderr.startswith("goinstall: error: " + want), r.stderr)

    def test_old_names_of_attempts_per_mirror(self):
        # --max-retries, GOINSTALL_MAX_RETRIES and the file key max_retries still work, each below the
        # new name at its own level, and `goinstall config` says which name was used.
        cfg = self.write_config({"max_retries": 4})
        got = self.config()["settings"]["attempts_per_mirror"]
        self.assertEqual((got["value"], got["source"], got["from"]), (4, "file", cfg))
        self.write_config({"max_retries": 4, "attempts_per_mirror": 5})
        self.assertEqual(self.config()["settings"]["attempts_per_mirror"]["value"], 5)
        got = self.config(env={"GOINSTALL_MAX_RETRIES": "6"})["settings"]["attempts_per_mirror"]
        self.assertEqual((got["value"], got["source"], got["from"]), (6, "env", "GOINSTALL_MAX_RETRIES"))
        got = self.config(env={"GOINSTALL_MAX_RETRIES": "6", "GOINSTALL_ATTEMPTS_PER_MIRROR": "7"})["settings"]
        self.assertEqual(got["attempts_per_mirror"]["value"], 7)
        got = self.config(["--max-retries", "8"], env={"GOINSTALL_ATTEMPTS_PER_MIRROR": "7"})["settings"]
        self.assertEqual((got["attempts_per_mirror"]["value"], got["attempts_per_mirror"]["from"]), (8, "--max-retries"))
        got = self.config(["--max-retries", "8", "--attempts-per-mirror", "9"])["settings"]["attempts_per_mirror"]
        self.assertEqual((got["value"], got["from"]), (9, "--attempts-per-mirror"))
        r = self.config(["--max-retries", "0"], ok=False)
        self.assertEqual(r.returncode, EXIT_USAGE, r.output)
        self.assertIn("--max-retries: '0' is not a number from 1 to 100", r.stdout)

    def test_triage_settings_from_the_file(self):
        cfg = self.write_config({"no_triage": True, "triage_timeout": 2.5, "captive_probe_url": "none"})
        s = self.config()["settings"]
        for key, value in (("no_triage", True), ("triage_timeout", 2.5), ("captive_probe_url", "none")):
            self.assertEqual(s[key], {"value": value, "source": "file", "from": cfg}, key)
        # The file's no_triage is honoured by a failing install: no "checking the network" after the error.
        r = h.run_goinstall(["1.21.3", "--index-url", "http://127.0.0.1:1/i.json", "--allow-insecure-index",
                             "--mirror", "http://127.0.0.1:1/m/", "--connect-timeout", "1"], home=self.home, timeout=60)
        self.assertEqual(r.returncode, 4, r.output)
        self.assertNotIn("checking the network", r.stderr)

    def test_module_route_settings_come_from_flags_env_files_and_go_env(self):
        # The harness sets GOPROXY=off; without it, the go command's default is shown.
        s = self.config(env={"GOPROXY": None})["settings"]
        self.assertEqual(s["goproxy"], {"value": "https://proxy.golang.org,direct", "source": "default",
                                        "from": "the go command's default"})
        self.assertEqual(s["gosumdb"]["value"], "sum.golang.org")
        self.assertEqual(s["via"]["value"], "auto")
        # `go env -w` writes $XDG_CONFIG_HOME/go/env: goinstall reads it below its own settings, with
        # the proxy's password masked.
        go_env = os.path.join(self.home, ".config", "go", "env")
        os.makedirs(os.path.dirname(go_env))
        with open(go_env, "w") as f:
            f.write("GOPROXY=https://u:hunter2@goproxy.corp.example/api,https://goproxy.cn|direct\n"
                    "GOSUMDB=sum.golang.google.cn\n")
        s = self.config(env={"GOPROXY": None})["settings"]
        self.assertEqual(s["goproxy"], {"value": "https://u:***@goproxy.corp.example/api,https://goproxy.cn|direct",
                                        "source": "file", "from": go_env})
        self.assertEqual(s["gosumdb"], {"value": "sum.golang.google.cn", "source": "file", "from": go_env})
        # GOENV=off turns that file off, as for the go command; the environment beats it.
        s = self.config(env={"GOPROXY": None, "GOENV": "off"})["settings"]
        self.assertEqual(s["goproxy"]["source"], "default")
        s = self.config(env={"GOPROXY": "https://goproxy.io"})["settings"]
        self.assertEqual(s["goproxy"], {"value": "https://goproxy.io", "source": "env", "from": "GOPROXY"})
        # goinstall's config file beats the go command's file; the flag beats everything.
        cfg = self.write_config({"goproxy": "file:///srv/goproxy", "via": "goproxy"})
        s = self.config(env={"GOPROXY": None})["settings"]
        self.assertEqual(s["goproxy"], {"value": "file:///srv/goproxy", "source": "file", "from": cfg})
        self.assertEqual(s["via"], {"value": "goproxy", "source": "file", "from": cfg})
        s = self.config(["--goproxy", "https://a.example|https://b.example", "--via", "index",
                         "--gosumdb", "sum.golang.org https://sum.golang.google.cn"])["settings"]
        self.assertEqual(s["goproxy"]["value"], "https://a.example|https://b.example")
        self.assertEqual(s["gosumdb"]["value"], "sum.golang.org https://sum.golang.google.cn")
        self.assertEqual(s["via"]["source"], "flag")
        # A private database's URL may carry credentials: masked.
        s = self.config(["--gosumdb", "sum.golang.org https://u:hunter2@sumdb.corp.example"])["settings"]
        self.assertEqual(s["gosumdb"]["value"], "sum.golang.org https://u:***@sumdb.corp.example")
        # Bad values: one line naming where the value came from, exit 2, secrets masked.
        for args, env, words in ((["--goproxy", "ftp://x"], {}, "--goproxy: GOPROXY: 'ftp://x': unsupported scheme"),
                                 ([], {"GOPROXY": "bogus"}, "GOPROXY: 'bogus' is not a URL"),
                                 ([], {"GOSUMDB": "on"}, "GOSUMDB:"),
                                 (["--via", "nope"], {}, "--via: 'nope' is not a route"),
                                 (["--goproxy", "gopher://u:hunter2@h"], {}, "--goproxy: GOPROXY:")):
            r = self.config(args, env=env, ok=False)
            self.assertEqual(r.returncode, 2, r.output)
            self.assertIn(words, json.loads(r.stdout)["error"]["message"])
            self.assertNotIn("hunter2", r.output)

    def test_mirror_auto_is_shown(self):
        got = self.config(["--mirror", "auto,http://127.0.0.1:1/m/"])["settings"]["mirrors"]
        self.assertEqual((got["value"][:2], got["source"]), (["auto", "http://127.0.0.1:1/m/"], "flag"))

    def test_secrets_are_masked(self):
        proxy = f"http://alice:{PASSWORD}@127.0.0.1:3128"
        self.write_config({"proxy": proxy, "pac_url": f"https://bob:{PASSWORD}@pac.example/p.pac",
                           "index_url": f"https://idx.example/dl/?mode=json&token={PASSWORD}"})
        texts = []
        for args in (["config"], ["config", "--json"]):
            r = h.run_goinstall(args, home=self.home, timeout=30)
            self.assertEqual(r.returncode, 0, r.output)
            texts += [r.stdout, r.stderr]
        self.assertIn("http://alice:***@127.0.0.1:3128", texts[0])
        out = json.loads(texts[2])
        self.assertEqual(out["settings"]["proxy"], {"value": "http://alice:***@127.0.0.1:3128", "source": "file",
                                                    "from": os.path.join(self.cfg_dir, "config.json")})
        # The environment's proxy outranks the file's; shown masked as well.
        r = h.run_goinstall(["config", "--json"], env_extra={"https_proxy": f"http://eve:{PASSWORD}@10.0.0.1:8080"},
                            home=self.home, timeout=30)
        got = json.loads(r.stdout)["settings"]["proxy"]
        self.assertEqual((got["source"], got["from"], got["value"]), ("env", "https_proxy", "http://eve:***@10.0.0.1:8080"))
        texts += [r.stdout, r.stderr]
        # Bad values with credentials are quoted redacted.
        self.write_config({"mirrors": [f"ftp://u:{PASSWORD}@x/"]})
        r = h.run_goinstall(["config"], home=self.home, timeout=30)
        self.assertEqual(r.returncode, EXIT_USAGE, r.output)
        self.assertIn("mirrors: 'ftp://u:***@x/' is not an http(s):// or file:// URL", r.stderr)
        texts += [r.stdout, r.stderr]
        h.assert_no_secret(texts, PASSWORD)

    def test_text_table_lists_every_key_with_its_source(self):
        self.write_config({"deadline": 120})
        r = h.run_goinstall(["config", "--stall-timeout", "7"], env_extra={"GOINSTALL_MAX_RETRIES": "2"},
                            home=self.home, timeout=30)
        self.assertEqual(r.returncode, 0, r.output)
        lines = r.stdout.splitlines()
        self.assertEqual(lines[0], f"config file: {os.path.join(self.cfg_dir, 'config.json')}")
        rows = {ln.split()[0]: ln for ln in lines[2:]}
        self.assertEqual(list(rows), ["root", "cache_dir", "index_url", "mirrors", "no_fallback", "proxy",
                                      "no_proxy_hosts", "proxy_auth", "no_system_proxy", "pac_url", "cacert",
                                      "connect_timeout", "stall_timeout", "attempts_per_mirror", "connections", "race_after", "deadline",
                                      "lock_timeout", "check_timeout", "offline", "no_triage", "triage_timeout", "captive_probe_url",
                                      "goproxy", "gosumdb", "via"])
        self.assertRegex(rows["deadline"], r"^deadline\s+120\s+file$")
        self.assertRegex(rows["stall_timeout"], r"^stall_timeout\s+7\s+flag --stall-timeout$")
        self.assertRegex(rows["attempts_per_mirror"], r"^attempts_per_mirror\s+2\s+env GOINSTALL_MAX_RETRIES$")
        self.assertRegex(rows["triage_timeout"], r"^triage_timeout\s+10\s+default$")
        self.assertRegex(rows["connect_timeout"], r"^connect_timeout\s+10\s+default$")
        self.assertRegex(rows["race_after"], r"^race_after\s+0\.4\s+default$")
        self.assertEqual(r.stderr, "")

    def test_install_from_a_config_file_alone(self):
        arc = h.fake_toolchain_archive("go1.21.3", h.tmpfs_path(self, "arc-"))
        site = Site(self, [arc], tls=True)
        root = os.path.join(self.home, "toolchains")
        self.write_config({"index_url": site.index_url, "mirrors": [site.mirror], "no_fallback": True,
                           "cacert": site.cert.ca_cert, "root": root, "connect_timeout": 5, "attempts_per_mirror": 2})
        r = h.run_goinstall(["1.21.3"], home=self.home, timeout=60)
        self.assertEqual(r.returncode, 0, r.output)
        self.assertTrue(os.path.isfile(os.path.join(root, "go1.21.3", "bin", "go")))
        self.assertEqual(len(site.archive_requests()), 1)
        # The environment adds to the file: GOINSTALL_OFFLINE=1 with an empty cache fails without a download.
        r = h.run_goinstall(["1.21.3", "--reinstall", "--cache-dir", os.path.join(self.home, "empty-cache")],
                            env_extra={"GOINSTALL_OFFLINE": "1"}, home=self.home, timeout=60)
        self.assertNotEqual(r.returncode, 0, r.output)
        self.assertIn("no cached release index", r.stderr)
        self.assertEqual(len(site.archive_requests()), 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
