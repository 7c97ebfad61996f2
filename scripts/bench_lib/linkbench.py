"""`scripts/bench --links`: goinstall, aria2 and curl side by side on emulated links (issue 15).

Each profile gets its own set of namespaces and one linkemu (see netlink.py), nginx in every
mirror namespace serving the same archive, and an index file on tmpfs (goinstall reads it with
--index-url PATH; the namespaces share the file system, only the network is separate). Every
command runs in the client namespace through the harness's isolated environment, in a fresh
tmpfs directory, and must end with the toolchain extracted and its SHA-256 checked.
"""
from __future__ import annotations

import dataclasses
import os
import re
import statistics
import subprocess
import threading
import time
from typing import Callable, Dict, List, Optional, Union

import goinstall_harness as h  # noqa: E402
from . import netlink as nl

GOOD = nl.LinkSpec(rtt_ms=20)
LOSSY = nl.LinkSpec(rtt_ms=200, loss_pct=0.5)
DEFAULT_CAP = 60.0              # seconds per run; a run past it is "did not finish in N s"
KILL_AFTER = 3.0                # profile D: the first mirror goes silent this long into the run



TCP_PAYLOAD_SHARE = 1448 / 1500  # TCP payload per full 1500-byte IP packet (MTU of the TUN links)

@dataclasses.dataclass
class Profile:
    key: str
    title: str
    links: List[nl.LinkSpec]
    cap: float = DEFAULT_CAP
    kill_first: bool = False     # D: link 0 stops answering KILL_AFTER s into each run
    unreachable: int = 0         # mirrors listed after the good ones that drop SYNs
    curl: bool = False           # curl + sha256sum + tar and aria2 over the best link
    aria_tuned: bool = False     # A: aria2 -x4 and -k1M -x5 against the one mirror


PROFILES: Dict[str, Profile] = {p.key: p for p in [
    Profile("B", "B: one good mirror (20 ms, 100 Mbit/s)", [GOOD], curl=True),
    Profile("C", "C: one lossy overseas mirror first (200 ms, 0.5 % loss), two good ones",
            [LOSSY, GOOD, GOOD], curl=True),
    Profile("A2", "A2: two lossy overseas mirrors", [LOSSY, LOSSY], cap=100.0),
    Profile("B2", "B2: two good mirrors", [GOOD, GOOD]),
    Profile("D", f"D: the first mirror stops answering {KILL_AFTER:g} s in, another is healthy",
            [GOOD, GOOD], kill_first=True),
    Profile("A", "A: one lossy overseas mirror (200 ms, 0.5 % loss)", [LOSSY], cap=100.0,
            curl=True, aria_tuned=True),
    Profile("F", "F: default invocation, one good mirror and two fallbacks that drop SYNs",
            [GOOD], unreachable=2, curl=True),
]}

TOOLS = ["goinstall", "goinstall-c1", "aria2-best", "aria2-all", "aria2-x4", "aria2-k1m-x5",
         "curl-best"]
TOOL_TITLES = {"goinstall": "goinstall (default)", "goinstall-c1": "goinstall `--connections 1`",
               "aria2-best": "aria2 (best link)", "aria2-all": "aria2 (all mirrors)",
               "aria2-x4": "aria2 `-x4`", "aria2-k1m-x5": "aria2 `-k1M -x5`",
               "curl-best": "curl + sha256sum + tar (best link)"}


@dataclasses.dataclass
class Cell:
    """One tool in one profile: the durations of the runs that finished, and what else happened."""
    times: List[float] = dataclasses.field(default_factory=list)
    capped: Optional[float] = None     # a run did not finish within this many seconds
    failed: Optional[str] = None       # a run ended in an error (first line)
    rss_mib: List[float] = dataclasses.field(default_factory=list)  # goinstall's peak RSS per run
    # After a capped run: one more with a longer cap (--finish-cap), to tell "slow" from "never".
    late: Optional["Cell"] = None
    late_cap: float = 0.0

    @property
    def median(self) -> Optional[float]:
        return statistics.median(self.times) if self.times and not (self.capped or self.failed) \
            else None

    def text(self) -> str:
        if self.failed:
            return f"failed: {self.failed}"
        if self.capped:
            late = ""
            if self.late is not None:
                late = (f" (one run with a {self.late_cap:.0f} s cap: "
                        f"{f'{self.late.median:.0f} s' if self.late.median else self.late.text()})")
            if self.times:   # some rounds finished before one hit the cap
                done = ", ".join(f"{t:.1f}" for t in self.times)
                return (f"{len(self.times)} of {len(self.times) + 1} rounds finished ({done} s), "
                        f"one did not in {self.capped:.0f} s{late}")
            return f"did not finish in {self.capped:.0f} s{late}"
        if not self.times:
            return "—"
        spread = f" ({min(self.times):.1f}–{max(self.times):.1f})" if len(self.times) > 1 else ""
        return f"{self.median:.1f} s{spread}"


