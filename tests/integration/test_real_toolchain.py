"""A real Go toolchain (Debian's go1.19.8 repacked in the official layout) served by nginx over HTTPS
with a certificate the test makes: goinstall installs it, and the installed go builds a program."""
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
import goinstall_harness as h  # noqa: E402
from release_site import Site  # noqa: E402


class RealToolchain(unittest.TestCase):
    def test_install_build_and_replace(self):
        archive = h.toolchain_archive()
        site = Site(self, [archive], tls=True)

        # Without the test CA the TLS check must fail, with the TLS exit code and nothing installed.
        flags = [f for f in site.flags() if f != "--cacert" and f != site.cert.ca_cert]
        r = h.run_goinstall(["1.19.8", *flags], home=site.home)
        self.assertEqual(r.returncode, 5, r.output)
        self.assertIn("TLS", r.stderr)
        self.assertFalse(os.path.exists(os.path.join(site.root, "go1.19.8")))

        r = site.goinstall(["1.19.8"], timeout=300)
        self.assertEqual(r.returncode, 0, r.output)
        go = os.path.join(site.root, "go1.19.8", "bin", "go")
        out = subprocess.run([go, "version"], capture_output=True, text=True, timeout=60,
                             env={"PATH": "/usr/bin:/bin", "HOME": site.home})
        self.assertEqual(out.stdout.split()[:3], ["go", "version", "go1.19.8"])

        # go build of a hello world with the installed toolchain (GOROOT found from its location).
        src = os.path.join(site.dir, "hello")
        os.makedirs(src)
        with open(os.path.join(src, "go.mod"), "w") as f:
            f.write("module hello\n\ngo 1.19\n")
        with open(os.path.join(src, "main.go"), "w") as f:
            f.write('package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("hello from goinstall") }\n')
        env = {"PATH": os.path.join(site.root, "current", "bin") + ":/usr/bin:/bin", "HOME": site.home,
               "GOCACHE": os.path.join(site.dir, "gocache"), "GOPATH": os.path.join(site.dir, "gopath"),
               "GOFLAGS": "-mod=mod", "GOPROXY": "off", "CGO_ENABLED": "0"}
        b = subprocess.run(["go", "build", "-o", "hello", "."], cwd=src, env=env, capture_output=True,
                           text=True, timeout=240)
        self.assertEqual(b.returncode, 0, b.stderr)
        run = subprocess.run([os.path.join(src, "hello")], capture_output=True, text=True, timeout=30)
        self.assertEqual(run.stdout.strip(), "hello from goinstall")

        # The archive crossed the wire once, whole; nothing is left in downloads or staging.
        reqs = site.archive_requests()
        self.assertEqual([(e.status, e.bytes) for e in reqs], [(200, archive.size)])
        self.assertEqual(os.listdir(os.path.join(site.root, ".downloads")), [])
        self.assertEqual(sorted(os.listdir(site.root)), [".downloads", ".lock", "current", "go1.19.8"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
