"""A PAC file the system's settings ask for (GNOME mode 'auto' with an autoconfig URL) is a source
like the others: it is not fetched when --proxy, a *_proxy variable or the config file names a proxy,
and when it cannot be loaded the run goes on (direct) with the reason shown by `goinstall proxy`.
An explicit --pac-url that cannot be loaded stays an error. Works with and without PAC support."""
import os
import shutil
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
import fault_server as fs  # noqa: E402
import proxy_harness as ph  # noqa: E402

GNOME = {"GSETTINGS_BACKEND": "keyfile", "XDG_CURRENT_DESKTOP": "GNOME"}


@unittest.skipUnless(ph.available() and shutil.which("gsettings"), "needs tinyproxy, unshare and gsettings")
class SystemPac(ph.ProxyTestBase):
    def gnome_auto(self, pac_url):
        # GSETTINGS_BACKEND=keyfile makes gsettings read $XDG_CONFIG_HOME/glib-2.0/settings/keyfile.
        kf = os.path.join(self.home, ".config", "glib-2.0", "settings")
        os.makedirs(kf, exist_ok=True)
        with open(os.path.join(kf, "keyfile"), "w") as f:
            f.write(f"[system/proxy]\nmode='auto'\nautoconfig-url='{pac_url}'\n")

    def test_unreachable_system_pac_does_not_block_https_proxy(self):
        pac_url = f"http://127.0.0.1:{fs.closed_port()}/proxy.pac"
        self.gnome_auto(pac_url)
        env = dict(GNOME, HTTPS_PROXY=self.proxy.url(self.USER, self.PASSWORD))
        p = self.goinstall(self.install_args(), env, system_proxy=True)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(self.connects(), 2)  # index + archive through tinyproxy
        p = self.goinstall(["proxy", "https://go.dev/"], env, system_proxy=True)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("(from HTTPS_PROXY)", p.stdout)
        self.assertIn("note: PAC file not loaded: HTTPS_PROXY names a proxy", p.stdout)
        ph.h.assert_no_secret([p.stdout, p.stderr], self.PASSWORD)

    def test_system_pac_is_not_fetched_when_a_higher_source_decides(self):
        srv = fs.start_fault_server(self, {})
        srv.put("proxy.pac", "function FindProxyForURL(url, host) { return 'PROXY 127.0.0.1:9'; }\n")
        self.gnome_auto(srv.url + "proxy.pac")
        for extra, env in ((["--proxy", self.proxy.url(self.USER, self.PASSWORD)], {}),
                           ([], {"https_proxy": self.proxy.url(self.USER, self.PASSWORD)})):
            p = self.goinstall(self.install_args() + extra, dict(GNOME, **env), system_proxy=True)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(self.connects(), 4)
        self.assertEqual(srv.requests(), [])  # the PAC file was never asked for

    def test_unreachable_system_pac_goes_direct_and_says_why(self):
        port = fs.closed_port()
        self.gnome_auto(f"http://127.0.0.1:{port}/proxy.pac")
        p = self.goinstall(["proxy", "https://mirror.test/"], GNOME, system_proxy=True)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("direct (PAC file not loaded: ", p.stdout)  # unreachable, or this build has no PAC support
        self.assertIn(f"127.0.0.1:{port}/proxy.pac", p.stdout)
        self.assertIn("skipped system settings: GNOME", p.stdout)
        p = self.goinstall(self.install_args(), GNOME, system_proxy=True)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(self.connects(), 0)  # direct: tinyproxy saw nothing

    def test_reachable_system_pac_is_used_or_skipped_without_pac_support(self):
        srv = fs.start_fault_server(self, {})
        srv.put("proxy.pac", f"function FindProxyForURL(url, host) {{ return 'PROXY 127.0.0.1:{self.proxy.port}'; }}\n")
        self.gnome_auto(srv.url + "proxy.pac")
        p = self.goinstall(self.install_args() + ["--proxy-user", f"{self.USER}:{self.PASSWORD}"], GNOME,
                           system_proxy=True)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        q = self.goinstall(["proxy", "https://mirror.test/"], GNOME, system_proxy=True)
        self.assertEqual(q.returncode, 0, q.stdout + q.stderr)
        if ph.pac_supported():
            self.assertEqual(self.connects(), 2)
            self.assertIn(f"proxy http://127.0.0.1:{self.proxy.port} (PAC ", q.stdout)
        else:  # the stub build: the source is skipped with the reason, nothing fetched, the install goes direct
            self.assertEqual(self.connects(), 0)
            self.assertIn("direct (PAC file not loaded: PAC script ", q.stdout)
            self.assertIn("this build has no PAC support", q.stdout)
            self.assertEqual(srv.requests(), [])

    def test_explicit_pac_url_that_cannot_be_loaded_is_an_error(self):
        pac_url = f"http://127.0.0.1:{fs.closed_port()}/proxy.pac"
        p = self.goinstall(["proxy", "https://go.dev/", "--pac-url", pac_url],
                           {"HTTPS_PROXY": self.proxy.url()})
        self.assertNotEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("PAC from --pac-url", p.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
