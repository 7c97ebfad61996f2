"""Emulated network links for `scripts/bench --links`: network namespaces joined by linkemu.

Why not `tc netem`: this kernel has no sch_netem. Why not link.py's loopback relay: it limits the
rate but cannot add delay or loss per packet, and a TCP relay terminates the connections, so the
client's TCP never sees the path. Here every packet between the client namespace and a mirror
namespace crosses linkemu (scripts/bench_lib/linkemu.c, compiled into build/bench/), which holds
the TUN devices of both ends and applies delay, loss, a rate and a drop-tail queue.

Addresses are private and exist only inside the namespaces this module creates: the client is
10.200.0.1, mirror i is 10.200.(i+1).1, and 10.200.99.x (no link) is dropped by linkemu, so a
connection there sees its SYNs vanish. No default route, no NAT, no forwarding: a namespace can
reach the emulator's addresses and its own loopback, nothing else.
"""
from __future__ import annotations

import atexit
import dataclasses
import itertools
import os
import subprocess
import threading
import time
import weakref
from typing import List, Optional, Sequence

import goinstall_harness as h  # noqa: E402  (tests/harness is put on sys.path by scripts/bench)

IP = "/usr/sbin/ip"
CLIENT_ADDR = "10.200.0.1"
UNREACHABLE = ("10.200.99.1", "10.200.99.2")   # routed to linkemu, which has no link for them
SERVER_CC = "reno"


@dataclasses.dataclass
class LinkSpec:
    """One mirror's path: round trip, loss in the data direction, bottleneck rate, queue."""
    rtt_ms: float
    loss_pct: float = 0.0
    rate_bps: float = 100e6          # bits per second
    queue_bytes: Optional[int] = None  # default: one BDP, clamped to 64 KiB..1 MiB

    @property
    def rate_Bps(self) -> float:
        return self.rate_bps / 8

    @property
    def queue(self) -> int:
        if self.queue_bytes is not None:
            return self.queue_bytes
        bdp = int(self.rate_Bps * self.rtt_ms / 1000)
        return max(64 << 10, min(1 << 20, bdp))

    def describe(self) -> str:
        loss = f", {self.loss_pct:g} % loss" if self.loss_pct else ""
        return (f"{self.rtt_ms:g} ms RTT, {self.rate_bps / 1e6:g} Mbit/s{loss}, "
                f"queue {self.queue >> 10} KiB")


def _run(args: Sequence[str], timeout: float = 10) -> None:
    r = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout,
                       stdin=subprocess.DEVNULL)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}: {r.stderr.strip()}")


def build_linkemu(repo: str) -> str:
    """Compiles linkemu.c into build/bench/linkemu when the source is newer; returns its path."""
    src = os.path.join(repo, "scripts", "bench_lib", "linkemu.c")
    out = os.path.join(repo, "build", "bench", "linkemu")
    if not os.path.exists(out) or os.path.getmtime(out) < os.path.getmtime(src):
        os.makedirs(os.path.dirname(out), exist_ok=True)
        _run(["cc", "-O2", "-Wall", "-Wextra", "-o", out, src], timeout=120)
    return out


_live: "weakref.WeakSet[Network]" = weakref.WeakSet()
_serial = itertools.count()


@atexit.register
def _close_all() -> None:
    for n in list(_live):
        n.close()


