"""A real forward proxy (Debian's tinyproxy) for tests, plus a private view of /etc/hosts.

goinstall never proxies loopback names, so the servers behind the proxy are given a made-up name
(mirror.test) that only processes started through `in_hosts_namespace` can resolve: each runs in its
own mount namespace with a bind-mounted hosts file mapping the name to 127.0.0.1, and an
nsswitch.conf saying `hosts: files dns`, so that a lookup never reaches a host resolver socket (nscd,
systemd-resolved, mDNS) whatever the host's own nsswitch.conf says. Nothing outside the test sees the
name; every address involved is loopback."""
import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import goinstall_harness as h

TEST_HOSTS = ("mirror.test", "other.test")


def hosts_file(dirpath: str) -> str:
    path = os.path.join(dirpath, "hosts")
    with open(path, "w") as f:
        f.write("127.0.0.1 localhost\n::1 localhost\n127.0.0.1 " + " ".join(TEST_HOSTS) + "\n")
    return path


NSSWITCH = "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n"
_nsswitch_path = None


def nsswitch_file() -> str:
    """A private nsswitch.conf (files, then DNS as resolv.conf says; no nscd/resolved/mdns modules),
    written once per process and removed at exit."""
    global _nsswitch_path
    if _nsswitch_path is None:
        fd, path = tempfile.mkstemp(prefix="goinstall-nsswitch-", suffix=".conf")
        with os.fdopen(fd, "w") as f:
            f.write(NSSWITCH)
        os.chmod(path, 0o644)
        atexit.register(lambda: os.path.exists(path) and os.unlink(path))
        _nsswitch_path = path
    return _nsswitch_path


# Shell text that bind-mounts "$0" over /etc/hosts and "$1" over /etc/nsswitch.conf.
MOUNT_HOSTS_AND_NSSWITCH = 'mount --bind "$0" /etc/hosts && mount --bind "$1" /etc/nsswitch.conf'


def in_hosts_namespace(argv, hosts: str) -> list:
    """argv wrapped so that it runs with `hosts` as its /etc/hosts and the private nsswitch.conf
    (needs root or user namespaces)."""
    return ["unshare", "-m", "--", "sh", "-c", MOUNT_HOSTS_AND_NSSWITCH + ' && shift && exec "$@"', hosts,
            nsswitch_file(), *argv]


def pac_supported() -> bool:
    """Whether this goinstall evaluates PAC files (it is built with duktape when duktape-dev is there)."""
    with tempfile.NamedTemporaryFile("w", suffix=".pac") as f:
        f.write("function FindProxyForURL(url, host) { return 'DIRECT'; }\n")
        f.flush()
        r = subprocess.run([os.environ.get("GOINSTALL_BIN", "goinstall"), "proxy", "--no-system-proxy", "--pac-url",
                            f.name, "https://a.example/"],
                           capture_output=True, text=True, timeout=30,
                           env={"PATH": os.environ.get("PATH", ""), "HOME": tempfile.gettempdir()})
    return r.returncode == 0


def available() -> bool:
    if shutil.which("tinyproxy") is None or shutil.which("unshare") is None:
        return False
    r = subprocess.run(in_hosts_namespace(["true"], "/etc/hosts"), capture_output=True)
    return r.returncode == 0


class TinyProxy:
    """tinyproxy on 127.0.0.1:<free port>, Basic auth optional, logging every request."""

    def __init__(self, dirpath: str, hosts: str, user: str = None, password: str = None, extra=()):
        self.dir = dirpath

        def start(port):
            conf = os.path.join(dirpath, f"tinyproxy-{port}.conf")
            self.log = os.path.join(dirpath, f"tinyproxy-{port}.log")
            lines = [f"Port {port}", "Listen 127.0.0.1", "Timeout 30", f"LogFile \"{self.log}\"",
                     "LogLevel Info", "MaxClients 20", f"PidFile \"{os.path.join(dirpath, 'tp.pid')}\""]
            if user:
                lines.append(f"BasicAuth {user} {password}")
            lines.extend(extra)
            with open(conf, "w") as f:
                f.write("\n".join(lines) + "\n")
            return subprocess.Popen(in_hosts_namespace(["tinyproxy", "-d", "-c", conf], hosts),
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        self.port, self.proc = h.start_on_free_port(start, "tinyproxy")

    def url(self, user=None, password=None) -> str:
        cred = f"{user}:{password}@" if user else ""
        return f"http://{cred}127.0.0.1:{self.port}"

    def log_text(self) -> str:
        """tinyproxy's log. It writes each line (unbuffered write()) before it acts on the request,
        so once a client has had its answer (or exited) its lines are there: no wait needed."""
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def close(self):
        h.kill_process_group(self.proc)


SCRIPTED_PROXY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "scripted_proxy.py")
SOCKS_SERVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "socks5_server.py")


