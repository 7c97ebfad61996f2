"""WPAD auto-discovery end to end, inside a private network and mount namespace this file makes:
only `lo` exists there, /etc/resolv.conf says `search eng.corp.example` (DNS server 127.0.0.1, where
nothing listens), and /etc/hosts maps wpad.corp.example, wpad.example and mirror.test to 127.0.0.1.
nginx on 127.0.0.1:80 plays the WPAD server, a second nginx (TLS) the release site, tinyproxy the
proxy the wpad.dat names. The desktop settings (KDE ProxyType=3, GNOME mode 'auto' without a URL)
ask for auto-detection. No packet can leave the namespace.

Run the file directly (`python3 tests/integration/test_wpad.py`): it re-executes itself under
`unshare --net --mount` (root needed) and skips when that is not possible."""
import os
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
import goinstall_harness as h  # noqa: E402
import proxy_harness as ph  # noqa: E402

VERSION = "go1.21.3"
NS_MARK = "GOINSTALL_TEST_WPAD_NAMESPACE"
CANDIDATE_1 = "http://wpad.eng.corp.example/wpad.dat"  # does not resolve
CANDIDATE_2 = "http://wpad.corp.example/wpad.dat"      # nginx on 127.0.0.1:80


def in_namespace() -> bool:
    return os.environ.get(NS_MARK) == "1"


def setup_namespace(dirpath: str) -> None:
    """Inside the fresh namespace: lo up, and private resolv.conf / hosts / nsswitch.conf bind-mounted
    (unshare makes the mount namespace's propagation private, so nothing shows outside)."""
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    files = {
        "resolv.conf": "nameserver 127.0.0.1\nsearch eng.corp.example\noptions timeout:1 attempts:1\n",
        "hosts": "127.0.0.1 localhost\n::1 localhost\n127.0.0.1 wpad.corp.example wpad.example mirror.test\n",
        # files then dns only (no nss-resolve, whose socket would reach the host's resolver).
        "nsswitch.conf": "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n",
    }
    for name, text in files.items():
        path = os.path.join(dirpath, name)
        with open(path, "w") as f:
            f.write(text)
        subprocess.run(["mount", "--bind", path, "/etc/" + name], check=True)


