"""`scripts/bench --links`: the self-check, the profiles, the table (on stdout and in the doc).

Kept apart from scripts/bench's loopback run: it needs root (namespaces, TUN devices), takes
longer, and writes only its own section of docs/benchmarks.md.
"""
from __future__ import annotations

import datetime
import os
import subprocess
import time
from typing import Callable, Optional

from . import linkbench, linkreport, report


def main(repo: str, a, reps: int, doc: Optional[str], binary: str, build_desc: str,
         snap_sha: Optional[str], log: Callable[[str], None]) -> int:
    if os.geteuid() != 0 or not os.path.exists("/dev/net/tun"):
        log("--links needs root and /dev/net/tun (network namespaces and TUN devices)")
        return 2
    keys = [k.strip() for k in (a.profiles or ",".join(linkbench.PROFILES)).split(",") if k.strip()]
    unknown = [k for k in keys if k not in linkbench.PROFILES]
    if unknown:
        log(f"unknown profile(s) {', '.join(unknown)}; known: {', '.join(linkbench.PROFILES)}")
        return 2
    t0 = time.monotonic()
    load_start = os.getloadavg()[0]
    lb = linkbench.LinkBench(repo, reps, log, events_dir=a.events_dir)
    rows = []
    try:
        try:
            lb.setup()
        except (RuntimeError, OSError, subprocess.SubprocessError) as e:
            log(f"setup failed: {e}")
            return 2
        why = lb.check_emulator()
        if why:
            log(f"the emulator is off by more than 25 %, not measuring: {why}")
            return 1
        for k in keys:
            rows.append(lb.run_profile(linkbench.PROFILES[k]))
        if a.finish_cap:
            lb.finish_checks(rows, a.finish_cap)
    finally:
        lb.close()
    elapsed = time.monotonic() - t0
    linkbench.judge(rows)
    print()
    print(linkreport.text_table(rows))
    if doc:
        mi = report.machine_info()
        gi = report.git_info(repo, snap_sha)
        ctx = {
            "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
            "commit": gi["commit"] + (" plus uncommitted changes" if gi["dirty"] and not snap_sha
                                      else ""),
            "binary": (f"{os.path.relpath(binary, repo) if binary.startswith(repo) else binary}, "
                       f"{build_desc}"),
            "machine": f"{mi['nproc']} CPUs ({mi['cpu']}), Linux {mi['kernel']}",
            "load_start": load_start, "load_end": os.getloadavg()[0],
            "archive": f"{lb.archive.filename}, {lb.archive.size:,} bytes (the real Go toolchain "
                       "of Debian's golang-1.19-go in an official release's layout: bin, pkg/include, "
                       "pkg/tool, src, test, misc, api; gzip -6)",
            "reps": reps, "elapsed": elapsed, "selfcheck": lb.selfcheck,
        }
        linkreport.write(doc, linkreport.section(rows, ctx))
        log(f"wrote the links section of {os.path.relpath(doc, repo)}")
    log(f"done in {elapsed:.0f} s")
    return 0
