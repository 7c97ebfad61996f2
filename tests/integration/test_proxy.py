"""Installs through a real forward proxy (tinyproxy with Basic auth): configured by environment,
by --proxy and by the config file; a wrong password gives the proxy-auth exit code and a message
naming the proxy with no password anywhere; NO_PROXY bypass proven by the proxy's log."""
import json
import os
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
import fault_server as fs  # noqa: E402
import goinstall_harness as h  # noqa: E402
import proxy_harness as ph  # noqa: E402

VERSION = "go1.21.3"


def pac_supported() -> bool:
    return ph.pac_supported() and shutil.which("gsettings") is not None


USER, PASSWORD = "fleet", "s3cret-Pa55"
EXIT_PROXY_AUTH = 6


@unittest.skipUnless(ph.available(), "needs tinyproxy and unshare (mount namespaces)")
class ThroughProxy(ph.ProxyTestBase):
    def test_env_https_proxy(self):
        p = self.goinstall(self.install_args(), {"HTTPS_PROXY": self.proxy.url(USER, PASSWORD)})
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(self.connects(), 2)  # index + archive, both through the proxy
        self.assertNotIn(PASSWORD, p.stdout + p.stderr)

    def test_flag_and_config_file(self):
        p = self.goinstall(self.install_args() + ["--proxy", self.proxy.url(USER, PASSWORD)])
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        cfg = os.path.join(self.home, ".config", "goinstall")
        os.makedirs(cfg, exist_ok=True)
        with open(os.path.join(cfg, "config.json"), "w") as f:
            json.dump({"proxy": self.proxy.url(USER, PASSWORD)}, f)
        p = self.goinstall(self.install_args())
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(self.connects(), 4)
        # The flag wins over the environment, which wins over the config file.
        p = self.goinstall(["proxy", "https://go.dev/", "--proxy", "http://127.0.0.1:9"],
                           {"HTTPS_PROXY": self.proxy.url()})
        self.assertIn("proxy http://127.0.0.1:9 (from --proxy)", p.stdout, p.stderr)
        p = self.goinstall(["proxy", "https://go.dev/"], {"HTTPS_PROXY": self.proxy.url()})
        self.assertIn("(from HTTPS_PROXY)", p.stdout, p.stderr)
        self.assertIn("skipped --proxy: not given", p.stdout)
        p = self.goinstall(["proxy", "https://go.dev/"])
        self.assertIn("(from config file)", p.stdout, p.stderr)
        self.assertIn("skipped environment:", p.stdout)

    def test_wrong_password_is_a_proxy_auth_error_without_secrets(self):
        wrong = "n0t-the-Pa55"
        for json_out in (False, True):
            p = self.goinstall(self.install_args(), {"HTTPS_PROXY": self.proxy.url(USER, wrong)}, json_out=json_out)
            self.assertEqual(p.returncode, EXIT_PROXY_AUTH, p.stdout + p.stderr)
            self.assertIn(f"127.0.0.1:{self.proxy.port}", p.stdout + p.stderr)
            self.assertIn("407", p.stdout + p.stderr)
            h.assert_no_secret([p.stdout, p.stderr], wrong)
            if json_out:
                last = json.loads(p.stdout.splitlines()[-1])
                self.assertEqual(last["error"]["code"], "proxy_auth")
        p = self.goinstall(self.install_args(), {"HTTPS_PROXY": self.proxy.url()})  # no credentials at all
        self.assertEqual(p.returncode, EXIT_PROXY_AUTH, p.stdout + p.stderr)
        self.assertIn("--proxy-user", p.stderr)

    def test_no_proxy_bypass_is_visible_in_the_proxy_log(self):
        env = {"HTTPS_PROXY": self.proxy.url(USER, PASSWORD), "NO_PROXY": "other.test"}
        other = f"https://other.test:{self.nginx.port}/"
        p = self.goinstall(self.install_args(mirror=other), env)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(self.connects("mirror.test"), 1)  # the index went through the proxy
        self.assertEqual(self.connects("other.test"), 0)   # the mirror did not
        p = self.goinstall(["proxy", "--mirror", other, "--no-fallback", "--index-url", self.base], env)
        self.assertIn("direct (NO_PROXY entry", p.stdout.replace("No_proxy", "NO_PROXY"), p.stdout)

    def test_socks5h_proxy_resolves_names_itself(self):
        log = os.path.join(self.dir, "socks.log")
        server = os.path.join(os.path.dirname(__file__), "..", "harness", "socks5_server.py")

        def start(port):
            with open(log, "w") as out:
                return subprocess.Popen(ph.in_hosts_namespace([sys.executable, server, str(port), "120"], self.hosts),
                                        stdout=out, stderr=subprocess.DEVNULL, start_new_session=True)
        port, proc = h.start_on_free_port(start, "socks5_server.py")
        self.addCleanup(h.kill_process_group, proc)
        p = self.goinstall(self.install_args() + ["--proxy", f"socks5h://127.0.0.1:{port}"])
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        with open(log) as f:
            lines = f.read().splitlines()
        # Two tunnels (index, archive), each asked by name (atyp=3): the proxy did the resolving.
        self.assertEqual(lines, [f"CONNECT mirror.test:{self.nginx.port} atyp=3"] * 2)
        self.assertEqual(self.connects(), 0)  # and the HTTP proxy saw nothing

    @unittest.skipUnless(shutil.which("gsettings"), "needs gsettings (libglib2.0-bin)")
    def test_gnome_settings_via_gsettings_keyfile_backend(self):
        # GSETTINGS_BACKEND=keyfile makes gsettings read $XDG_CONFIG_HOME/glib-2.0/settings/keyfile.
        kf = os.path.join(self.home, ".config", "glib-2.0", "settings")
        os.makedirs(kf, exist_ok=True)
        with open(os.path.join(kf, "keyfile"), "w") as f:
            f.write("[system/proxy]\nmode='manual'\nignore-hosts=['localhost', 'other.test']\n\n"
                    f"[system/proxy/https]\nhost='127.0.0.1'\nport={self.proxy.port}\n")
        env = {"GSETTINGS_BACKEND": "keyfile", "XDG_CURRENT_DESKTOP": "GNOME"}
        p = self.goinstall(["proxy", "https://go.dev/", "https://other.test/"], env, system_proxy=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(f"proxy http://127.0.0.1:{self.proxy.port} (from GNOME", p.stdout)
        self.assertIn("direct (NO_PROXY entry 'other.test')", p.stdout)
        # GNOME has no proxy credentials: the install gets the proxy-auth error, naming GNOME as source.
        p = self.goinstall(self.install_args(), env, system_proxy=True)
        self.assertEqual(p.returncode, EXIT_PROXY_AUTH, p.stdout + p.stderr)
        self.assertIn("(from GNOME", p.stderr)
        p = self.goinstall(self.install_args() + ["--proxy-user", f"{USER}:{PASSWORD}"], env, system_proxy=True)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(self.connects(), 2)

    def test_kde_kioslaverc(self):
        cfg = os.path.join(self.home, ".config")
        os.makedirs(cfg, exist_ok=True)
        with open(os.path.join(cfg, "kioslaverc"), "w") as f:
            f.write(f"[Proxy Settings]\nProxyType=1\nhttpsProxy=http://{USER}:{PASSWORD}@127.0.0.1 {self.proxy.port}\n"
                    "NoProxyFor=localhost\n")
        env = {"XDG_CURRENT_DESKTOP": "KDE"}
        p = self.goinstall(["proxy", "https://go.dev/"], env, system_proxy=True)
        self.assertIn("(from KDE", p.stdout, p.stderr)
        h.assert_no_secret([p.stdout, p.stderr], PASSWORD)
        p = self.goinstall(self.install_args(), env, system_proxy=True)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(self.connects(), 2)

    def test_proxy_failures_are_diagnosed(self):
        # CONNECT refused by policy: tinyproxy allowing tunnels to port 443 only answers 403.
        strict = ph.TinyProxy(self.dir, self.hosts, extra=["ConnectPort 443"])
        self.addCleanup(strict.close)
        p = self.goinstall(self.install_args(), {"HTTPS_PROXY": strict.url()})
        self.assertEqual(p.returncode, 4, p.stdout + p.stderr)
        self.assertIn(f"the proxy http://127.0.0.1:{strict.port} (from HTTPS_PROXY) refused to connect", p.stderr)
        self.assertIn("CONNECT answered 403", p.stderr)
        # https:// pointing at a plain-HTTP proxy (curl error 35, "wrong version number").
        p = self.goinstall(self.install_args() + ["--connect-timeout", "2"],
                           {"HTTPS_PROXY": f"https://127.0.0.1:{self.proxy.port}"})
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("does not speak TLS", p.stderr)
        self.assertIn("use http://", p.stderr)
        # A proxy that accepts and hangs up at once.
        closer = fs.start_fault_server(self, {})
        closer.set_fault(fs.empty_reply())
        p = self.goinstall(self.install_args(), {"HTTPS_PROXY": closer.url})
        self.assertEqual(p.returncode, 4, p.stdout + p.stderr)
        self.assertIn("closed the connection", p.stderr)
        self.assertIn(f"127.0.0.1:{closer.port}", p.stderr)
        # Nothing listening where the proxy should be.
        p = self.goinstall(self.install_args(), {"HTTPS_PROXY": f"http://127.0.0.1:{fs.closed_port()}"})
        self.assertEqual(p.returncode, 4, p.stdout + p.stderr)
        self.assertIn("cannot connect to the proxy", p.stderr)

    def pac_setup(self, first_choice_port=None):
        """A second proxy, and a PAC file served by nginx: the index host (mirror.test) goes through the
        first proxy, the mirror (other.test) through the second; `first_choice_port` puts a dead proxy
        before them to exercise the fallback list."""
        second = ph.TinyProxy(self.dir, self.hosts)
        self.addCleanup(second.close)
        dead = f"PROXY 127.0.0.1:{first_choice_port}; " if first_choice_port else ""
        pac = ("function FindProxyForURL(url, host) {\n"
               "  if (isPlainHostName(host) || shExpMatch(host, '*.corp.example')) return 'DIRECT';\n"
               f"  if (dnsDomainIs(host, 'mirror.test')) return '{dead}PROXY 127.0.0.1:{self.proxy.port}; DIRECT';\n"
               f"  if (host == 'other.test') return 'PROXY 127.0.0.1:{second.port}';\n"
               "  return 'DIRECT';\n}\n")
        self.nginx.put("proxy.pac", pac)
        return second, f"https://localhost:{self.nginx.port}/proxy.pac"

    @unittest.skipUnless(pac_supported(), "this build has no PAC support")
    def test_pac_selects_different_proxies_for_index_and_mirror(self):
        second, pac_url = self.pac_setup()
        other = f"https://other.test:{self.nginx.port}/"
        args = self.install_args(mirror=other) + ["--pac-url", pac_url, "--proxy-user", f"{USER}:{PASSWORD}"]
        p = self.goinstall(args)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(self.connects("mirror.test"), 1)  # the index through the first proxy
        self.assertEqual(self.connects("other.test"), 0)
        self.assertEqual(second.log_text().count(f"opening connection to other.test:{self.nginx.port}"), 1)
        p = self.goinstall(["proxy", "https://mirror.test/", "https://build.corp.example/", "--pac-url", pac_url])
        self.assertIn(f"proxy http://127.0.0.1:{self.proxy.port} (PAC ", p.stdout, p.stderr)
        self.assertIn("answered 'DIRECT'", p.stdout)

    @unittest.skipUnless(pac_supported(), "this build has no PAC support")
    def test_pac_from_gnome_auto_mode_with_fallback_past_a_dead_proxy(self):
        _second, pac_url = self.pac_setup(first_choice_port=fs.closed_port())
        kf = os.path.join(self.home, ".config", "glib-2.0", "settings")
        os.makedirs(kf, exist_ok=True)
        with open(os.path.join(kf, "keyfile"), "w") as f:
            f.write(f"[system/proxy]\nmode='auto'\nautoconfig-url='{pac_url}'\n")
        env = {"GSETTINGS_BACKEND": "keyfile", "XDG_CURRENT_DESKTOP": "GNOME"}
        p = self.goinstall(self.install_args() + ["--proxy-user", f"{USER}:{PASSWORD}"], env, system_proxy=True)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(self.connects("mirror.test"), 2)  # the dead first choice was skipped both times

    def test_unresolvable_proxy_host_and_config_notes(self):
        # In a network namespace with no route, resolving the proxy's name fails locally at once.
        env = h.isolated_env(self.home, {"HTTPS_PROXY": "http://proxy.example.invalid:3128",
                                         "NO_PROXY": "corp.example"})
        argv = [h.goinstall_bin(), *self.install_args(), "--root", os.path.join(self.dir, "root"),
                "--cacert", self.cert.ca_cert, "--no-system-proxy"]
        p = subprocess.run(["unshare", "--net", "--", *argv], env=env, capture_output=True, text=True, timeout=60,
                           stdin=subprocess.DEVNULL, cwd=self.home)
        self.assertEqual(p.returncode, 4, p.stdout + p.stderr)
        self.assertIn("cannot resolve the host of the proxy http://proxy.example.invalid:3128 (from HTTPS_PROXY)",
                      p.stderr)
        # `goinstall proxy` points out a NO_PROXY without loopback (other tools would proxy it).
        p = self.goinstall(["proxy", "https://go.dev/"], {"HTTPS_PROXY": self.proxy.url(), "NO_PROXY": "corp.example"})
        self.assertIn("note: NO_PROXY does not list localhost", p.stdout)

    def test_cacert_from_config_file(self):
        cfg = os.path.join(self.home, ".config", "goinstall")
        os.makedirs(cfg, exist_ok=True)
        with open(os.path.join(cfg, "config.json"), "w") as f:
            json.dump({"cacert": self.cert.ca_cert, "proxy": self.proxy.url(USER, PASSWORD)}, f)
        env = h.isolated_env(self.home)
        argv = [h.goinstall_bin(), *self.install_args(), "--root", os.path.join(self.dir, "root"), "--no-system-proxy"]
        p = subprocess.run(ph.in_hosts_namespace(argv, self.hosts), env=env, capture_output=True, text=True,
                           timeout=120, stdin=subprocess.DEVNULL, cwd=self.home)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        with open(os.path.join(cfg, "config.json"), "w") as f:
            f.write('{"proxy": "http://a:1", "colour": "blue"}')
        p = subprocess.run(ph.in_hosts_namespace(argv, self.hosts), env=env, capture_output=True, text=True,
                           timeout=60, stdin=subprocess.DEVNULL, cwd=self.home)
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertIn("config.json: unknown key 'colour'", p.stderr)

    def test_proxy_verb_explains_choices(self):
        p = self.goinstall(["proxy", "https://go.dev/", "http://mirror.test/"],
                           {"https_proxy": self.proxy.url(USER, PASSWORD)})
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(f"proxy http://{USER}:***@127.0.0.1:{self.proxy.port}", p.stdout)
        self.assertIn("direct (no proxy configured)", p.stdout)  # http URL: https_proxy does not apply
        h.assert_no_secret([p.stdout, p.stderr], PASSWORD)


if __name__ == "__main__":
    unittest.main(verbosity=2)