@unittest.skipUnless(in_namespace(), "run this file directly: it re-executes itself in a private network namespace")
class Wpad(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ns_dir = h.tmpfs_dir("goinstall-wpad-ns-")
        setup_namespace(cls.ns_dir.name)

    @classmethod
    def tearDownClass(cls):
        cls.ns_dir.cleanup()

    def setUp(self):
        self.dir = h.tmpfs_path(self, "goinstall-wpad-")
        self.hosts = "/etc/hosts"  # already the namespace's own
        ca = h.make_ca(os.path.join(self.dir, "ca"))
        self.cert = h.make_cert(os.path.join(self.dir, "ca"), ca, names=["mirror.test"])
        self.archive = h.fake_toolchain_archive(VERSION, os.path.join(self.dir, "a"))
        self.site = h.Nginx(docroot=os.path.join(self.dir, "site"), tls=True, cert=self.cert)
        self.site.start()
        self.addCleanup(self.site.close)
        self.site.put_file(self.archive.filename, self.archive.path)
        self.site.put("dl/index.json", h.make_index([self.archive]))
        self.wpad = h.Nginx(docroot=os.path.join(self.dir, "wpad"))
        self.wpad.start(port=80)
        self.addCleanup(self.wpad.close)
        self.proxy = ph.TinyProxy(self.dir, self.hosts)
        self.addCleanup(self.proxy.close)
        self.home = os.path.join(self.dir, "home")
        os.makedirs(os.path.join(self.home, ".config"))
        self.base = f"https://mirror.test:{self.site.port}/"
        self.runs = 0

    def serve_wpad_dat(self):
        self.wpad.put("wpad.dat", "function FindProxyForURL(url, host) {\n"
                                  f"  if (host == 'mirror.test') return 'PROXY 127.0.0.1:{self.proxy.port}; DIRECT';\n"
                                  "  return 'DIRECT';\n}\n")

    def kde_auto(self):
        with open(os.path.join(self.home, ".config", "kioslaverc"), "w") as f:
            f.write("[Proxy Settings]\nProxyType=3\n")
        return {"XDG_CURRENT_DESKTOP": "KDE"}

    def goinstall(self, args, env_extra=None):
        self.runs += 1
        argv = [*args, "--root", os.path.join(self.dir, "root"), "--cacert", self.cert.ca_cert]
        return h.run_goinstall(argv, env_extra=env_extra, home=self.home, timeout=60)

    def install_args(self):
        return [VERSION, "--index-url", self.base + "dl/?mode=json&include=all", "--mirror", self.base,
                "--no-fallback", "--reinstall"]

    def proxied(self) -> int:
        return self.proxy.log_text().count(f"opening connection to mirror.test:{self.site.port}")

    def wpad_requests(self):
        return [(e.host, e.path, e.status) for e in self.wpad.access_log_lines()]

    def test_wpad_dat_found_names_the_proxy_and_the_install_uses_it(self):
        self.serve_wpad_dat()
        env = self.kde_auto()
        p = self.goinstall(["proxy", self.base, "https://direct.example/"], env)
        self.assertEqual(p.returncode, 0, p.output)
        self.assertIn(f"proxy http://127.0.0.1:{self.proxy.port} (PAC {CANDIDATE_2} (WPAD, from KDE", p.stdout)
        self.assertIn("uses WPAD auto-discovery: see the PAC step", p.stdout)
        self.assertIn("answered 'DIRECT'", p.stdout)  # the other URL
        p = self.goinstall(self.install_args(), env)
        self.assertEqual(p.returncode, 0, p.output)
        self.assertEqual(self.proxied(), 2)  # the index and the archive went through the proxy
        # One direct fetch of wpad.dat per process, by name; devolution stopped at corp.example.
        self.wpad.wait_for_log(self.runs)
        self.assertEqual(self.wpad_requests(), [("wpad.corp.example", "/wpad.dat", 200)] * self.runs)
        self.assertNotIn("wpad", self.proxy.log_text())

    def test_no_wpad_dat_goes_direct_and_says_why(self):
        env = self.kde_auto()
        p = self.goinstall(["proxy", self.base], env)
        self.assertEqual(p.returncode, 0, p.output)
        why = f"WPAD: no wpad.dat at {CANDIDATE_1} (host not found), {CANDIDATE_2} (HTTP 404)"
        self.assertIn(f"direct ({why}; going direct)", p.stdout)
        self.assertIn(f"note: {why}\n", p.stdout + "\n")
        p = self.goinstall(self.install_args(), env)
        self.assertEqual(p.returncode, 0, p.output)
        self.assertEqual(self.proxied(), 0)
        self.assertEqual([e.path for e in self.site.wait_for_log(2)][-1], "/" + self.archive.filename)
        self.assertEqual(self.wpad_requests(), [("wpad.corp.example", "/wpad.dat", 404)] * self.runs)

    def test_not_run_when_turned_off_or_decided_elsewhere(self):
        self.serve_wpad_dat()
        env = self.kde_auto()
        p = self.goinstall(["proxy", self.base, "--no-system-proxy"], env)
        self.assertIn("direct (no proxy configured)", p.stdout, p.output)
        p = self.goinstall(["proxy", self.base, "--no-proxy"], env)
        self.assertIn("direct (--no-proxy)", p.stdout, p.output)
        p = self.goinstall(["proxy", self.base], {**env, "HTTPS_PROXY": self.proxy.url()})
        self.assertIn("(from HTTPS_PROXY)", p.stdout, p.output)
        self.assertIn("note: WPAD not run: HTTPS_PROXY names a proxy", p.stdout)
        p = self.goinstall(["proxy", self.base, "--pac-url", "http://127.0.0.1:80/wpad.dat"], env)
        self.assertIn("(PAC http://127.0.0.1:80/wpad.dat (from --pac-url)", p.stdout, p.output)
        # Only the explicit --pac-url fetch reached the server; WPAD itself never ran.
        self.wpad.wait_for_log(1)
        self.assertEqual(self.wpad_requests(), [("127.0.0.1", "/wpad.dat", 200)])

    @unittest.skipUnless(shutil.which("gsettings"), "needs gsettings (libglib2.0-bin)")
    def test_gnome_auto_mode_without_url(self):
        self.serve_wpad_dat()
        kf = os.path.join(self.home, ".config", "glib-2.0", "settings")
        os.makedirs(kf)
        with open(os.path.join(kf, "keyfile"), "w") as f:
            f.write("[system/proxy]\nmode='auto'\nautoconfig-url=''\n")
        env = {"GSETTINGS_BACKEND": "keyfile", "XDG_CURRENT_DESKTOP": "GNOME"}
        p = self.goinstall(["proxy", self.base, "--json"], env)
        self.assertEqual(p.returncode, 0, p.output)
        self.assertIn(f'"source":"PAC {CANDIDATE_2} (WPAD, from GNOME', p.stdout.replace('": "', '":"'))


def main() -> int:
    if in_namespace():
        return 0 if unittest.main(exit=False).result.wasSuccessful() else 1
    can = shutil.which("unshare") and shutil.which("ip") and ph.available() and \
        subprocess.run(["unshare", "--net", "--mount", "--", "true"], capture_output=True).returncode == 0
    if not can:
        print("skipped: needs root, unshare --net --mount, ip, tinyproxy", file=sys.stderr)
        return 0
    env = {**os.environ, NS_MARK: "1"}
    argv = ["unshare", "--net", "--mount", "--propagation", "private", "--",
            sys.executable, os.path.abspath(__file__), *sys.argv[1:]]
    return subprocess.run(argv, env=env, timeout=240).returncode


if __name__ == "__main__":
    sys.exit(main())