@dataclasses.dataclass
class Row:
    profile: Profile
    cells: Dict[str, Cell]
    bound: float
    bound_text: str
    goals: List[str] = dataclasses.field(default_factory=list)


def tools_for(p: Profile) -> List[str]:
    out = ["goinstall", "goinstall-c1"]
    if p.curl and not p.aria_tuned:   # A: plain aria2 is one stream, like curl
        out.append("aria2-best")
    if len(p.links) + p.unreachable > 1:
        out.append("aria2-all")
    if p.aria_tuned:
        out += ["aria2-x4", "aria2-k1m-x5"]
    if p.curl:
        out.append("curl-best")
    return out


def best_link(p: Profile) -> int:
    """The link a user with perfect hindsight would pick: highest rate, then shortest RTT, then
    no loss (the one that stays alive, for D)."""
    live = range(1, len(p.links)) if p.kill_first else range(len(p.links))
    return min(live, key=lambda i: (-p.links[i].rate_bps, p.links[i].loss_pct, p.links[i].rtt_ms))


class LinkBench:
    def __init__(self, repo: str, reps: int, log: Callable[[str], None],
                 events_dir: Optional[str] = None):
        self.repo, self.reps, self.log = repo, reps, log
        self.events_dir = events_dir   # goinstall's --json events of every run are kept there
        if events_dir:
            os.makedirs(events_dir, exist_ok=True)
        self.tmp = h.tmpfs_dir("goinstall-linkbench-")
        self.linkemu = nl.build_linkemu(repo)
        self.archive: Optional[h.ToolchainArchive] = None
        self.index_path = os.path.join(self.tmp.name, "index.json")
        self.extract_s = 0.0
        self.selfcheck: List[str] = []

    def close(self) -> None:
        self.tmp.cleanup()

    def setup(self) -> None:
        # The real toolchain in an official release's layout (~61 MiB, as in issue 15): what the
        # users download, and what they extract (a run ends with it extracted).
        self.archive = h.official_layout_archive(os.path.join(self.tmp.name, "archive"))
        with open(self.index_path, "w") as f:
            f.write(h.make_index([self.archive]))
        times = []
        for _ in range(3):   # extraction alone, on tmpfs: the other half of the bound
            with h.tmpfs_dir("goinstall-linkbench-x-") as d:
                t = time.monotonic()
                subprocess.run(["tar", "-xzf", self.archive.path, "-C", d], check=True, timeout=120)
                times.append(time.monotonic() - t)
        self.extract_s = min(times)   # the least disturbed of three on a shared machine
        self.log(f"archive {self.archive.filename}, {self.archive.size:,} bytes; "
                 f"`tar -xzf` on tmpfs {self.extract_s:.2f} s")

    # -- the network of one profile ------------------------------------------------------------
    def network(self, links: List[nl.LinkSpec]) -> nl.Network:
        net = nl.Network(self.linkemu, links).start()
        try:
            for i in range(len(links)):
                ng = net.start_nginx(i)
                ng.put_file(self.archive.filename, self.archive.path, symlink=True)
        except BaseException:
            net.close()
            raise
        return net

    def in_client(self, net: nl.Network, argv: List[str], timeout: float) -> subprocess.CompletedProcess:
        return subprocess.run(net.ns_argv(net.client_ns, argv), capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)

    # -- self-check ----------------------------------------------------------------------------
    def check_emulator(self) -> Optional[str]:
        """Measures the emulator against its configuration; returns why not to trust it, or None.
        RTT by ping over a good and a lossy-overseas link, rate by curl over the good one, loss
        by 2,000 pings over a 5 % loss link."""
        loss_link = nl.LinkSpec(rtt_ms=20, loss_pct=5.0)
        links = [GOOD, LOSSY, loss_link]
        problems = []
        with self.network(links) as net:
            for i, spec in enumerate(links[:2]):
                r = self.in_client(net, ["ping", "-q", "-c", "5", "-i", "0.2", "-W", "2",
                                         net.mirror_addr(i)], 30)
                m = re.search(r"= [\d.]+/([\d.]+)/", r.stdout)
                rtt = float(m.group(1)) if m else float("nan")
                self.selfcheck.append(f"RTT over link {i} ({spec.describe()}): ping -c 5 average "
                                      f"{rtt:.1f} ms (configured {spec.rtt_ms:g} ms)")
                if not (abs(rtt - spec.rtt_ms) <= 0.25 * spec.rtt_ms):
                    problems.append(f"RTT {rtt:.1f} ms on a {spec.rtt_ms:g} ms link")
            url = net.mirror_url(0) + self.archive.filename
            r = self.in_client(net, ["curl", "-sS", "-o", "/dev/null", "-w", "%{speed_download}",
                                     url], 60)
            rate = float(r.stdout or "nan") * 8
            self.selfcheck.append(f"rate over link 0: curl of the {self.archive.size / 2**20:.0f} "
                                  f"MiB archive {rate / 1e6:.1f} Mbit/s of payload (configured "
                                  f"{GOOD.rate_bps / 1e6:g} Mbit/s of IP packets; TCP/IP headers "
                                  f"take ~3.5 %, slow start some more)")
            if not (abs(rate - GOOD.rate_bps) <= 0.25 * GOOD.rate_bps):
                problems.append(f"rate {rate / 1e6:.1f} Mbit/s on a "
                                f"{GOOD.rate_bps / 1e6:g} Mbit/s link")
            r = self.in_client(net, ["ping", "-q", "-c", "2000", "-i", "0.002", "-W", "2",
                                     net.mirror_addr(2)], 60)
            m = re.search(r"([\d.]+)% packet loss", r.stdout)
            loss = float(m.group(1)) if m else float("nan")
            self.selfcheck.append(f"loss over link 2 ({loss_link.describe()}): {loss:.2f} % of "
                                  f"2,000 pings lost (configured {loss_link.loss_pct:g} %, "
                                  f"applied to the mirror-to-client direction)")
            if not (abs(loss - loss_link.loss_pct) <= 0.25 * loss_link.loss_pct):
                problems.append(f"ping loss {loss:.2f} % on a {loss_link.loss_pct:g} % link")
        for line in self.selfcheck:
            self.log("self-check: " + line)
        return "; ".join(problems) or None

    # -- the commands --------------------------------------------------------------------------
    def command(self, tool: str, p: Profile, net: nl.Network, out: str, root: str) -> List[str]:
        a = self.archive
        urls = [net.mirror_url(i) for i in range(len(p.links))]
        urls += [f"http://{ip}/" for ip in nl.UNREACHABLE[:p.unreachable]]
        best = urls[best_link(p)] + a.filename
        if tool.startswith("goinstall"):
            # GNU time's %M: the peak RSS with all of the run's connections open (issue 15: ≤ 32 MiB).
            args = ["/usr/bin/time", "-f", "maxrss_kib=%M", h.goinstall_bin(), a.version, "--index-url", self.index_path,
                    "--allow-insecure-index", "--root", root, "--mirror", ",".join(urls),
                    "--no-fallback", "--json"]
            args += ["--connections", "1"] if tool == "goinstall-c1" else []
            if self.events_dir:   # each event line stamped with its time (stamp.py)
                args = ["python3", os.path.join(os.path.dirname(__file__), "stamp.py")] + args
            return args
        check = f"echo '{a.sha256}  f.tar.gz' | sha256sum -c --quiet - && tar -xzf f.tar.gz"
        if tool == "curl-best":
            return ["bash", "-c", f"curl -fsS --noproxy '*' -o f.tar.gz {best} && {check}"]
        aria = ("aria2c --no-conf=true -q --allow-overwrite=true --auto-file-renaming=false "
                f"--file-allocation=none --checksum=sha-256={a.sha256} -o f.tar.gz")
        srcs = {"aria2-best": best, "aria2-all": " ".join(u + a.filename for u in urls),
                "aria2-x4": f"-x4 {best}", "aria2-k1m-x5": f"-k1M -x5 {best}"}[tool]
        if tool == "aria2-all":
            aria += f" -s{len(urls)}"
        return ["bash", "-c", f"{aria} {srcs} && tar -xzf f.tar.gz"]

    def keep_events(self, tool: str, p: Profile, rep: Union[int, str], text: str, net: Optional[nl.Network] = None,
                    log_marks: Optional[List[int]] = None) -> None:
        """goinstall's stamped events, and each mirror's nginx access log lines of the run (with
        $msec: when each request ended), as PROFILE-TOOL-ROUND.jsonl and ....nginxI.jsonl."""
        if not (self.events_dir and tool.startswith("goinstall")):
            return
        base = os.path.join(self.events_dir, f"{p.key}-{tool}-{rep + 1 if isinstance(rep, int) else rep}")
        with open(base + ".jsonl", "w") as f:
            f.write(text)
        for i, ng in enumerate(net.nginx if net else []):
            try:
                with open(ng.access_log, encoding="utf-8", errors="replace") as src:
                    lines = src.readlines()[(log_marks or [0] * len(net.nginx))[i]:]
            except OSError:
                continue
            with open(f"{base}.nginx{i}.jsonl", "w") as f:
                f.writelines(lines)

    def log_marks(self, net: nl.Network) -> List[int]:
        out = []
        for ng in net.nginx:
            try:
                with open(ng.access_log, encoding="utf-8", errors="replace") as f:
                    out.append(sum(1 for _ in f))
            except OSError:
                out.append(0)
        return out

    def run_once(self, tool: str, p: Profile, net: nl.Network, cell: Cell, rep: Union[int, str] = 0,
                 cap: Optional[float] = None) -> None:
        cap = cap or p.cap
        with h.tmpfs_dir("goinstall-linkbench-run-") as d:
            home, out, root = (os.path.join(d, x) for x in ("home", "out", "root"))
            for x in (home, out):
                os.makedirs(x)
            argv = net.ns_argv(net.client_ns, self.command(tool, p, net, out, root))
            marks = self.log_marks(net) if self.events_dir else None
            timer = threading.Timer(KILL_AFTER, net.kill_link, [0]) if p.kill_first else None
            try:
                if timer:
                    timer.start()
                r = h.run_isolated(argv, home=home, cwd=out, timeout=cap)
            except subprocess.TimeoutExpired as e:
                # Whatever of the run outlived its process group's kill (seen once: a goinstall
                # still downloading 20 min later) must not load the runs after it.
                subprocess.run(["pkill", "-KILL", "-f", d], check=False)
                out = e.stdout or b""
                self.keep_events(tool, p, rep, out.decode(errors="replace") if isinstance(out, bytes) else out,
                                 net, marks)
                cell.capped = cap
                return
            finally:
                if timer:
                    timer.cancel()
                    net.revive_link(0)
            self.keep_events(tool, p, rep, r.stdout, net, marks)
            done = (os.path.isdir(os.path.join(root, self.archive.version)) if tool.startswith(
                "goinstall") else os.path.isfile(os.path.join(out, "go", "bin", "go")))
            if r.returncode != 0 or not done:
                last = (r.stderr.strip().splitlines() or r.stdout.strip().splitlines() or ["?"])[-1]
                cell.failed = f"exit {r.returncode}: {last[:160]}"
                self.log(f"    {tool} failed: {r.output[-800:]}")
                return
            # With --events-dir, goinstall's own wall time as stamp.py saw it (not python's start).
            child = [x for x in r.stderr.splitlines() if x.startswith("stamp_child_s=")]
            cell.times.append(float(child[-1].split("=", 1)[1]) if child else r.duration)
            rss = [x for x in r.stderr.splitlines() if x.startswith("maxrss_kib=")]
            if rss:
                cell.rss_mib.append(int(rss[-1].split("=", 1)[1]) / 1024)

    def run_profile(self, p: Profile) -> Row:
        tools = tools_for(p)
        cells = {t: Cell() for t in tools}
        self.log(f"{p.title}: {', '.join(tools)} ({self.reps} rounds, cap {p.cap:.0f} s)")
        with self.network(p.links) as net:
            for rep in range(self.reps):
                order = tools[rep % len(tools):] + tools[:rep % len(tools)]
                for t in order:
                    c = cells[t]
                    if c.capped or c.failed:   # no more rounds for a tool that hit the cap
                        continue
                    self.run_once(t, p, net, c, rep)
                    self.log(f"  {t}: {c.times[-1]:.2f} s" if not (c.capped or c.failed)
                             else f"  {t}: {c.text()}")
        b = best_link(p)
        spec = p.links[b]
        # The emulator's rate counts whole IP packets; TCP can carry at most MSS/MTU of that as
        # payload: 1448 of 1500 bytes with timestamps (20 IP + 20 TCP + 12 options), 96.5 %.
        goodput = spec.rate_Bps * TCP_PAYLOAD_SHARE
        dl = self.archive.size / goodput + 3 * spec.rtt_ms / 1000
        bound = max(dl, self.extract_s)
        text = (f"max({dl:.1f} s download over link {b + 1} ({spec.rtt_ms:g} ms, "
                f"{spec.rate_bps / 1e6:g} Mbit/s = {goodput * 8 / 1e6:.1f} Mbit/s of TCP payload), "
                f"{self.extract_s:.1f} s extraction)")
        return Row(p, cells, bound, text)

    def finish_checks(self, rows: List[Row], cap: float) -> None:
        """Issue 15: `--connections 1` never fails where any mirror works. Where it hit a row's
        cap (a lone stream over a lossy link needs ~500 s), one more run with `cap`, all such
        runs side by side (each on its own links; they carry ~125 kB/s each, not the CPU)."""
        todo = [r for r in rows if r.cells["goinstall-c1"].capped and cap > r.profile.cap]
        if not todo:
            return
        self.log(f"--connections 1 finish checks, one run each with a {cap:.0f} s cap, side by "
                 f"side: {', '.join(r.profile.key for r in todo)}")

        def one(r: Row) -> None:
            c1 = r.cells["goinstall-c1"]
            c1.late, c1.late_cap = Cell(), cap
            try:
                with self.network(r.profile.links) as net:
                    self.run_once("goinstall-c1", r.profile, net, c1.late, rep="late", cap=cap)
            except Exception as e:  # noqa: BLE001 - a thread's error must reach the report
                c1.late.failed = f"could not run: {e}"
            self.log(f"  {r.profile.key} goinstall-c1 with a {cap:.0f} s cap: {c1.late.text()}")

        threads = [threading.Thread(target=one, args=(r,), daemon=True) for r in todo]
        for t in threads:
            t.start()
        for t in threads:
            t.join()


