"""NO_PROXY as the binary applies it (`goinstall proxy`, which touches no network): a host:port entry
matches a URL that leaves the port out (issue #14 item 6), an IPv6 zone is dropped for CIDR entries
and never makes a name match (item 7), Unicode and punycode names are one name (item 8), and the
"does not list localhost" note is not shown when an entry covers loopback (item 9); a PAC file sees
an https URL as its origin only and may call console.log (items 18c, 18d). The table of
the whole dialect is in tests/unit/net/no_proxy_test.cpp and docs/no_proxy.md."""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
import goinstall_harness as h  # noqa: E402

# Never contacted: `goinstall proxy` only decides.
PROXY = "http://10.9.9.9:3128"


class NoProxyRulesTest(unittest.TestCase):
    def choices(self, no_proxy, urls):
        r = h.run_goinstall(["proxy", "--json", "--no-system-proxy", *urls],
                            env_extra={"HTTPS_PROXY": PROXY, "http_proxy": PROXY, "NO_PROXY": no_proxy}, timeout=30)
        self.assertEqual(r.returncode, 0, r.output)
        events = [json.loads(line) for line in r.stdout.splitlines()]
        return {e["url"]: e for e in events if e.get("event") == "info" and "url" in e}

    def assert_direct(self, no_proxy, url, direct):
        e = self.choices(no_proxy, [url])[url]
        self.assertEqual(not e.get("proxy"), direct, e)  # "proxy": "" means direct
        return e

    def test_port_entry_matches_the_default_port(self):
        e = self.assert_direct("mirror.corp:443", "https://mirror.corp/dl/go.tgz", True)
        self.assertIn("mirror.corp:443", e["reason"])
        self.assert_direct("mirror.corp:443", "http://mirror.corp/dl/go.tgz", False)
        self.assert_direct("mirror.corp:80", "http://mirror.corp/dl/go.tgz", True)

    def test_ipv6_zone(self):
        self.assert_direct("fe80::/10", "http://[fe80::1%25eth0]/", True)
        self.assert_direct("example.com", "http://[1000::%25.example.com]:123/", False)

    def test_idna_names(self):
        self.assert_direct("xn--fsq092h.com", "https://www.示例.com/", True)
        self.assert_direct("示例.com", "https://www.xn--fsq092h.com/", True)

    def test_loopback_note(self):
        for no_proxy, noted in (("corp.example", True), ("corp.example,127.0.0.1/8", False),
                                ("corp.example,[::1]", False), ("corp.example localhost", False)):
            r = h.run_goinstall(["proxy", "--no-system-proxy", "https://go.dev/"],
                                env_extra={"HTTPS_PROXY": PROXY, "NO_PROXY": no_proxy}, timeout=30)
            self.assertEqual(r.returncode, 0, r.output)
            self.assertEqual("NO_PROXY does not list localhost" in r.stdout, noted, (no_proxy, r.stdout))

    def pac_choice(self, script, url):
        home = h.tmpfs_path(self, "goinstall-pac-")
        pac = os.path.join(home, "proxy.pac")
        with open(pac, "w") as f:
            f.write(script)
        r = h.run_goinstall(["proxy", "--no-system-proxy", "--pac-url", "file://" + pac, url], home=home, timeout=30)
        self.assertEqual(r.returncode, 0, r.output)
        return r

    def test_pac_sees_the_origin_of_an_https_url(self):
        # The script builds its proxy's name from the URL it is given; before the fix it got the
        # password, path and query, and the password came out in the proxy name.
        r = self.pac_choice('function FindProxyForURL(url, host) {'
                            ' return "PROXY " + url.replace(/[^a-z0-9.]/g, "x") + ".test:3128"; }',
                            "https://alice:s3cret@go.dev:8443/dl/go.tgz?token=abc#frag")
        self.assertIn("proxy http://httpsxxxgo.devx8443x.test:3128", r.stdout)
        self.assertNotIn("s3cret", r.output)

    def test_pac_console_log(self):
        r = self.pac_choice('function FindProxyForURL(url, host) { console.log(url);'
                            ' return "PROXY proxy.example.com:3128"; }', "https://go.dev/dl/")
        self.assertIn("proxy http://proxy.example.com:3128", r.stdout)
        self.assertNotIn("ReferenceError", r.output)


if __name__ == "__main__":
    unittest.main()
