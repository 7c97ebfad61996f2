"""Real proxies users meet, started and stopped by a test: Debian's squid (the corporate forward
proxy, Basic auth through its basic_ncsa_auth helper) and microsocks (a SOCKS5 server with
user/password auth, RFC 1929). Both listen on 127.0.0.1 only, on ephemeral ports, with every file
(config, password file, logs, pid) in the test's own directory. Standard library only; `openssl`
makes the password hashes (`openssl passwd -apr1`, an Apache MD5 hash basic_ncsa_auth accepts).

squid never asks DNS for a name: `hosts_file` (our test hosts file) answers for mirror.test and
`dns_nameservers 127.0.0.1` is its only server; `nameservers()` reads back the ones it added (from
cache.log) so a test can assert that. The pinger (ICMP), ICP, HTCP, the netdb and the cache
digest are off; there is no cache_dir (memory only, `cache deny all`)."""
import os
import pwd
import re
import subprocess

import goinstall_harness as h
import proxy_harness as ph

SQUID = "/usr/sbin/squid"
NCSA_AUTH = "/usr/lib/squid/basic_ncsa_auth"

# squid's native access.log format (logformat squid): time elapsed client code/status bytes method
# URL user hierarchy type.
_ACCESS = re.compile(r"^\s*(?P<time>[\d.]+)\s+\d+\s+(?P<client>\S+)\s+(?P<code>[A-Z_]+)/(?P<status>\d{3})\s+\d+\s+"
                     r"(?P<method>\S+)\s+(?P<url>\S+)\s+(?P<user>\S+)\s+(?P<hier>\S+)")


class SquidLogEntry:
    def __init__(self, m):
        self.code, self.status = m["code"], int(m["status"])
        self.method, self.url, self.user, self.hier = m["method"], m["url"], m["user"], m["hier"]
        self.raw = m.string.rstrip("\n")

    def __repr__(self):
        return self.raw


def apr1_hash(password: str) -> str:
    r = subprocess.run(["openssl", "passwd", "-apr1", "-stdin"], input=password + "\n", capture_output=True,
                       text=True, timeout=10, check=True)
    return r.stdout.strip()


