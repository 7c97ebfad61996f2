"""The measurements of scripts/bench: failover costs and resume waste, all on loopback.

Every install runs through the harness (goinstall_harness.run_goinstall / popen_goinstall: isolated
environment whose mirrors.json has "builtin": false), with --index-url and --mirror ... --no-fallback
pointing at servers this module starts on 127.0.0.1, a fresh HOME and a fresh --root on /dev/shm that
are removed after the run.
"""
from __future__ import annotations

import dataclasses
import json
import os
import random
import signal
import statistics
import subprocess
import time
import zlib
from typing import Callable, List, Optional

import fault_server as fs  # noqa: E402  (tests/harness is put on sys.path by scripts/bench)
import goinstall_harness as h  # noqa: E402

SMALL_VERSION = "go1.21.3"    # tiny fake archive (a few hundred bytes)
BIG_VERSION = "go1.21.4"      # fake archive with 64 MiB of incompressible data
BIG_BLOB = 64 << 20
INDEX_PATH = "dl/?mode=json&include=all"
RUN_TIMEOUT = 120             # seconds, per goinstall run
KILL_DRIP_RATE = 16 << 20     # bytes/s the interrupted transfer is dripped at (50 % after ~2 s)


class BenchError(RuntimeError):
    pass


# ------------------------------------------------------------------------------------------------
# Results
# ------------------------------------------------------------------------------------------------

@dataclasses.dataclass
class Metric:
    key: str
    label: str
    unit: str                      # "s", "%", "x" (a ratio) or "MiB"
    values: List[float] = dataclasses.field(default_factory=list)
    goal: Optional[float] = None   # upper bound; None: context only
    signed: bool = False           # print "+0.41 s" (an extra cost)
    bound: str = ""                # one sentence: what bounds the result
    details: List[str] = dataclasses.field(default_factory=list)
    error: Optional[str] = None
    higher_is_better: bool = False  # the goal is a lower bound

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def median(self) -> Optional[float]:
        return statistics.median(self.values) if self.values else None

    @property
    def verdict(self) -> str:
        if self.error:
            return "ERROR"
        if self.goal is None or self.median is None:
            return "—"
        if self.higher_is_better:
            return "pass" if self.median >= self.goal else "FAIL"
        return "pass" if self.median <= self.goal else "FAIL"

    def fmt(self, v: Optional[float], sign: Optional[bool] = None) -> str:
        if v is None:
            return "—"
        sign = self.signed if sign is None else sign
        if self.unit == "%":
            return f"{v:+.2f} %" if sign else f"{v:.2f} %"
        if self.unit == "x":
            return f"{v:.2f}×"
        if self.unit == "MiB":
            return f"{v:.1f} MiB"
        if sign:   # extra costs: milliseconds matter; no "-0.000"
            return f"{(0.0 if abs(v) < 0.0005 else v):+.3f} s"
        return f"{v:.2f} s"

    @property
    def median_text(self) -> str:
        return self.fmt(self.median)

    @property
    def spread_text(self) -> str:
        if not self.values:
            return "—"
        lo, hi = min(self.values), max(self.values)
        return f"{self.fmt(lo).rsplit(' ', 1)[0]}–{self.fmt(hi)}"

    @property
    def goal_text(self) -> str:
        if self.goal is None:
            return "—"
        op = "≥" if self.higher_is_better else "≤"
        unit = {"%": " %", "x": "×", "MiB": " MiB"}.get(self.unit, " s")
        return f"{op} {self.goal:g}{unit}"


def _med(xs):
    return statistics.median(xs) if xs else float("nan")


def _mib(n: float) -> str:
    return f"{n / (1 << 20):.2f} MiB"


def _kib(n: float) -> str:
    return f"{n / 1024:.0f} KiB"


# ------------------------------------------------------------------------------------------------
# Running goinstall
# ------------------------------------------------------------------------------------------------

@dataclasses.dataclass
class Run:
    duration: float
    events: list
    result: dict
    stderr: str

    def attempts(self) -> list:
        return [e for e in self.events if e.get("event") == "attempt"]


def _events(stdout: str) -> list:
    out = []
    for line in stdout.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out


class Workdir:
    """A fresh tmpfs dir holding home/ and root/ for one install (or one interrupted install and
    its rerun); removed by cleanup()."""

    def __init__(self, prefix="goinstall-bench-"):
        self._d = h.tmpfs_dir(prefix)
        self.path = self._d.name
        self.home = os.path.join(self.path, "home")
        self.root = os.path.join(self.path, "root")
        os.makedirs(self.home)

    def cleanup(self):
        self._d.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()


