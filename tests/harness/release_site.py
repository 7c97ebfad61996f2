"""A release site for CLI tests: one nginx serving a go.dev-style index and toolchain archives.

    site = Site(testcase, [archive, ...], tls=True)   # starts nginx, registers cleanup
    r = site.goinstall(["1.21.3"])                      # runs goinstall against it, isolated
"""
import os
import unittest
from typing import Iterable, Optional, Sequence

import goinstall_harness as h

INDEX_PATH = "dl/?mode=json&include=all"


class Site:
    def __init__(self, tc: unittest.TestCase, archives: Iterable[h.ToolchainArchive] = (),
                 tls: bool = False, index_text: Optional[str] = None, extra_files=(),
                 extra_releases=()):
        self.tc = tc
        self.dir = h.tmpfs_path(tc, "goinstall-site-")
        self.cert = None
        if tls:
            ca = h.make_ca(os.path.join(self.dir, "ca"))
            self.cert = h.make_cert(os.path.join(self.dir, "ca"), ca)
        self.nginx = h.Nginx(docroot=os.path.join(self.dir, "www"), tls=tls, cert=self.cert)
        self.nginx.start()
        tc.addCleanup(self.nginx.close)
        self.archives = list(archives)
        for a in self.archives:
            self.nginx.put_file(a.filename, a.path)
        self.set_index(index_text if index_text is not None else
                       h.make_index(self.archives, extra_files=extra_files, extra_releases=extra_releases))
        self.home = os.path.join(self.dir, "home")
        os.makedirs(self.home, exist_ok=True)
        self.root = os.path.join(self.dir, "root")

    def set_index(self, text: str) -> None:
        self.nginx.put("dl/index.json", text)

    @property
    def index_url(self) -> str:
        return self.nginx.url + INDEX_PATH

    @property
    def mirror(self) -> str:
        return self.nginx.url

    def flags(self, root: Optional[str] = None) -> list:
        f = ["--index-url", self.index_url, "--mirror", self.mirror]
        if root is not False:
            f += ["--root", root or self.root]
        if self.cert is not None:
            f += ["--cacert", self.cert.ca_cert]
        return f

    def goinstall(self, args: Sequence[str], root: Optional[str] = None, timeout: float = 120,
                  env_extra=None, flags: bool = True) -> h.GoinstallResult:
        argv = list(args) + (self.flags(root) if flags else [])
        return h.run_goinstall(argv, home=self.home, timeout=timeout, env_extra=env_extra)

    def archive_requests(self) -> list:
        """Every archive request, each logged: call it once the client under test has exited
        (nginx logs a request after its last byte is sent, so a client can finish first)."""
        return [e for e in self.nginx.requests_until_marker() if e.path.endswith((".tar.gz", ".zip"))]