class ScriptedServer:
    """One of the harness's scripted proxies (scripted_proxy.py, socks5_server.py) on 127.0.0.1:<free
    port>, run in the hosts namespace, stdout logged to a file; stopped by close() after at most
    `seconds` anyway."""

    def __init__(self, dirpath: str, hosts: str, script: str, mode=None, args=(), env_extra=None,
                 seconds: int = 120):
        env = dict(os.environ, **(env_extra or {}))

        def start(port):
            self.log = os.path.join(dirpath, f"{os.path.basename(script)}-{port}.log")
            with open(self.log, "w") as out:
                argv = [sys.executable, script, *([mode] if mode else []), str(port), str(seconds), *args]
                return subprocess.Popen(in_hosts_namespace(argv, hosts), stdout=out, stderr=subprocess.DEVNULL,
                                        env=env, start_new_session=True)
        self.port, self.proc = h.start_on_free_port(start, os.path.basename(script))

    def lines(self) -> list:
        """The log so far. The scripts print (flushed) before they answer the request a line is
        about, so once a client has had its answer (or exited) its lines are there: no wait needed."""
        with open(self.log, errors="replace") as f:
            return f.read().splitlines()

    def close(self):
        h.kill_process_group(self.proc)


def digest_proxy(dirpath: str, hosts: str, user: str, password: str) -> ScriptedServer:
    """An HTTP proxy demanding Digest (MD5, qop=auth) from user:password; the password goes by environment."""
    return ScriptedServer(dirpath, hosts, SCRIPTED_PROXY, "digest", [user], {"SCRIPTED_PROXY_PASSWORD": password})


def tls_front(dirpath: str, hosts: str, cert, upstream_port: int) -> ScriptedServer:
    """TLS on a new port in front of the plain proxy on upstream_port: an https:// proxy. `cert` is an
    h.CertFiles valid for 127.0.0.1."""
    return ScriptedServer(dirpath, hosts, SCRIPTED_PROXY, "tls", [cert.cert, cert.key, str(upstream_port)])


def socks_server(dirpath: str, hosts: str) -> ScriptedServer:
    """socks5_server.py (SOCKS5, SOCKS4, SOCKS4a)."""
    return ScriptedServer(dirpath, hosts, SOCKS_SERVER)


class ProxyTestBase(unittest.TestCase):
    """Set-up shared by the proxy tests: a test CA, nginx with TLS serving a fake toolchain and its
    index as https://mirror.test:<port>/ (and other.test), a tinyproxy with Basic auth, an empty
    HOME; goinstall runs in the hosts namespace."""
    VERSION = "go1.21.3"
    USER, PASSWORD = "fleet", "s3cret-Pa55"

    def setUp(self):
        self.dir = h.tmpfs_path(self, "goinstall-proxy-")
        self.hosts = hosts_file(self.dir)
        self.ca = h.make_ca(os.path.join(self.dir, "ca"))
        self.cert = h.make_cert(os.path.join(self.dir, "ca"), self.ca, names=["mirror.test", "other.test", "localhost"])
        self.archive = h.fake_toolchain_archive(self.VERSION, os.path.join(self.dir, "a"))
        self.nginx = h.Nginx(docroot=os.path.join(self.dir, "www"), tls=True, cert=self.cert)
        self.nginx.start()
        self.addCleanup(self.nginx.close)
        self.nginx.put_file(self.archive.filename, self.archive.path)
        self.nginx.put("dl/index.json", h.make_index([self.archive]))
        self.proxy = TinyProxy(self.dir, self.hosts, self.USER, self.PASSWORD)
        self.addCleanup(self.proxy.close)
        self.home = os.path.join(self.dir, "home")
        os.makedirs(self.home)
        self.base = f"https://mirror.test:{self.nginx.port}/"

    def goinstall(self, args, env_extra=None, json_out=False, system_proxy=False, cacert=None):
        """goinstall in its own mount namespace, where mirror.test resolves to 127.0.0.1."""
        env = h.isolated_env(self.home, env_extra)
        argv = [h.goinstall_bin(), *args, "--root", os.path.join(self.dir, "root"), "--cacert",
                cacert or self.cert.ca_cert]
        if not system_proxy:
            argv.append("--no-system-proxy")
        if json_out:
            argv.append("--json")
        return subprocess.run(in_hosts_namespace(argv, self.hosts), env=env, capture_output=True, text=True,
                              timeout=120, stdin=subprocess.DEVNULL, cwd=self.home)

    def install_args(self, mirror=None):
        return [self.VERSION, "--index-url", self.base + "dl/?mode=json&include=all", "--mirror", mirror or self.base,
                "--no-fallback", "--reinstall"]

    def connects(self, host="mirror.test", proxy=None):
        """Tunnels the tinyproxy opened to host (each CONNECT may be asked twice while curl negotiates auth)."""
        return (proxy or self.proxy).log_text().count(f"opening connection to {host}:{self.nginx.port}")
