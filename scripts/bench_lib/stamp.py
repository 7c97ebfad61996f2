"""Runs a command and copies its stdout, each line prefixed with the seconds since the start
("12.345<TAB>line"), for `scripts/bench --links --events-dir`: goinstall's --json events carry no
time of their own. stderr passes through, followed by "stamp_child_s=SECONDS" (the command's own
wall time, without this script's start); the exit status is the command's."""
import subprocess
import sys
import time


def main() -> int:
    t0 = time.monotonic()
    p = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE)
    assert p.stdout is not None
    for line in p.stdout:
        sys.stdout.write(f"{time.monotonic() - t0:.3f}\t{line.decode(errors='replace')}")
        sys.stdout.flush()
    rc = p.wait()
    sys.stderr.write(f"stamp_child_s={time.monotonic() - t0:.4f}\n")
    return rc


if __name__ == "__main__":
    sys.exit(main())
