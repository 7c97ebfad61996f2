#!/usr/bin/env python3
"""Runs the Catch2 unit-test binary as N processes, each with every Nth test case, in parallel.

    unit_shards.py BINARY [N]        (N: default the number of CPUs)

CTest starts one process per test case (catch_discover_tests). For the sanitizer build that costs
more than the tests: the instrumented binary takes about half a second of CPU to start and to scan
for leaks at exit, over 400 times. One process per core runs the same test cases (the names
`--list-test-names-only` gives, as CTest's discovery does) with that cost paid N times. Exit status:
0 when every shard passed; otherwise the failing shards' output is printed and the status is 1.
"""
import os
import subprocess
import sys
import tempfile
import time


def escape(name: str) -> str:
    # Catch2 v2 test specs: '\' escapes the characters that would otherwise be syntax.
    out = []
    for c in name:
        if c in "\\,[]*\"~":
            out.append("\\")
        out.append(c)
    return "".join(out)


def main() -> int:
    binary = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else (os.cpu_count() or 2)
    # (Catch2 v2 exits with the number of test cases listed, so the status says nothing.)
    names = subprocess.run([binary, "--list-test-names-only"], capture_output=True,
                           text=True, timeout=120).stdout.splitlines()
    names = [x for x in names if x.strip()]
    if not names:
        print("unit_shards: the binary lists no test cases", file=sys.stderr)
        return 1
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="goinstall-shards-") as tmp:
        procs = []
        for i in range(n):
            part = names[i::n]
            if not part:
                continue
            spec = os.path.join(tmp, f"shard{i}.txt")
            with open(spec, "w") as f:
                f.write("".join(escape(x) + "\n" for x in part))
            log = open(os.path.join(tmp, f"shard{i}.log"), "w+")
            p = subprocess.Popen([binary, "--input-file", spec, "--reporter", "compact"],
                                 stdout=log, stderr=subprocess.STDOUT)
            procs.append((i, len(part), p, log))
        failed = 0
        for i, count, p, log in procs:
            try:
                rc = p.wait(timeout=900)
            except subprocess.TimeoutExpired:
                p.kill()
                rc = "timeout (900 s)"
            log.seek(0)
            text = log.read()
            log.close()
            # A spec that selects fewer cases than listed would hide tests: check the count.
            ran = [line for line in text.splitlines() if line.startswith(("Passed", "Failed", "All tests passed"))]
            if rc != 0:
                failed += 1
                print(f"unit_shards: shard {i} ({count} test cases) failed: {rc}", file=sys.stderr)
                print(text[-20000:], file=sys.stderr)
            else:
                print(f"unit_shards: shard {i}: {count} test cases: {ran[-1] if ran else text.strip().splitlines()[-1]}")
        print(f"unit_shards: {len(names)} test cases in {len(procs)} processes, {time.monotonic() - start:.0f} s")
        return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