class Network:
    """A client namespace and one namespace per mirror link, joined by one linkemu process.

        with Network(linkemu, [LinkSpec(20), LinkSpec(200, 0.5)]) as net:
            net.run_in(net.client_ns, ["curl", net.mirror_url(0) + "f"])
            net.kill_link(0)      # from now on link 0 drops everything
    """

    def __init__(self, linkemu: str, links: Sequence[LinkSpec]):
        self.linkemu = linkemu
        self.links = list(links)
        # Unique per network: the --connections 1 finish checks run several side by side.
        tag = f"{os.getpid() % 100000}{next(_serial)}"
        self.client_ns = f"gib{tag}c"
        self.mirror_ns = [f"gib{tag}m{i}" for i in range(len(self.links))]
        self.proc: Optional[subprocess.Popen] = None
        self.made_ns: List[str] = []
        self.nginx: List["NsNginx"] = []
        self.lock = threading.Lock()
        _live.add(self)

    def mirror_addr(self, i: int) -> str:
        return f"10.200.{i + 1}.1"

    def mirror_url(self, i: int) -> str:
        return f"http://{self.mirror_addr(i)}/"

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> "Network":
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def _start(self) -> None:
        for ns in [self.client_ns, *self.mirror_ns]:
            subprocess.run([IP, "netns", "del", ns], capture_output=True, timeout=10)  # stale
            _run([IP, "netns", "add", ns])
            self.made_ns.append(ns)
            _run([IP, "-n", ns, "link", "set", "lo", "up"])
        client_tun = f"{self.client_ns}t"
        tuns = [f"{ns}t" for ns in self.mirror_ns]
        specs = [f"{t}:{int(l.rtt_ms * 500)}:{int(l.loss_pct * 10000)}:{int(l.rate_Bps)}:{l.queue}"
                 for t, l in zip(tuns, self.links)]
        self.proc = subprocess.Popen([self.linkemu, client_tun, *specs], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=None, text=True,
                                     start_new_session=True)
        ready: List[str] = []
        reader = threading.Thread(target=lambda: ready.append(self.proc.stdout.readline()),
                                  daemon=True)
        reader.start()
        reader.join(10)
        if not ready or ready[0].strip() != "ready":
            raise RuntimeError(f"linkemu did not start (exit {self.proc.poll()})")
        # The client: one address, a route to the mirrors' /16 through its TUN, nothing else.
        _run([IP, "link", "set", client_tun, "netns", self.client_ns])
        _run([IP, "-n", self.client_ns, "addr", "add", f"{CLIENT_ADDR}/32", "dev", client_tun])
        _run([IP, "-n", self.client_ns, "link", "set", client_tun, "up"])
        _run([IP, "-n", self.client_ns, "route", "add", "10.200.0.0/16", "dev", client_tun])
        for i, (ns, tun) in enumerate(zip(self.mirror_ns, tuns)):
            _run([IP, "link", "set", tun, "netns", ns])
            _run([IP, "-n", ns, "addr", "add", f"{self.mirror_addr(i)}/32", "dev", tun])
            _run([IP, "-n", ns, "link", "set", tun, "up"])
            _run([IP, "-n", ns, "route", "add", f"{CLIENT_ADDR}/32", "dev", tun])
            # The mirrors send with a loss-based congestion control, as most mirrors do (Linux's
            # default, CUBIC). A new namespace inherits this host's BBR, which shrugs off random
            # loss and would hide what issue 15 is about (profile A: "server on cubic"). A
            # non-initial namespace may only pick from tcp_allowed_congestion_control (reno, bbr
            # here), so: Reno, which is what CUBIC falls back to at these windows (its
            # "TCP-friendly" region: ~17 packets at 200 ms and 0.5 % loss).
            _run([IP, "netns", "exec", ns, "sysctl", "-q", "-w",
                  f"net.ipv4.tcp_congestion_control={SERVER_CC}"])

    def close(self) -> None:
        with self.lock:
            for n in self.nginx:
                n.close()
            self.nginx = []
            if self.proc is not None:
                try:
                    self.proc.stdin.close()    # linkemu exits when its stdin closes
                except OSError:
                    pass
                try:
                    self.proc.wait(timeout=3)
                except subprocess.TimeoutExpired:
                    h.kill_process_group(self.proc, 2.0)
                self.proc = None
            for ns in self.made_ns:
                subprocess.run([IP, "netns", "del", ns], capture_output=True, timeout=10)
            self.made_ns = []

    def __enter__(self) -> "Network":
        return self if self.proc is not None else self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    # -- control -------------------------------------------------------------------------------
    def _command(self, line: str) -> None:
        if self.proc is None or self.proc.poll() is not None:
            raise RuntimeError("linkemu is not running")
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def kill_link(self, i: int) -> None:
        """From now on link i drops every packet, both ways (a mirror that stops answering)."""
        self._command(f"dead {i}")

    def revive_link(self, i: int) -> None:
        self._command(f"alive {i}")

    def stats(self) -> None:
        """linkemu prints its per-link counters on stderr."""
        self._command("stats")

    # -- processes inside ----------------------------------------------------------------------
    def ns_argv(self, ns: str, argv: Sequence[str]) -> list:
        return [IP, "netns", "exec", ns, *argv]

    def start_nginx(self, i: int) -> "NsNginx":
        ng = NsNginx(self.mirror_ns[i], self.mirror_addr(i))
        self.nginx.append(ng)
        ng.start()
        return ng


class NsNginx(h.Nginx):
    """The harness's nginx (same configuration), run inside a mirror namespace on port 80."""

    def __init__(self, ns: str, addr: str):
        super().__init__(host=addr)
        self.ns = ns

    def start(self, port: Optional[int] = None) -> "NsNginx":
        p = port or 80
        with open(self.conf_path, "w") as f:
            f.write(self._config(p))
        pidfile = os.path.join(self.dir, "nginx.pid")
        out = open(os.path.join(self.dir, "nginx.stdout"), "ab")
        try:
            self.proc = subprocess.Popen(
                [IP, "netns", "exec", self.ns, h.NGINX_BIN, "-p", self.dir + "/", "-c",
                 self.conf_path, "-e", self.error_log],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True)
        finally:
            out.close()
        self._proc_finalizer = weakref.finalize(self, h.kill_process_group, self.proc, 2.0)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self.proc.poll() is None:
            if os.path.exists(pidfile):    # written after the listening socket is bound
                self.port = p
                return self
            time.sleep(0.02)
        raise RuntimeError(f"nginx in {self.ns} did not start: {self._tail(self.error_log)}")

    @property
    def url(self) -> str:
        return f"http://{self.host}/"
