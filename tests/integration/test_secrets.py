"""Secrets never leak: a proxy password (in --proxy, --proxy-user, HTTPS_PROXY, the config file)
and URL credentials (https://user:s3cretPW@... for the index and the mirror) go through install,
ls-remote, proxy, mirrors (and --probe), and every other verb the binary lists, in text and
--json modes, on success and on failure paths (wrong password, dead proxy, 404, TLS failure,
an interrupted download that leaves a .part). Then ALL of stdout and stderr, and every file
written under the home (root, cache, config) — except the config file the test wrote itself —
are searched for the secret: raw, percent-encoded, base64, and as a Basic user:password pair."""
import os
import shutil
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
import fault_server as fsrv  # noqa: E402
import goinstall_harness as h  # noqa: E402
import proxy_harness as ph  # noqa: E402

VERSION = "go1.21.3"
USER, SECRET = "fleet", "s3cretPW"
WRONG = "Wr0ngs3cretPW"


@unittest.skipUnless(ph.available(), "needs tinyproxy and unshare (mount namespaces)")
class Secrets(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        h.goinstall_bin()
        cls.dir = h.tmpfs_dir("goinstall-secrets-")
        cls.addClassCleanup(cls.dir.cleanup)
        d = cls.dir.name
        cls.hosts = ph.hosts_file(d)
        ca = h.make_ca(os.path.join(d, "ca"))
        cls.ca = ca
        cls.cert = h.make_cert(os.path.join(d, "ca"), ca, names=["mirror.test", "localhost"])
        cls.archive = h.fake_toolchain_archive(VERSION, os.path.join(d, "a"))
        cls.srv = fsrv.FaultServer({"dl/index.json": h.make_index([cls.archive]).encode(),
                                    "dl/" + cls.archive.filename: open(cls.archive.path, "rb").read()},
                                   tls_cert=cls.cert)
        cls.srv.start()
        cls.addClassCleanup(cls.srv.stop)
        cls.proxy = ph.TinyProxy(d, cls.hosts, USER, SECRET)
        cls.addClassCleanup(cls.proxy.close)
        cls.port = cls.srv.port
        cls.texts = []

    def setUp(self):
        self.home = h.tmpfs_path(self, "home-")
        self.root = os.path.join(self.home, "root")
        self.config = os.path.join(self.home, ".config", "goinstall", "config.json")

    def url(self, cred=True, host="mirror.test"):
        return f"https://{USER + ':' + SECRET + '@' if cred else ''}{host}:{self.port}/dl/"

    def run_gi(self, args, env=None, timeout=60):
        argv = [h.goinstall_bin(), *args, "--root", self.root, "--cacert", self.cert.ca_cert, "--no-system-proxy"]
        e = h.isolated_env(self.home, env)
        p = subprocess.run(ph.in_hosts_namespace(argv, self.hosts), env=e, capture_output=True, text=True,
                           errors="replace", timeout=timeout, stdin=subprocess.DEVNULL, cwd=self.home)
        self.texts += [p.stdout, p.stderr]
        return p

    def both(self, args, env=None, codes=(0,), modes=("text", "json")):
        for mode in ([] if m == "text" else ["--json"] for m in modes):
            p = self.run_gi(args + mode, env)
            self.assertIn(p.returncode, codes, f"{args + mode}\n{p.stdout}{p.stderr}")
            self.assertNotIn(p.returncode, (1, 134, 139))

    def install(self, index_cred=False, mirror_cred=False, extra=()):
        return [VERSION, "--reinstall", "--index-url", self.url(index_cred) + "?mode=json&include=all",
                "--mirror", self.url(mirror_cred), "--no-fallback", "--max-retries", "1", *extra]

    def tearDown(self):
        files = []
        for dirpath, _, names in os.walk(self.home):
            for n in names:
                p = os.path.join(dirpath, n)
                if p == self.config or os.path.islink(p):
                    continue
                with open(p, "rb") as f:
                    files.append(f.read())
        for secret in (SECRET, f"{USER}:{SECRET}", WRONG):
            h.assert_no_secret(self.texts, secret)
            h.assert_no_secret(files, secret)
        self.texts = []

    def test_proxy_passwords(self):
        proxy = f"http://{USER}:{SECRET}@127.0.0.1:{self.proxy.port}"
        bare = f"http://127.0.0.1:{self.proxy.port}"
        self.both(self.install(), {"HTTPS_PROXY": proxy})
        self.both(self.install(extra=["--proxy", proxy]), modes=("json",))
        self.both(self.install(extra=["--proxy", bare, "--proxy-user", f"{USER}:{SECRET}"]), modes=("text",))
        os.makedirs(os.path.dirname(self.config), exist_ok=True)
        with open(self.config, "w") as f:
            f.write(f'{{"proxy": "{proxy}"}}\n')
        self.both(self.install(), modes=("json",))
        self.both(["ls-remote", "--index-url", self.url() + "?mode=json&include=all"], modes=("text",))
        self.both(["proxy", self.url(False), "https://example.invalid/"])
        os.unlink(self.config)
        # Failure paths: a wrong password (407), a dead proxy, an unparsable proxy URL.
        wrong = f"http://{USER}:{WRONG}@127.0.0.1:{self.proxy.port}"
        self.both(self.install(), {"HTTPS_PROXY": wrong}, codes=(6,))
        self.both(self.install(extra=["--proxy", bare, "--proxy-user", f"{USER}:{WRONG}"]), codes=(6,))
        dead = f"http://{USER}:{SECRET}@127.0.0.1:{fsrv.closed_port()}"
        self.both(self.install(extra=["--proxy", dead]), codes=(4,))
        self.both(self.install(extra=["--proxy", f"http://{USER}:{SECRET}@127.0.0.1:99999"]), codes=(2, 4),
                  modes=("text",))
        self.both(["proxy", self.url(False), "--proxy", dead])

    def test_url_credentials(self):
        self.both(self.install(index_cred=True, mirror_cred=True))
        self.both(["ls-remote", "--index-url", self.url(True) + "?mode=json&include=all"], modes=("json",))
        self.both(["mirrors", "--mirror", self.url(True), "--no-fallback"])
        self.both(["mirrors", "--probe", VERSION, "--mirror", self.url(True), "--no-fallback",
                   "--index-url", self.url(True) + "?mode=json&include=all"], codes=(0, 4))
        self.both(["proxy", self.url(True)])
        # Failure paths: 404 on the mirror, the index's host with the wrong CA, a 404 index. The
        # network diagnosis that follows a failure (it prints URLs too) runs for the TLS case.
        quick = {"GOINSTALL_NO_TRIAGE": "1"}
        self.both(self.install(mirror_cred=True)[:4] + ["--mirror", self.url(True) + "missing/", "--no-fallback",
                                                         "--max-retries", "1"], quick, codes=(4,))
        p = self.run_gi([VERSION, "--reinstall", "--index-url", self.url(True) + "?mode=json&include=all",
                         "--mirror", self.url(True), "--no-fallback"], {"SSL_CERT_FILE": "/dev/null"})
        self.assertNotEqual(p.returncode, 0)
        self.both(self.install()[:2] + ["--index-url", self.url(True) + "nothing-here.json", "--mirror",
                                        self.url(True), "--no-fallback"], quick, codes=(4,))

    def test_interrupted_download_keeps_no_secret_on_disk(self):
        """The .part and its metadata stay after an interruption: they must not hold the URL's
        credentials (the mirror URL is recorded for If-Range)."""
        self.srv.set_fault(fsrv.drip(self.archive.size / 4), path="dl/" + self.archive.filename)
        self.addCleanup(self.srv.clear_faults)
        argv = [h.goinstall_bin(), *self.install(mirror_cred=True), "--json", "--root", self.root,
                "--cacert", self.cert.ca_cert, "--no-system-proxy"]
        p = subprocess.Popen(ph.in_hosts_namespace(argv, self.hosts), env=h.isolated_env(self.home),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        self.addCleanup(h.kill_process_group, p, 1)
        part = os.path.join(self.root, ".downloads", self.archive.filename + ".part")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not (os.path.exists(part) and os.path.getsize(part) > 0):
            time.sleep(0.05)
        os.killpg(p.pid, signal.SIGINT)
        out, err = p.communicate(timeout=10)
        self.texts += [out, err]
        self.assertEqual(p.returncode, 130, out + err)
        self.assertTrue(os.path.exists(part + ".meta"), os.listdir(os.path.dirname(part)))

    def test_every_listed_verb(self):
        """Verbs this build has beyond the ones above (doctor, config, download, mirror sync, ...),
        run with every kind of credential in play, in text and --json; whatever they do, they must
        not print or store a secret. Run with no network at all (a new network namespace, not even
        loopback up): a verb may probe hosts of its own choosing, and nothing may leave."""
        help_text = self.run_gi(["--help"]).stdout
        known = {"install", "list", "ls-remote", "use", "uninstall", "current", "env", "mirrors", "proxy"}
        section = help_text.split("Verbs:", 1)[1].split("\n\n", 1)[0]
        verbs = sorted({ln.split()[0] for ln in section.splitlines() if ln.strip()} - known)
        self.assertNotIn("goinstall", verbs)
        args_for = {"download": [VERSION, "-o", os.path.join(self.home, "dl")],
                    "mirror": ["sync", os.path.join(self.home, "mirror"), "--versions", VERSION]}
        proxy = f"http://{USER}:{SECRET}@127.0.0.1:{self.proxy.port}"
        for verb in verbs:
            with self.subTest(verb=verb):
                verb_help = self.run_gi([verb, "--help"]).stdout
                flags = [["--proxy", proxy], ["--index-url", self.url(True) + "?mode=json&include=all"],
                         ["--mirror", self.url(True)], ["--no-fallback"]]
                extra = [x for f in flags if f[0] in verb_help for x in f]
                for mode in ([], ["--json"]):
                    argv = [h.goinstall_bin(), verb, *args_for.get(verb, []), *mode, *extra, "--root", self.root]
                    p = subprocess.run(["unshare", "-n", "--", *ph.in_hosts_namespace(argv, self.hosts)],
                                       env=h.isolated_env(self.home, {"HTTPS_PROXY": proxy}), capture_output=True,
                                       text=True, errors="replace", timeout=90, stdin=subprocess.DEVNULL, cwd=self.home)
                    self.texts += [p.stdout, p.stderr]
                    self.assertNotIn(p.returncode, (1, 134, 139), p.stdout + p.stderr)
                    self.assertGreaterEqual(p.returncode, 0)


if __name__ == "__main__":
    unittest.main()
