"""A real forward proxy (Debian's tinyproxy) for tests, plus a private view of /etc/hosts.

goinstall never proxies loopback names, so the servers behind the proxy are given a made-up name
(mirror.test) that only processes started through `in_hosts_namespace` can resolve: each runs in its
own mount namespace with a bind-mounted hosts file mapping the name to 127.0.0.1. Nothing outside
the test sees the name; every address involved is loopback."""
import os
import shutil
import subprocess
import time

import goinstall_harness as h

TEST_HOSTS = ("mirror.test", "other.test")


def hosts_file(dirpath: str) -> str:
    path = os.path.join(dirpath, "hosts")
    with open(path, "w") as f:
        f.write("127.0.0.1 localhost\n::1 localhost\n127.0.0.1 " + " ".join(TEST_HOSTS) + "\n")
    return path


def in_hosts_namespace(argv, hosts: str) -> list:
    """argv wrapped so that it runs with `hosts` as its /etc/hosts (needs root or user namespaces)."""
    return ["unshare", "-m", "--", "sh", "-c", 'mount --bind "$0" /etc/hosts && exec "$@"', hosts, *argv]


def available() -> bool:
    if shutil.which("tinyproxy") is None or shutil.which("unshare") is None:
        return False
    r = subprocess.run(in_hosts_namespace(["true"], "/etc/hosts"), capture_output=True)
    return r.returncode == 0


class TinyProxy:
    """tinyproxy on 127.0.0.1:<free port>, Basic auth optional, logging every request."""

    def __init__(self, dirpath: str, hosts: str, user: str = None, password: str = None, extra=()):
        self.dir = dirpath
        self.port = h.free_port()
        self.log = os.path.join(dirpath, "tinyproxy.log")
        conf = os.path.join(dirpath, f"tinyproxy-{self.port}.conf")
        self.log = os.path.join(dirpath, f"tinyproxy-{self.port}.log")
        lines = [f"Port {self.port}", "Listen 127.0.0.1", "Timeout 30", f"LogFile \"{self.log}\"",
                 "LogLevel Info", "MaxClients 20", f"PidFile \"{os.path.join(dirpath, 'tp.pid')}\""]
        if user:
            lines.append(f"BasicAuth {user} {password}")
        lines.extend(extra)
        with open(conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.proc = subprocess.Popen(in_hosts_namespace(["tinyproxy", "-d", "-c", conf], hosts),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        h.wait_for_port("127.0.0.1", self.port, timeout=5.0)

    def url(self, user=None, password=None) -> str:
        cred = f"{user}:{password}@" if user else ""
        return f"http://{cred}127.0.0.1:{self.port}"

    def log_text(self) -> str:
        time.sleep(0.1)
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def close(self):
        h.kill_process_group(self.proc)
