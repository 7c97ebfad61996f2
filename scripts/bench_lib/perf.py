"""Throughput rows of scripts/bench (issue 7): the real toolchain archive installed from nginx on
loopback, unthrottled and through nginx's per-connection `limit_rate`, against the shell tools; peak
RSS; small-command latency. Every goinstall run goes through the harness like the rows of
scenarios.py (isolated environment, loopback mirrors only, fresh HOME and --root on /dev/shm)."""
from __future__ import annotations

import os
import shutil
import subprocess
import time
from typing import List

import goinstall_harness as h  # noqa: E402
import toolchain_module_cache as tmc  # noqa: E402 (tests/harness; needs python3-cryptography)

from .link import SharedLink
from .scenarios import RUN_TIMEOUT, SMALL_VERSION, BenchError, Metric, Workdir, _events, _med

THROTTLE_RATE = "20m"       # row 2: one 20 MiB/s link shared by all connections (link.py)
THROTTLE_BYTES_PER_SECOND = 20 << 20
MIRROR_RATE = "10m"         # each of the three mirrors of row 3: a 10 MiB/s link (link.py)
MIRROR_BYTES_PER_SECOND = 10 << 20
MIRRORS = ("m1", "m2", "m3")


def nginx_locations() -> List[str]:
    """The throttled locations the perf rows need (pass to h.Nginx(locations=...))."""
    locs = [f"location /slow/ {{ limit_rate {THROTTLE_RATE}; }}"]
    locs += [f"location /{m}/ {{ limit_rate {MIRROR_RATE}; }}" for m in MIRRORS]
    return locs


def publish(nginx, archive) -> None:
    """Puts the archive under every throttled location too."""
    for d in ("slow",) + MIRRORS:
        nginx.put_file(f"{d}/{archive.filename}", archive.path, symlink=True)


def _loopback(url: str) -> str:
    if not url.startswith("http://127.0.0.1:"):
        raise BenchError(f"refusing a non-loopback URL {url}")
    return url