def judge(rows: List[Row]) -> None:
    """The goals of issue 15, per row, as text (reported, not enforced)."""
    healthy = next((r for r in rows if r.profile.key == "B2"), None)
    for r in rows:
        gi, c1 = r.cells["goinstall"], r.cells["goinstall-c1"]
        # An aria2 whose rounds partly hit the cap (the rounds after it were not run): the lower
        # median of its times with the capped round counted as the cap is at most its median.
        arias = {k: statistics.median_low(c.times + ([c.capped] if c.capped else []))
                 for k, c in r.cells.items() if k.startswith("aria2") and c.times and not c.failed}
        g = []
        if gi.median is None:
            g.append(f"default: **FAIL** ({gi.text()})")
        else:
            if arias:
                best = min(arias, key=arias.get)
                ok = gi.median <= arias[best]
                how = ", a capped round as the cap" if r.cells[best].capped else ""
                g.append(f"≤ best aria2 ({arias[best]:.1f} s{how}): {'pass' if ok else '**FAIL**'}")
            else:
                # No aria2 finished a round: each stopped at its cap, which goinstall beat or not.
                caps = [c.capped for k, c in r.cells.items() if k.startswith("aria2") and c.capped]
                if caps:
                    ok = gi.median <= min(caps)
                    g.append(f"≤ best aria2 (none finished within {min(caps):.0f} s): "
                             f"{'pass' if ok else '**FAIL**'}")
            ratio = gi.median / r.bound
            g.append(f"≤ 1.05× bound: {'pass' if ratio <= 1.05 else '**FAIL**'} ({ratio:.2f}×)")
            if r.profile.kill_first:
                if healthy and healthy.cells["goinstall"].median:
                    extra = gi.median - healthy.cells["goinstall"].median
                    g.append(f"≤ B2 + 2 s: {'pass' if extra <= 2 else '**FAIL**'} ({extra:+.1f} s)")
                else:
                    g.append("≤ B2 + 2 s: not judged (B2 not run)")
        late = c1.late.median if c1.late else None
        g.append(f"`--connections 1` finishes: {'pass' if c1.times or late else '**FAIL**'}"
                 + (f" (in {late:.0f} s)" if late and not c1.times else ""))
        rss = gi.rss_mib + c1.rss_mib + (c1.late.rss_mib if c1.late else [])
        if rss:
            g.append(f"peak RSS ≤ 32 MiB: {'pass' if max(rss) <= 32 else '**FAIL**'} ({max(rss):.1f} MiB)")
        r.goals = g