def _unprivileged_user():
    """squid refuses to keep root: when the test runs as root it switches to this user (Debian's
    `proxy`, else `nobody`); otherwise it stays the current user."""
    if os.geteuid() != 0:
        return None
    for name in ("proxy", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("no 'proxy' or 'nobody' user for squid to run as")


class Squid:
    """squid on two loopback ports: `port` (name=open) tunnels to any port, `stock_port` (name=stock)
    applies squid's stock rule `http_access deny CONNECT !SSL_ports` (SSL_ports = 443, as in Debian's
    /etc/squid/squid.conf). `users` {name: password} makes both demand Basic auth; {} means none.
    Context manager, or close()."""

    def __init__(self, hosts_path: str, users: dict, start_timeout: float = 20.0):
        # Its own tmpfs dir (removed by close()): when squid switches to an unprivileged user, every
        # directory above its files must let that user through, which a test's 0700 dir does not.
        self._tmp = h.tmpfs_dir("goinstall-squid-")
        self.dir = self._tmp.name
        self.access_log = os.path.join(self.dir, "access.log")
        self.cache_log = os.path.join(self.dir, "cache.log")
        self.users = dict(users)
        run_as = _unprivileged_user()
        passwd = os.path.join(self.dir, "passwd")
        with open(passwd, "w") as f:
            for user, password in self.users.items():
                f.write(f"{user}:{apr1_hash(password)}\n")
        hosts_copy = os.path.join(self.dir, "hosts")
        with open(hosts_path) as src, open(hosts_copy, "w") as dst:
            dst.write(src.read())
        last_error = ""
        for _ in range(3):  # a port taken between free_port() and squid's bind: new ports
            self.port, self.stock_port = h.free_port(), h.free_port()
            conf = os.path.join(self.dir, "squid.conf")
            with open(conf, "w") as f:
                f.write(self._config(passwd, hosts_copy, run_as))
            for path in (self.access_log, self.cache_log):
                open(path, "w").close()
            if run_as is not None:
                for root, dirs, files in os.walk(self.dir):
                    for name in [root] + [os.path.join(root, n) for n in dirs + files]:
                        os.chown(name, run_as.pw_uid, run_as.pw_gid)
                os.chmod(self.dir, 0o755)
            self.out = os.path.join(self.dir, "stderr.txt")
            with open(self.out, "w") as out:
                self.proc = subprocess.Popen([SQUID, "-N", "-f", conf], stdout=out, stderr=subprocess.STDOUT,
                                             stdin=subprocess.DEVNULL, start_new_session=True)
            if self._wait_ready(start_timeout):
                return
            last_error = self._tail()
            h.kill_process_group(self.proc)
        self._tmp.cleanup()
        raise RuntimeError("squid did not start: " + last_error)

    def _config(self, passwd, hosts_copy, run_as) -> str:
        lines = [
            f"http_port 127.0.0.1:{self.port} name=open",
            f"http_port 127.0.0.1:{self.stock_port} name=stock",
            "visible_hostname goinstall-test-squid",
            f"pid_filename {self.dir}/squid.pid",
            f"cache_log {self.cache_log}",
            f"access_log stdio:{self.access_log}",
            "cache_store_log none",
            "logfile_rotate 0",
            f"coredump_dir {self.dir}",
            "cache deny all",
            "cache_mem 8 MB",
            "memory_cache_shared off",
            "netdb_filename none",
            "pinger_enable off",
            "icp_port 0",
            "htcp_port 0",
            "digest_generation off",
            "dns_nameservers 127.0.0.1",
            f"hosts_file {hosts_copy}",
            "shutdown_lifetime 0 seconds",
            "acl SSL_ports port 443",
            "acl CONNECT method CONNECT",
            "acl stock myportname stock",
            "http_access deny stock CONNECT !SSL_ports",
        ]
        if run_as is not None:
            lines.append(f"cache_effective_user {run_as.pw_name}")
        if self.users:
            lines += [f"auth_param basic program {NCSA_AUTH} {passwd}",
                      "auth_param basic children 2 startup=1",
                      "auth_param basic realm goinstall-test",
                      "acl authed proxy_auth REQUIRED",
                      "http_access allow authed",
                      "http_access deny all"]
        else:
            lines.append("http_access allow all")
        return "\n".join(lines) + "\n"

    def _wait_ready(self, timeout) -> bool:
        """Both ports accept and cache.log says so (bounded)."""
        def ready():
            if self.proc.poll() is not None:
                return "exited"
            text = self.cache_log_text()
            return text.count("Accepting HTTP Socket connections") >= 2 or None
        state = h.wait_until(ready, timeout=timeout, interval=0.05)
        if state is not True:
            return False
        h.wait_for_port("127.0.0.1", self.port, timeout=5.0)
        h.wait_for_port("127.0.0.1", self.stock_port, timeout=5.0)
        return True

    def _tail(self) -> str:
        text = ""
        for path in (self.out, self.cache_log):
            try:
                with open(path, errors="replace") as f:
                    text += f.read()[-800:]
            except OSError:
                pass
        return text

    def url(self, user=None, password_encoded=None, stock=False) -> str:
        """http://[user[:password]@]127.0.0.1:<port>; the password as it must appear in a URL."""
        cred = "" if user is None else user + ("" if password_encoded is None else ":" + password_encoded) + "@"
        return f"http://{cred}127.0.0.1:{self.stock_port if stock else self.port}"

    def cache_log_text(self) -> str:
        try:
            with open(self.cache_log, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def nameservers(self) -> list:
        """The DNS servers squid added ("Adding nameserver X from ..." in cache.log)."""
        return re.findall(r"Adding nameserver (\S+)", self.cache_log_text())

    def access_entries(self) -> list:
        try:
            with open(self.access_log, errors="replace") as f:
                lines = f.readlines()
        except FileNotFoundError:
            return []
        return [SquidLogEntry(m) for m in map(_ACCESS.match, lines) if m]

    def wait_for_access(self, pred, timeout=10.0) -> list:
        """Entries once one satisfies pred (squid logs a transaction when it ends, just after the
        client has its answer). Bounded; returns all entries either way."""
        h.wait_until(lambda: any(pred(e) for e in self.access_entries()), timeout=timeout)
        return self.access_entries()

    def close(self):
        """SIGTERM to squid and its auth helpers (its process group; shutdown_lifetime 0 makes it exit
        at once), SIGKILL after 5 s."""
        if getattr(self, "proc", None) is not None:
            h.kill_process_group(self.proc)
        self._tmp.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Microsocks:
    """microsocks on 127.0.0.1:<free port>, with -u/-P when `user` is given (then it refuses clients
    without them: RFC 1928 method X'FF'). Runs in the private hosts namespace (proxy_harness) so a
    socks5h name like mirror.test resolves. Its output ("client[N] IP: connected to HOST:PORT" per
    tunnel) goes to a file: `lines()`."""

    def __init__(self, dirpath: str, hosts_path: str, user=None, password=None):
        self.log = None

        def start(port):
            self.log = os.path.join(dirpath, f"microsocks-{port}.log")
            argv = ["microsocks", "-i", "127.0.0.1", "-p", str(port)]
            if user is not None:
                argv += ["-u", user, "-P", password]
            with open(self.log, "w") as out:
                return subprocess.Popen(ph.in_hosts_namespace(argv, hosts_path), stdout=out,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            self.port, self.proc = h.start_on_free_port(start, "microsocks")
        except RuntimeError as e:
            raise RuntimeError(f"{e}: {' '.join(self.lines())}") from None

    def url(self, scheme="socks5h", user=None, password_encoded=None) -> str:
        cred = "" if user is None else user + ("" if password_encoded is None else ":" + password_encoded) + "@"
        return f"{scheme}://{cred}127.0.0.1:{self.port}"

    def lines(self) -> list:
        """Its output so far (written with one unbuffered write to stderr per event, before it relays)."""
        try:
            with open(self.log, errors="replace") as f:
                return f.read().splitlines()
        except (FileNotFoundError, TypeError):
            return []

    def tunnels(self, target: str) -> int:
        """How many tunnels it opened to target ("host:port")."""
        return sum(1 for line in self.lines() if line.endswith("connected to " + target))

    def close(self):
        h.kill_process_group(self.proc)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