class Perf:
    """Rows 1–3 and 5 of issue 7, row 6 of issue 13 (the toolchain-module route). `bench` is the scenarios.Bench (nginx, archive, reps, log)."""

    def __init__(self, bench):
        self.b = bench
        self.a = bench.real_archive
        self.local = os.path.join(bench.tmp.name, "local-" + self.a.filename)   # for tar alone
        shutil.copyfile(self.a.path, self.local)
        self.facts = {}

    # -- runners -------------------------------------------------------------------------------
    def goinstall(self, mirrors: List[str], expect: str) -> float:
        return self.b.fresh_install(self.a.version, mirrors, expect, self.a.sha256).duration

    def shell(self, script: str, expect_tree: bool = True) -> float:
        with Workdir("goinstall-bench-sh-") as wd:
            out = os.path.join(wd.path, "x")
            os.makedirs(out)
            r = h.run_isolated(["bash", "-c", "set -o pipefail; " + script], home=wd.home, cwd=out,
                               timeout=RUN_TIMEOUT)
            if r.returncode != 0 or (expect_tree and not os.path.isfile(os.path.join(out, "go", "bin", "go"))):
                raise BenchError(f"`{script[:80]}...` failed ({r.returncode}): {r.output[-800:]}")
            return r.duration

    def pipeline(self, url: str) -> str:
        return (f"curl -fsS --noproxy '*' -o f.tar.gz {_loopback(url)} && "
                f"echo '{self.a.sha256}  f.tar.gz' | sha256sum -c --quiet - && tar -xzf f.tar.gz")

    def curl_only(self, url: str) -> str:
        return f"curl -fsS --noproxy '*' -o f.tar.gz {_loopback(url)}"

    def alternate(self, runners: dict, reps: int) -> dict:
        """runners: name → () -> seconds; run reps rounds, rotating the order each round."""
        names = list(runners)
        out = {n: [] for n in names}
        for i in range(reps):
            k = i % len(names)
            for n in names[k:] + names[:k]:
                out[n].append(runners[n]())
        return out

    # -- rows ----------------------------------------------------------------------------------
    def row1(self, gi: Metric, tar: Metric, pigz: Metric, pipe: Metric, ratio: Metric) -> None:
        url = self.b.nginx.url + self.a.filename
        r = self.alternate({
            "gi": lambda: self.goinstall([self.b.nginx.url], self.b.nginx.url),
            "tar": lambda: self.shell(f"tar -xzf {self.local}"),
            "pigz": lambda: self.shell(f"pigz -dc {self.local} | tar -x"),
            "pipe": lambda: self.shell(self.pipeline(url)),
        }, self.b.reps)
        gi.values, tar.values, pigz.values, pipe.values = r["gi"], r["tar"], r["pigz"], r["pipe"]
        ratio.values = [g / t for g, t in zip(r["gi"], r["tar"])]
        self.facts["unthrottled_goinstall"] = _med(r["gi"])
        gi.details.append(f"archive {self.b.facts['real_archive']}; runs rotate between the four "
                          f"commands; gzip decoding: {self.facts.get('backend', '?')}")
        ratio.details.append("each goinstall run divided by the `tar -xzf` run of the same round")
        gi.bound = ("Gzip decoding (ISA-L, one thread) overlapped with tar parsing and file creation "
                    "(the other thread), the loopback download and its SHA-256 overlapped with both; "
                    "then the `bin/go version` check and syncfs (free on tmpfs).")
        tar.bound = "GNU gzip's single-threaded inflate, then file creation, one after the other."
        pigz.bound = "Inflate and file creation on two cores: pigz's zlib inflate bounds it."
        pipe.bound = "Download, hash and extraction one after the other."

    def row2(self, gi: Metric, dl: Metric, pipe: Metric, vs_max: Metric, vs_pipe: Metric) -> None:
        # One emulated 20 MiB/s link shared by every connection through it (link.py). Not nginx's
        # per-request limit_rate: since goinstall may open several connections to one mirror
        # (issue 15), each would get 20 MiB/s of its own, a link no user has.
        link = SharedLink(self.b.nginx.port, THROTTLE_BYTES_PER_SECOND)
        try:
            self._row2(gi, dl, pipe, vs_max, vs_pipe, link.url)
        finally:
            link.close()

    def _row2(self, gi: Metric, dl: Metric, pipe: Metric, vs_max: Metric, vs_pipe: Metric, base: str) -> None:
        url = base + self.a.filename
        r = self.alternate({
            "gi": lambda: self.goinstall([base], base),
            "dl": lambda: self.shell(self.curl_only(url), expect_tree=False),
            "pipe": lambda: self.shell(self.pipeline(url)),
        }, self.b.reps)
        gi.values, dl.values, pipe.values = r["gi"], r["dl"], r["pipe"]
        extract_alone = self.facts.get("unthrottled_goinstall", 0.0)
        vs_max.values = [g / max(d, extract_alone) for g, d in zip(r["gi"], r["dl"])]
        vs_pipe.values = [g / p for g, p in zip(r["gi"], r["pipe"])]
        gi.bound = ("The link: extraction keeps up with the growing .part, so what is left after the "
                    "last byte is the tail of the tar, the `go version` check and the commit.")
        dl.bound = f"{self.a.size / (1 << 20):.0f} MiB at 20 MiB/s."
        pipe.bound = "The download, then the hash and `tar -xzf` after it."
        vs_max.details.append(f"extraction alone = the unthrottled goinstall install of row 1 "
                              f"({extract_alone:.2f} s median, download included), so the bound is "
                              f"conservative; download alone = `curl -o` of the same URL")

    def row3(self, one: Metric, three: Metric, speedup: Metric) -> None:
        # Three emulated links into the same nginx, each shared by all its connections (link.py).
        port = self.b.nginx.port
        links = [SharedLink(port, MIRROR_BYTES_PER_SECOND) for _ in MIRRORS]
        try:
            self._row3(one, three, speedup, [link.url for link in links])
        finally:
            for link in links:
                link.close()

    def _row3(self, one: Metric, three: Metric, speedup: Metric, bases: List[str]) -> None:
        singles, multis, used = [], [], []

        def multi() -> float:
            run = self.b.fresh_install(self.a.version, bases, None, self.a.sha256)
            used.append(len({a.get("mirror") for a in run.attempts() if a.get("bytes", 0) > 0}))
            return run.duration

        r = self.alternate({"one": lambda: self.goinstall(bases[:1], bases[0]), "three": multi},
                           max(3, self.b.reps - 2))
        singles, multis = r["one"], r["three"]
        one.values, three.values = singles, multis
        speedup.values = [s / m for s, m in zip(singles, multis)]
        one.bound = "One mirror's emulated 10 MiB/s link (a relay whose connections share one token bucket)."
        three.bound = ("Three mirrors' links at 10 MiB/s each, one connection per mirror, ranges of 1–16 MiB "
                       "(rate × round trip × 32); the SHA-256 follows the contiguous prefix on its own thread; then "
                       "extraction of what the contiguous prefix did not already stream.")
        size_mib = self.a.size / (1 << 20)
        one.details.append(f"{size_mib:.0f} MiB at {MIRROR_RATE}iB/s per mirror link: "
                           f"{size_mib / _med(singles):.1f} MiB/s achieved")
        three.details.append(f"{size_mib / _med(multis):.1f} MiB/s achieved; mirrors that served "
                             f"bytes per run: {sorted(set(used))}")

    def goproxy_install(self, site, mod, downloads: List[float]) -> float:
        """One `goinstall install <version> --via goproxy` into a fresh HOME (so a fresh cache and
        download dir) and a fresh --root, GOPROXY/GOSUMDB naming the loopback site."""
        for url in (site.proxy_url, site.sumdb_url):
            if not url.startswith("https://127.0.0.1:"):
                raise BenchError(f"refusing a non-loopback URL {url}")
        with Workdir() as wd:
            # The index and mirror are this bench's nginx (never used by --via goproxy; named so
            # that nothing could leave loopback), as in tests/integration/test_goproxy_route.py.
            r = h.run_goinstall(["install", self.a.version, "--via", "goproxy", "--root", wd.root,
                                 "--cacert", site.ca_cert, "--json", "--index-url", self.b.index_url,
                                 "--allow-insecure-index", "--mirror", self.b.nginx.url,
                                 "--no-fallback", "--no-triage"],
                                env_extra={"GOPROXY": site.proxy_url, "GOSUMDB": site.gosumdb},
                                home=wd.home, timeout=RUN_TIMEOUT)
            ev = _events(r.stdout)
            res = ev[-1] if ev else {}
            routes = {e.get("route") for e in ev if e.get("event") == "installed"}
            if (r.returncode != 0 or res.get("event") != "result" or not res.get("ok")
                    or routes != {"goproxy"}
                    or not os.access(os.path.join(wd.root, self.a.version, "bin", "go"), os.X_OK)):
                raise BenchError(f"--via goproxy install of {self.a.version} ({mod.version}) failed: "
                                 f"exit {r.returncode}, routes {sorted(map(str, routes))}\n"
                                 f"{r.stdout[-1500:]}\n{r.stderr[-1500:]}")
            downloads.append(sum(e.get("elapsed_ms", 0) for e in ev
                                 if e.get("event") == "attempt") / 1000.0)
            return r.duration

    def row6(self, mod_route: Metric, tar_route: Metric, ratio: Metric) -> None:
        import goproxy_site as gps  # noqa: E402

        mod = tmc.cached_toolchain_zip(self.a, 9, self.b.log)
        downloads: List[float] = []
        with gps.GoproxySite([mod]) as site:
            r = self.alternate({
                "mod": lambda: self.goproxy_install(site, mod, downloads),
                "tar": lambda: self.goinstall([self.b.nginx.url], self.b.nginx.url),
            }, self.b.reps)
            zip_size = os.path.getsize(site.served_zip_path(mod.version))
        mod_route.values, tar_route.values = r["mod"], r["tar"]
        ratio.values = [m / t for m, t in zip(r["mod"], r["tar"])]
        mod_route.details.append(
            f"{gps.MODULE}@{mod.version}: {zip_size / 1e6:.1f} MB zip (Deflate level 9, "
            f"{len(mod.names)} entries; api/ doc/ misc/ test/ dropped as distpack drops them), built "
            f"once from {self.a.filename} and cached; served by nginx over HTTPS (test CA, "
            f"--cacert) with the checksum database (own Ed25519 key, GOSUMDB) on the same server; "
            f"fresh HOME (cache) and --root each run; runs alternate with the tarball route's")
        mod_route.details.append(
            f"of which the zip's download (the `attempt` event's elapsed_ms): median "
            f"{_med(downloads):.2f} s; the rest is the h1: pass over the whole zip, extraction "
            f"and the `go version` check, none of which can start before that download ends")
        tar_route.details.append("the P1 install (plain HTTP, --mirror, index), measured again in "
                                 "the same rounds as the module route so drift hits both alike")
        ratio.details.append("each module-route run divided by the tarball-route run of the same "
                             "round; no goal: the module route is for where only a GOPROXY is "
                             "reachable, and its cost is structural (below), not a regression")
        mod_route.bound = ("Three passes one after the other: the download (SHA-256 on the fly); "
                           "reading the zip's central directory (at its end) and inflating every "
                           "entry for the h1: hash the database vouches for; then inflating it again "
                           "into staging (hashed once more before the commit), then `bin/go version`.")
        tar_route.bound = ("Download, gzip inflate and tar extraction overlapped (as P1), then the "
                           "`bin/go version` check.")
        ratio.bound = ("The module route cannot start extracting before the last byte (the zip is "
                       "indexed by its trailing central directory, and nothing may be written "
                       "before the h1: over the whole zip matches), so it pays download + a hash "
                       "pass + extraction where the tarball route pays roughly the slowest of them.")

    def peak_rss_mib(self, version: str) -> float:
        # GNU time's %M: wait4's ru_maxrss of a child forked from this (large) Python process would
        # count the pages it shared before exec, so the child is forked from `time` instead.
        if not os.access("/usr/bin/time", os.X_OK):
            raise BenchError("/usr/bin/time (Debian package 'time') is needed for the RSS row")
        with Workdir() as wd:
            args = self.b.args(version, [self.b.nginx.url], wd.root)
            r = h.run_isolated(["/usr/bin/time", "-f", "maxrss_kib=%M", h.goinstall_bin(), *args],
                               home=wd.home, timeout=RUN_TIMEOUT)
            lines = [x for x in r.stderr.splitlines() if x.startswith("maxrss_kib=")]
            if r.returncode != 0 or not lines:
                raise BenchError(f"install for the RSS row failed: exit {r.returncode} {r.output[-500:]}")
            return int(lines[-1].split("=")[1]) / 1024.0   # KiB → MiB

    def row5(self, rss: Metric, rss_small: Metric, version: Metric, ls_remote: Metric) -> None:
        for _ in range(max(3, self.b.reps - 2)):   # alternating, so drift hits both alike
            rss.values.append(self.peak_rss_mib(self.a.version))
            rss_small.values.append(self.peak_rss_mib(SMALL_VERSION))
        rss_small.bound = ("The same process with a 709-byte archive: the difference to the row above is "
                           "what a 140 MB archive adds, i.e. what would grow with the archive.")
        rss.bound = ("Bounded buffers: libcurl's, 256 KiB of compressed input, 1 MiB of tar between the "
                     "threads, libarchive's; the .part is read back from the page cache, not memory.")
        for _ in range(10):
            r = h.run_goinstall(["--version"], timeout=30)
            if r.returncode != 0:
                raise BenchError(f"--version failed: {r.output[-300:]}")
            version.values.append(r.duration)
        with Workdir() as wd:
            first = h.run_goinstall(["ls-remote", "--index-url", self.b.index_url,
                                     "--allow-insecure-index"], home=wd.home, timeout=60)
            if first.returncode != 0:
                raise BenchError(f"ls-remote failed: {first.output[-500:]}")
            for _ in range(10):
                r = h.run_goinstall(["ls-remote", "--offline", "--index-url", self.b.index_url,
                                     "--allow-insecure-index"], home=wd.home, timeout=30)
                if r.returncode != 0 or self.a.version not in r.stdout:
                    raise BenchError(f"ls-remote --offline failed: {r.output[-500:]}")
                ls_remote.values.append(r.duration)


