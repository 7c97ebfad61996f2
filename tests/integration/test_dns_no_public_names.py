"""A resolver that resolves no public name, for real: Debian's dnsmasq as the only nameserver,
answering NXDOMAIN for every name (filtered DNS, or no internet), or one private address for every
name (split-horizon DNS). goinstall runs with its defaults — go.dev and its fallback for the index,
the built-in mirrors, the built-in captive-portal probe — and the verdict must blame the nameserver
and list each name it tried, not ask to check the spelling of 'go.dev'.

Nothing leaves the machine: each run is in a fresh network namespace with only `lo` (no route to
any other address), with its own /etc/hosts, /etc/resolv.conf (nameserver 127.0.0.1) and
nsswitch.conf (files, then DNS) bind-mounted in a private mount namespace. dnsmasq listens on
127.0.0.1:53 of that namespace (glibc's resolv.conf cannot name a port; the namespace's port 53 is
its own), logs every query, and is stopped when goinstall exits."""
import json
import os
import re
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "harness"))
import goinstall_harness as h  # noqa: E402
import proxy_harness as ph  # noqa: E402

TRIAGE = ["--triage-timeout", "5", "--no-system-proxy", "--connect-timeout", "2", "--max-retries", "1", "--json"]

# Inside the namespaces: lo up, the /etc files bound, dnsmasq started (its "started" line, written
# once its sockets are bound, waited for: at most 5 s), argv run, dnsmasq stopped.
SCRIPT = r'''
ip link set lo up && mount --bind "$0" /etc/hosts && mount --bind "$1" /etc/resolv.conf &&
mount --bind "$2" /etc/nsswitch.conf || exit 99
dnsmasq --keep-in-foreground --no-resolv --no-hosts --port=53 --listen-address=127.0.0.1 --bind-interfaces \
  --user=root --pid-file= --log-queries --log-facility="$3" --address="$4" & dns=$!
i=0; until grep -q started "$3" 2>/dev/null; do i=$((i+1)); [ $i -gt 100 ] && exit 98; sleep 0.05; done
shift 4; "$@"; rc=$?; kill $dns; wait $dns; exit $rc
'''


def triage_event(stdout: str):
    events = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    found = [e for e in events if e.get("event") == "triage"]
    return (found[0] if found else None), events


class NoPublicNames(unittest.TestCase):
    def setUp(self):
        self.dir = h.tmpfs_path(self, "goinstall-dns-")
        self.hosts = os.path.join(self.dir, "hosts")
        with open(self.hosts, "w") as f:
            f.write("127.0.0.1 localhost\n::1 localhost\n")
        self.resolv = os.path.join(self.dir, "resolv.conf")
        with open(self.resolv, "w") as f:
            f.write("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
        self.log = os.path.join(self.dir, "dnsmasq.log")

    def run_ns(self, address, args):
        """goinstall `args` with dnsmasq's --address=`address` as the only resolver."""
        home = os.path.join(self.dir, "home")
        # The network namespace isolates them: the built-in mirrors and the real captive-portal
        # probe's host are asked of dnsmasq only.
        env = h.isolated_env(home, {"GOINSTALL_CAPTIVE_PROBE_URL": None}, builtin_mirrors=True)
        argv = ["unshare", "--net", "--mount", "--", "sh", "-c", SCRIPT, self.hosts, self.resolv, ph.nsswitch_file(),
                self.log, address, h.goinstall_bin(), *args]
        return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)

    def queried(self):
        """The names dnsmasq was asked about (its log: 'query[A] go.dev from 127.0.0.1')."""
        with open(self.log, errors="replace") as f:
            return {m.group(1).lower() for m in re.finditer(r"query\[\w+\] (\S+) from", f.read())}

    def tried_in(self, title):
        """The names the verdict lists: 'for every name tried: a (index), b (mirror x).'"""
        listed = title.split("for every name tried: ", 1)[1].rstrip(".")
        return {item.split(" (", 1)[0] for item in listed.split("), ")}

    def check(self, p, exit_code, said):
        self.assertEqual(p.returncode, exit_code, p.stdout + p.stderr)
        ev, events = triage_event(p.stdout)
        self.assertIsNotNone(ev, p.stdout + p.stderr)
        out = json.dumps(ev, indent=1)
        self.assertEqual(ev["verdict"]["code"], "dns_no_public_names", out)
        title, action = ev["verdict"]["title"], ev["verdict"]["action"]
        self.assertTrue(title.startswith("The nameserver 127.0.0.1:53 resolves no public name (filtered or "
                                         "split-horizon DNS, or no internet)"), title)
        self.assertIn(said, title)
        self.assertNotIn("Check the host name", action)
        self.assertIn("proxy or internal mirror your network provides", action)
        self.assertIn("another resolver", action)
        tried = self.tried_in(title)
        self.assertEqual(tried, self.queried(), "the verdict lists exactly the names that were looked up")
        return tried, events

    def test_nxdomain_for_every_name_index_fetch(self):
        p = self.run_ns("/#/", ["ls-remote", *TRIAGE])
        tried, _ = self.check(p, 4, "it answered NXDOMAIN (no such name)")
        # The index source and its fallback, and the captive-portal probe.
        self.assertTrue({"go.dev", "connectivitycheck.gstatic.com"} <= tried, tried)
        self.assertGreaterEqual(len(tried), 3, tried)

    def test_nxdomain_for_every_name_doctor_lists_every_mirror(self):
        p = self.run_ns("/#/", ["doctor", *TRIAGE])
        tried, _ = self.check(p, 21, "it answered NXDOMAIN (no such name)")
        mirrors = h.run_goinstall(["mirrors", "--json"], env_extra=None, home=os.path.join(self.dir, "home"))
        self.assertIn("go.dev", tried)
        self.assertIn("connectivitycheck.gstatic.com", tried)
        self.assertGreaterEqual(len(tried), 6, f"every built-in mirror's host: {tried}\n{mirrors.stdout}")

    def test_split_horizon_private_answer_for_every_name(self):
        p = self.run_ns("/#/10.11.12.13", ["ls-remote", *TRIAGE])
        tried, _ = self.check(p, 4, "it answered only private or blocking addresses (10.11.12.13)")
        self.assertIn("go.dev", tried)


if __name__ == "__main__":
    unittest.main()