class Bench:
    def __init__(self, reps: int, real: bool, log: Callable[[str], None]):
        self.reps = reps
        self.real = real
        self.log = log
        self.tmp = h.tmpfs_dir("goinstall-bench-data-")
        self.nginx: Optional[h.Nginx] = None
        self.small = self.big = self.real_archive = None
        self.big_data = b""
        self.metrics: List[Metric] = []
        self.facts: dict = {}

    # -- setup ---------------------------------------------------------------------------------
    def setup(self) -> None:
        t = time.monotonic()
        self.small = h.fake_toolchain_archive(SMALL_VERSION, os.path.join(self.tmp.name, "small"))
        # Incompressible payload: the transfer is ~64 MiB on the wire, as a real toolchain would be.
        self.big = h.fake_toolchain_archive(BIG_VERSION, os.path.join(self.tmp.name, "big"),
                                            extra_files={"pkg/blob.bin": os.urandom(BIG_BLOB)})
        with open(self.big.path, "rb") as f:
            self.big_data = f.read()
        archives = [self.small, self.big]
        if self.real:
            self.log("preparing the real toolchain archive (built once, then cached on /dev/shm)...")
            self.real_archive = h.toolchain_archive()
            archives.append(self.real_archive)
            self.facts["real_archive"] = (f"{self.real_archive.filename}, "
                                          f"{self.real_archive.size / 1e6:.1f} MB, "
                                          f"{self.real_archive.file_count} files")
        from . import perf  # noqa: E402 (imports this module)
        self.nginx = h.Nginx(locations=perf.nginx_locations())
        self.nginx.start()
        for a in archives:
            self.nginx.put_file(a.filename, a.path, symlink=True)   # never written to
        if self.real:
            perf.publish(self.nginx, self.real_archive)
            ldd = subprocess.run(["ldd", h.goinstall_bin()], capture_output=True, text=True)
            self.facts["inflate_backend"] = "ISA-L (libisal)" if "libisal" in ldd.stdout else "zlib"
        self.nginx.put("dl/index.json", h.make_index(archives))
        self.facts["small_archive"] = f"{self.small.filename}, {self.small.size} bytes"
        self.facts["big_archive"] = f"{self.big.filename}, {self.big.size:,} bytes"
        self.log(f"setup done in {time.monotonic() - t:.1f} s (nginx on {self.nginx.url})")

    def close(self) -> None:
        if self.nginx is not None:
            self.nginx.close()
            self.nginx = None
        self.tmp.cleanup()

    @property
    def index_url(self) -> str:
        return self.nginx.url + INDEX_PATH

    def args(self, version: str, mirrors: List[str], root: str) -> list:
        for m in mirrors:   # house rule: loopback only
            if not (m.startswith("http://127.0.0.1:") or m.startswith("http://[::1]:")):
                raise BenchError(f"refusing a non-loopback mirror {m}")
        return [version, "--index-url", self.index_url, "--allow-insecure-index", "--root", root,
                "--mirror", ",".join(mirrors), "--no-fallback", "--json"]

    def install(self, version: str, mirrors: List[str], expect_mirror: str, sha256: str,
                wd: Workdir) -> Run:
        r = h.run_goinstall(self.args(version, mirrors, wd.root), home=wd.home, timeout=RUN_TIMEOUT)
        ev = _events(r.stdout)
        res = ev[-1] if ev else {}
        if (r.returncode != 0 or res.get("event") != "result" or not res.get("ok")
                or (expect_mirror is not None and res.get("mirror") != expect_mirror)
                or res.get("sha256") != sha256):
            raise BenchError(f"install of {version} from {mirrors} did not succeed from "
                             f"{expect_mirror}: exit {r.returncode}\n{r.stdout[-1500:]}\n"
                             f"{r.stderr[-1500:]}")
        if not os.path.isdir(os.path.join(wd.root, version)):
            raise BenchError(f"{wd.root}/{version} missing after a successful install")
        return Run(r.duration, ev, res, r.stderr)

    def fresh_install(self, version, mirrors, expect_mirror, sha256) -> Run:
        with Workdir() as wd:
            return self.install(version, mirrors, expect_mirror, sha256, wd)

    def small_install(self, mirrors, expect_mirror) -> Run:
        return self.fresh_install(SMALL_VERSION, mirrors, expect_mirror, self.small.sha256)

    # -- helpers -------------------------------------------------------------------------------
    def _measure(self, metric: Metric, body: Callable[[Metric], None]) -> Metric:
        self.metrics.append(metric)
        t = time.monotonic()
        try:
            body(metric)
        except Exception as e:  # noqa: BLE001 - recorded in the row; the other rows still run
            metric.error = f"{type(e).__name__}: {e}"
            self.log(f"  ERROR: {metric.error}")
        self.log(f"  {metric.label}: median {metric.median_text} "
                 f"({metric.spread_text}, n={metric.n}) in {time.monotonic() - t:.1f} s")
        return metric

    def _paired(self, metric: Metric, failover: Callable[[], Run], baseline_sink: List[float],
                on_failover: Callable[[Run], None] = lambda r: None) -> None:
        """reps pairs (baseline, failover), order alternating; metric gets failover - baseline."""
        fo, base = [], []
        for i in range(self.reps):
            pair = {}
            order = ("base", "fo") if i % 2 == 0 else ("fo", "base")
            for which in order:
                if which == "base":
                    pair["base"] = self.small_install([self.nginx.url], self.nginx.url).duration
                else:
                    run = failover()
                    on_failover(run)
                    pair["fo"] = run.duration
            base.append(pair["base"])
            fo.append(pair["fo"])
            metric.values.append(pair["fo"] - pair["base"])
        baseline_sink.extend(base)
        self.facts["paired_base_median"] = _med(base)
        metric.details.append(f"absolute wall time, median (min–max): with the bad mirror first "
                              f"{_med(fo):.3f} s ({min(fo):.3f}–{max(fo):.3f}), nginx alone "
                              f"{_med(base):.3f} s ({min(base):.3f}–{max(base):.3f}); the extra "
                              f"cost is taken pairwise (each failover run minus the nginx-only run "
                              f"next to it, order alternating)")

    # -- the measurements ----------------------------------------------------------------------
    def run_all(self) -> List[Metric]:
        baseline: List[float] = []
        self.log("warm-up install (not counted)")
        self.small_install([self.nginx.url], self.nginx.url)

        self.log(f"1. blackholed preferred mirror ({self.reps} pairs)")
        self._measure(Metric("blackhole", "Blackholed preferred mirror: extra wall time", "s",
                             goal=1.0, signed=True), lambda m: self.m_blackhole(m, baseline))
        self.log(f"2. 404 preferred mirror ({self.reps} pairs)")
        self._measure(Metric("404", "404 preferred mirror: extra wall time", "s", goal=0.2,
                             signed=True), lambda m: self.m_404(m, baseline))
        self.log(f"3. cut at 50 % and resumed ({self.reps} runs, {_mib(self.big.size)})")
        self._measure(Metric("cut", "Re-downloaded after a cut at 50 % (64 MiB)", "%", goal=1.0),
                      self.m_cut)
        self.log(f"3b. SIGKILL at ~50 % and rerun ({self.reps} runs)")
        self._measure(Metric("kill", "Re-downloaded after SIGKILL at ~50 % and a rerun", "%",
                             goal=1.0), self.m_kill)
        base = Metric("baseline", "Plain install from nginx, tiny fake archive", "s",
                      values=list(baseline))
        self.metrics.append(base)
        base.bound = ("Process start, the index fetch and parse, the root lock, extraction and the "
                      "`bin/go version` check (a shell script here) are all there is: the archive "
                      "is a few hundred bytes.")
        base.details.append(f"the nginx-only runs of rows 1 and 2 (n={base.n}); "
                            f"archive {self.facts['small_archive']}")
        if self.real:
            self.log(f"4. real toolchain: goinstall vs curl + sha256sum + tar ({self.reps} each)")
            gi = Metric("real_goinstall", "Real toolchain (~140 MB) from nginx: goinstall", "s")
            pipe = Metric("real_pipeline", "Real toolchain: curl + sha256sum -c + tar -xzf", "s")
            self._measure(gi, lambda m: self.m_real(m, pipe))
            self.metrics.append(pipe)
            pipe.error = gi.error
            self.log(f"  {pipe.label}: median {pipe.median_text} ({pipe.spread_text}, n={pipe.n})")
            from . import perf  # noqa: E402
            perf.add_rows(self, self.metrics)
        return self.metrics

    def m_blackhole(self, m: Metric, baseline: List[float]) -> None:
        losers, modes = [], set()

        def failover() -> Run:
            with fs.Blackhole() as bh:
                modes.add(bh.mode)
                return self.small_install([bh.url, self.nginx.url], self.nginx.url)

        def check(run: Run) -> None:
            lost = [a for a in run.attempts() if a.get("lost_race")]
            if len(lost) != 1:
                raise BenchError(f"expected one lost race, got attempts {run.attempts()}")
            losers.append(lost[0].get("elapsed_ms", 0) / 1000.0)

        self._paired(m, failover, baseline, check)
        lm = _med(losers)
        m.details.append(f"blackhole mode {', '.join(sorted(modes))}; the losing attempt on the "
                         f"blackhole ended after {lm:.3f} s median ({min(losers):.3f}–"
                         f"{max(losers):.3f}) as reported in its `attempt` event (`elapsed_ms`)")
        self.facts["blackhole_loser_s"] = lm
        if lm - 0.4 > 0.3:
            m.bound = (f"The 400 ms head start is the floor, but what dominates is the wait for the "
                       f"cancelled loser: the race returns only when both entrants have ended, and "
                       f"the blackholed one, stuck in connect(), ends {lm:.2f} s after it started "
                       f"(goinstall's cancel flag is read only in libcurl's progress callback, which "
                       f"libcurl calls about once a second while a connect is pending), so the "
                       f"extra cost is that, not the head start.")
        else:
            m.bound = ("The 400 ms head start before the second mirror is started is the floor; the "
                       "rest is the nginx install itself, the loser being abandoned at once.")

    def m_404(self, m: Metric, baseline: List[float]) -> None:
        counts = []
        with fs.FaultServer() as bad:
            bad.set_fault(fs.status(404, body=b"not here\n"))

            def failover() -> Run:
                bad.clear_requests()
                run = self.small_install([bad.url, self.nginx.url], self.nginx.url)
                counts.append(len(bad.wait_for_requests(1)))
                return run

            self._paired(m, failover, baseline)
        m.details.append(f"requests to the 404 mirror per install: {sorted(set(counts))}")
        base_ms = self.facts.get("paired_base_median", float("nan")) * 1000
        m.bound = ("One request and its 404 on loopback (no retries: a 404 moves to the next mirror "
                   "at once) plus a new connection to the second mirror, i.e. about a millisecond; "
                   f"the spread is the jitter of two ~{base_ms:.0f} ms process runs on a shared "
                   "2-core machine.")

    def m_cut(self, m: Metric) -> None:
        size, starts, nreq = self.big.size, [], []
        with fs.FaultServer(files={self.big.filename: self.big_data}) as srv:
            for _ in range(self.reps):
                srv.clear_requests()
                srv.set_fault(fs.truncate(at_fraction=0.5, times=1))
                self.fresh_install(BIG_VERSION, [srv.url], srv.url, self.big.sha256)
                reqs = [q for q in srv.wait_for_requests(2) if q.path.endswith(self.big.filename)]
                if len(reqs) < 2:
                    raise BenchError(f"expected a cut request and a resume, got {reqs}")
                total = sum(q.body_bytes_sent for q in reqs)
                m.values.append(100.0 * (total - size) / size)
                starts.append((reqs[0].body_bytes_sent, reqs[1].range_start, reqs[1].status))
                nreq.append(len(reqs))
        m.details.append(f"archive {self.facts['big_archive']} served from memory by the fault "
                         f"server; requests per install {sorted(set(nreq))}; (bytes sent before "
                         f"the cut, Range start of the resume, its status): "
                         f"{sorted(set(starts))}")
        exact = all(rs == cut and st == 206 for cut, rs, st in starts)
        if exact:
            m.bound = ("Nothing but the protocol: the resume asks `Range: bytes=N-` (with `If-Range`) "
                       "for exactly the N bytes that reached the `.part` before the cut, so the only "
                       "cost is one more request; bytes on the wire = file size.")
        else:
            m.bound = ("What reached the `.part` before the cut versus where the resume starts: the "
                       "gap between the bytes sent before the cut and the resume's Range start is "
                       "re-fetched.")

    def m_kill(self, m: Metric) -> None:
        size = self.big.size
        firsts, kept, seconds, lost, parts = [], [], [], [], []
        rng = random.Random(3)   # reproducible kill phases
        with fs.FaultServer(files={self.big.filename: self.big_data}) as srv:
            for _ in range(self.reps):
                srv.clear_requests()
                srv.set_fault(fs.drip(bytes_per_second=KILL_DRIP_RATE, max_seconds=60, times=1))
                with Workdir() as wd:
                    # One stream: only the first request drips, and since issue 15 a slow lone
                    # mirror gets a second connection, which would finish the file at full speed.
                    args = self.args(BIG_VERSION, [srv.url], wd.root) + ["--connections", "1"]
                    proc, _ = h.popen_goinstall(args, home=wd.home, stdout=subprocess.DEVNULL,
                                                stderr=subprocess.DEVNULL)
                    try:
                        # The kill time is chosen from the clock, not from the server's byte
                        # count: the count moves only in drip bursts, so "kill when it crosses
                        # 50 %" would always kill mid-burst. Half the file's drip time after the
                        # request, plus a random phase within a drip tick.
                        deadline = time.monotonic() + 30
                        rec = None
                        while time.monotonic() < deadline and proc.poll() is None:
                            reqs = [q for q in srv.requests() if q.path.endswith(self.big.filename)]
                            if reqs and reqs[0].status is not None:
                                rec = reqs[0]
                                break
                            time.sleep(0.005)
                        if rec is None:
                            raise BenchError("the archive request did not arrive within 30 s "
                                             f"(goinstall exit {proc.poll()})")
                        kill_at = rec.t_start + 0.5 * size / KILL_DRIP_RATE + rng.uniform(0, 0.1)
                        while time.monotonic() < min(kill_at, deadline) and proc.poll() is None:
                            time.sleep(min(0.005, max(0.0, kill_at - time.monotonic())))
                        if proc.poll() is not None:
                            raise BenchError(f"goinstall ended (exit {proc.returncode}) before "
                                             "it could be killed")
                        os.kill(proc.pid, signal.SIGKILL)
                        proc.wait(timeout=10)
                    finally:
                        h.kill_process_group(proc)
                    first = srv.wait_for_requests(1)[0]
                    # the server notices the client is gone within a drip tick; bounded
                    for _ in range(100):
                        if first.finished:
                            break
                        time.sleep(0.05)
                        first = srv.requests()[0]
                    downloads = os.path.join(wd.root, ".downloads")
                    part = [f for f in (os.listdir(downloads) if os.path.isdir(downloads) else [])
                            if f.endswith(".part")]
                    part_size = os.path.getsize(os.path.join(downloads, part[0])) if part else 0
                    self.install(BIG_VERSION, [srv.url], srv.url, self.big.sha256, wd)
                    reqs = [q for q in srv.wait_for_requests(2) if q.path.endswith(self.big.filename)]
                    if len(reqs) < 2:
                        raise BenchError(f"expected the killed request and a resume, got {reqs}")
                    second = sum(q.body_bytes_sent for q in reqs[1:])
                    total = first.body_bytes_sent + second
                    m.values.append(100.0 * (total - size) / size)
                    firsts.append(first.body_bytes_sent)
                    kept.append(reqs[1].range_start or 0)
                    seconds.append(second)
                    lost.append(first.body_bytes_sent - part_size)
                    parts.append(part_size)
        burst = KILL_DRIP_RATE // 10     # the fault server drips in 0.1 s ticks
        m.details.append(f"first run dripped at {KILL_DRIP_RATE >> 20} MiB/s (in bursts of "
                         f"{_kib(burst)} every 0.1 s) and SIGKILLed after half the file's drip "
                         f"time plus a random phase within a tick; "
                         f"per run (sent before the kill, `.part` size after it, Range start of the "
                         f"rerun), in % of the file: " + ", ".join(
                             f"({f / size:.1%}, {p / size:.1%}, {k / size:.1%})"
                             for f, p, k in zip(firsts, parts, kept)))
        m.details.append(f"sent by the server but not in the `.part` after the kill: median "
                         f"{_kib(_med(lost))} ({_kib(min(lost))}–{_kib(max(lost))})")
        self.facts["kill_lost_bytes"] = _med(lost)
        exact = all(k == p for k, p in zip(kept, parts))
        if kept and all(k > 0 for k in kept) and exact:
            m.bound = (f"Only the bytes in flight at the kill: the rerun resumes from exactly the "
                       f"`.part` size (nothing on disk is discarded), so what is fetched again is "
                       f"what the server had sent but the process had not yet written, i.e. what sat "
                       f"in the socket buffers: nothing unless the kill lands inside one of the "
                       f"fault server's {_kib(burst)} drip bursts ("
                       + (f"max {_kib(max(lost))} in this run)." if max(lost) > 0 else
                          "none did in this run)."))
        elif kept and all(k > 0 for k in kept):
            m.bound = ("The bytes in flight at the kill plus what the rerun discarded from the "
                       "`.part` (its Range start is below the `.part` size in some runs).")
        else:
            m.bound = ("The rerun did not resume (Range start 0 in some runs), so the first run's "
                       "bytes were fetched again.")

    def m_real(self, gi: Metric, pipe: Metric) -> None:  # noqa: C901
        a = self.real_archive
        url = self.nginx.url + a.filename
        script = (f"curl -fsS --noproxy '*' -o f.tar.gz {url} && "
                  f"echo '{a.sha256}  f.tar.gz' | sha256sum -c --quiet - && tar -xzf f.tar.gz")
        if not url.startswith("http://127.0.0.1:"):
            raise BenchError(f"refusing a non-loopback URL {url}")
        for i in range(self.reps):
            for which in (("gi", "pipe") if i % 2 == 0 else ("pipe", "gi")):
                if which == "gi":
                    run = self.fresh_install(a.version, [self.nginx.url], self.nginx.url, a.sha256)
                    gi.values.append(run.duration)
                else:
                    with Workdir("goinstall-bench-curl-") as wd:
                        out = os.path.join(wd.path, "x")
                        os.makedirs(out)
                        r = h.run_isolated(["bash", "-c", script], home=wd.home, cwd=out,
                                           timeout=RUN_TIMEOUT)
                        if r.returncode != 0 or not os.path.isfile(os.path.join(out, "go", "bin", "go")):
                            raise BenchError(f"curl pipeline failed ({r.returncode}): {r.output[-1500:]}")
                        pipe.values.append(r.duration)
        # Context for the sentences, once each: the inflate alone (zlib in-process, as libarchive
        # does it; and GNU gzip, as `tar -xzf` does it) and the hash alone.
        inflate, size_out = _zlib_inflate_seconds(a.path)
        t = time.monotonic()
        r = subprocess.run(["gzip", "-dc", a.path], stdout=subprocess.DEVNULL, timeout=RUN_TIMEOUT)
        gunzip = time.monotonic() - t if r.returncode == 0 else float("nan")
        t = time.monotonic()
        h.sha256_file(a.path)
        hashing = time.monotonic() - t
        ratio = _med(gi.values) / _med(pipe.values)
        gi.details.append(f"archive {self.facts['real_archive']}, {size_out / 1e6:.0f} MB "
                          f"uncompressed; goinstall / pipeline = {ratio:.2f}× (medians); runs "
                          f"alternate between the two")
        gi.details.append(f"for scale, measured once each on this machine: zlib inflate of the "
                          f"archive in-process {inflate:.2f} s, `gzip -dc` to /dev/null "
                          f"{gunzip:.2f} s, SHA-256 of the archive {hashing:.2f} s")
        self.facts["real_ratio"] = ratio
        share = inflate / _med(gi.values)
        gi.bound = (f"Single-threaded zlib inflate of {size_out / 1e6:.0f} MB dominates ({inflate:.1f} s "
                    f"alone, {share:.0%} of the median); the rest is writing {a.file_count:,} files "
                    f"on tmpfs and the `go version` check, the download and its SHA-256 being "
                    f"overlapped and fast on loopback ({ratio:.2f}× the pipeline).")
        pipe.bound = (f"GNU gzip's inflate under `tar -xzf` ({gunzip:.1f} s alone, slower than zlib's "
                      f"{inflate:.1f} s) plus the extraction, and a separate pass over the file for "
                      f"`sha256sum -c` (~{hashing:.1f} s), all one after the other.")


def _zlib_inflate_seconds(path: str) -> tuple:
    """(seconds, uncompressed bytes) to inflate a .gz with zlib, output discarded."""
    t = time.monotonic()
    d = zlib.decompressobj(wbits=31)
    n = 0
    with open(path, "rb") as f:
        for _ in range(1 << 20):   # bounded: 1 TiB in 1 MiB reads
            chunk = f.read(1 << 20)
            if not chunk:
                break
            n += len(d.decompress(chunk))
    n += len(d.flush())
    return time.monotonic() - t, n