def add_rows(bench, metrics: List[Metric]) -> None:
    """Measures rows 1–3, 5 and 6 and appends their metrics (bench.real must be set)."""
    p = Perf(bench)
    p.facts["backend"] = bench.facts.get("inflate_backend", "?")
    log, reps = bench.log, bench.reps

    def measure(label_rows, fn):
        for m in label_rows:
            metrics.append(m)
        t = time.monotonic()
        try:
            fn(*label_rows)
        except Exception as e:  # noqa: BLE001 - recorded in the rows
            for m in label_rows:
                m.error = f"{type(e).__name__}: {e}"
            log(f"  ERROR: {label_rows[0].error}")
        for m in label_rows:
            log(f"  {m.label}: median {m.median_text} ({m.spread_text}, n={m.n})")
        log(f"  ({time.monotonic() - t:.0f} s)")

    log(f"P1. unthrottled: goinstall vs tar -xzf vs pigz | tar vs curl+sha256sum+tar ({reps} rounds)")
    measure([Metric("p1_gi", "P1 unthrottled: goinstall install", "s"),
             Metric("p1_tar", "P1 `tar -xzf` alone (local file)", "s"),
             Metric("p1_pigz", "P1 `pigz -dc | tar -x` alone", "s"),
             Metric("p1_pipe", "P1 curl + sha256sum -c + tar -xzf", "s"),
             Metric("p1_ratio", "P1 goinstall / `tar -xzf`", "x", goal=0.8)], p.row1)
    log(f"P2. throttled to {THROTTLE_RATE}iB/s ({reps} rounds)")
    measure([Metric("p2_gi", f"P2 {THROTTLE_RATE}iB/s: goinstall install", "s"),
             Metric("p2_dl", f"P2 {THROTTLE_RATE}iB/s: `curl -o` alone", "s"),
             Metric("p2_pipe", f"P2 {THROTTLE_RATE}iB/s: curl + sha256sum + tar", "s"),
             Metric("p2_vs_max", "P2 goinstall / max(download, extraction)", "x", goal=1.1),
             Metric("p2_vs_pipe", "P2 goinstall / sequential pipeline", "x", goal=0.75)], p.row2)
    log("P3. three mirrors at 10 MiB/s each vs one")
    measure([Metric("p3_one", f"P3 one mirror at {MIRROR_RATE}iB/s: install", "s"),
             Metric("p3_three", f"P3 three mirrors at {MIRROR_RATE}iB/s each: install", "s"),
             Metric("p3_speedup", "P3 throughput, three mirrors / one", "x", goal=2.5,
                    higher_is_better=True)], p.row3)
    log("P5. peak RSS, --version, ls-remote --offline")
    measure([Metric("p5_rss", "P5 peak RSS of a real-toolchain install", "MiB", goal=32),
             Metric("p5_rss_small", "P5 peak RSS of a tiny-archive install (same binary)", "MiB"),
             Metric("p5_version", "P5 `goinstall --version`", "s"),
             Metric("p5_ls", "P5 `ls-remote --offline` (cached index)", "s")], p.row5)
    log(f"P6. module route (--via goproxy, zip + checksum database) vs tarball route ({reps} rounds)")
    measure([Metric("p6_mod", "P6 module route: `install --via goproxy` (zip, sumdb-verified)", "s"),
             Metric("p6_tar", "P6 tarball route: goinstall install (as P1, same rounds)", "s"),
             Metric("p6_ratio", "P6 module route / tarball route", "x")], p.row6)
