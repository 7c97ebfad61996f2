"""Output for scripts and people: --json prints only JSON lines on stdout, each valid against
docs/json-schema.json; --quiet prints only errors; progress is a bar redrawn in place (at most
10 times a second) on a terminal and plain lines elsewhere; the exit-code table in README matches
--help and installer/exit_codes.hpp."""
import json
import os
import pty
import re
import select
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
import fault_server as fs  # noqa: E402
import goinstall_harness as h  # noqa: E402
from release_site import Site  # noqa: E402

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
with open(os.path.join(REPO, "docs", "json-schema.json")) as _f:
    SCHEMA = json.load(_f)

JSON_TYPES = {"string": str, "integer": int, "number": (int, float), "boolean": bool, "object": dict,
              "array": list, "null": type(None)}


def matches(obj, fields):
    for name, typ in fields.items():
        if name not in obj:
            return False
        v = obj[name]
        if typ in ("integer", "number") and isinstance(v, bool):
            return False
        if not isinstance(v, JSON_TYPES[typ]):
            return False
    return True


def schema_problem(obj):
    """None when `obj` is a valid goinstall JSON event, else why not."""
    if not isinstance(obj, dict) or not isinstance(obj.get("event"), str):
        return "no \"event\" string"
    spec = SCHEMA["events"].get(obj["event"])
    if spec is None:
        return f"undocumented event type {obj['event']!r}"
    if "required" in spec and not matches(obj, spec["required"]):
        return f"missing or mistyped required fields {spec['required']}"
    if "variants" in spec:
        ok = [n for n, fields in spec["variants"].items() if matches(obj, fields)]
        if not ok:
            return f"matches none of the variants {list(spec['variants'])}"
        if obj["event"] == "result":
            if obj["ok"] is False and ("failure" not in ok or not matches(obj["error"], spec["error"])):
                return "a failed result needs error {code, message, exit_code}"
            if obj["ok"] is True and ok == ["failure"]:
                return "a successful result with an error"
    return None


class OutputTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = h.tmpfs_dir("goinstall-output-archives-")
        d = os.path.join(str(cls.tmp), "a")
        cls.small = [h.fake_toolchain_archive(v, d) for v in ("go1.21.3", "go1.22.0")]
        # ~400 KB that does not compress, to watch progress at a dripped rate.
        cls.big = h.fake_toolchain_archive("go1.23.1", d, extra_files={"blob": os.urandom(400_000)})

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    # ---- JSON ------------------------------------------------------------------------------

    def json_lines(self, r, code=0):
        self.assertEqual(r.returncode, code, r.stdout + r.stderr)
        self.assertEqual(r.stderr, "", "nothing but JSON, and only on stdout")
        events = []
        for line in r.stdout.splitlines():
            obj = json.loads(line)  # every stdout line is one JSON object
            self.assertIsNone(schema_problem(obj), line)
            events.append(obj)
        self.assertTrue(events, "at least the result")
        self.assertEqual([e["event"] for e in events].count("result"), 1, r.stdout)
        self.assertEqual(events[-1]["event"], "result")
        self.assertEqual(events[-1]["ok"], code == 0)
        if code:
            self.assertEqual(events[-1]["error"]["exit_code"], code)
        return events

    def test_json_everywhere_is_only_valid_json(self):
        site = Site(self, self.small, tls=True)
        # A first mirror that has nothing (404 → failover), then the good one.
        flags = ["--index-url", site.index_url, "--mirror", site.mirror + "empty/," + site.mirror, "--no-fallback",
                 "--root", site.root, "--cacert", site.cert.ca_cert]
        run = lambda *args, code=0: self.json_lines(  # noqa: E731
            h.run_goinstall([*args, "--json"], home=site.home, timeout=60), code)
        kinds = set()
        events = run("1.21.3", *flags)
        kinds |= {e["event"] for e in events}
        self.assertTrue({"index_source", "resolved", "download_start", "attempt", "failover", "verified",
                         "extracted", "installed", "switched"} <= kinds, kinds)
        self.assertEqual(events[-1]["version"], "go1.21.3")
        events = run("1.21.3", *flags)  # already installed
        self.assertIn("already_installed", [e["event"] for e in events])
        self.assertEqual(events[-1]["already_installed"], True)
        events = run("1.99.1", *flags, code=3)  # not in the index
        self.assertEqual(events[-1]["error"]["code"], "not_found")
        events = run("1.22.0", "--sha256", "0" * 64, *flags, code=7)  # checksum disagreement
        events = run("1.22.0", *flags[:4], "--connect-timeout", "x", code=2)  # usage
        self.assertIn("--connect-timeout", events[-1]["error"]["message"])
        root = ["--root", site.root]
        for args in (["list", *root], ["current", *root], ["env", *root], ["config", *root],
                     ["ls-remote", *flags[:2], "--cacert", site.cert.ca_cert, *root],
                     ["use", "go1.21.3", *root], ["mirrors"], ["uninstall", "1.21.3", *root]):
            with self.subTest(args=args):
                kinds |= {e["event"] for e in run(*args)}
        self.assertEqual(run("current", *root, code=3)[-1]["error"]["code"], "not_found")

    def test_schema_covers_every_event_kind_and_docs_name_every_field(self):
        with open(os.path.join(REPO, "lib", "base", "src", "events.cpp")) as f:
            kinds = set(re.findall(r'return "([a-z_]+)";', f.read()))
        self.assertEqual(kinds | {"result"}, set(SCHEMA["events"]))
        with open(os.path.join(REPO, "docs", "json.md")) as f:
            doc = f.read()
        sections = dict(re.findall(r"^### `([a-z_]+)`\n(.*?)(?=^### |\Z)", doc, re.S | re.M))
        for name, spec in SCHEMA["events"].items():
            self.assertIn(name, sections, f"docs/json.md has no section for {name}")
            fields = set(spec.get("required", {}))
            for v in spec.get("variants", {}).values():
                fields |= set(v)
            fields |= set(spec.get("error", {}))
            for field in fields:
                self.assertIn(f"`{field}`", sections[name], f"docs/json.md, {name}: field {field} not described")

    # ---- quiet -----------------------------------------------------------------------------

    def test_quiet_prints_only_errors(self):
        site = Site(self, self.small, tls=True)
        flags = ["--index-url", site.index_url, "--mirror", site.mirror + "empty/," + site.mirror, "--no-fallback",
                 "--root", site.root, "--cacert", site.cert.ca_cert, "--quiet"]
        for args in (["1.21.3"], ["1.21.3"], ["1.22.0", "--reinstall"], ["use", "1.21.3"]):
            r = h.run_goinstall(args + (flags if args[0] != "use" else ["--root", site.root, "-q"]),
                                home=site.home, timeout=60)
            self.assertEqual((r.returncode, r.stdout, r.stderr), (0, "", ""), args)
        r = h.run_goinstall(["1.99.1", *flags], home=site.home, timeout=60)
        self.assertEqual((r.returncode, r.stdout), (3, ""))
        self.assertRegex(r.stderr, r"^goinstall: error: [^\n]*1\.99\.1[^\n]*\n$")
        # Query verbs still answer (that is what they were asked for), and nothing else.
        r = h.run_goinstall(["current", "--root", site.root, "-q"], home=site.home, timeout=30)
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, "go1.21.3\n", ""))

    # ---- progress --------------------------------------------------------------------------

    def drip_site(self, script):
        """A FaultServer serving the big archive with `script` faults; the index as a local file."""
        srv = fs.start_fault_server(self)
        srv.put_file(self.big.filename, self.big.path)
        srv.set_fault(script, path=self.big.filename)
        d = h.tmpfs_path(self, "goinstall-output-")
        index = os.path.join(d, "index.json")
        with open(index, "w") as f:
            f.write(h.make_index([self.big]))
        return srv, ["1.23.1", "--index-url", index, "--mirror", srv.url, "--no-fallback", "--root",
                     os.path.join(d, "root")]

    def run_on_pty(self, args, env_extra):
        """Runs goinstall with stderr on a pseudo-terminal; returns (exit code, stderr text, seconds)."""
        master, slave = pty.openpty()
        home = h.tmpfs_path(self, "goinstall-pty-home-")
        t0 = time.monotonic()
        proc = subprocess.Popen([h.goinstall_bin(), *args], env=h.isolated_env(home, env_extra), cwd=home,
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=slave,
                                start_new_session=True)
        os.close(slave)
        self.addCleanup(h.kill_process_group, proc)
        out = b""
        deadline = t0 + 60
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                out += chunk
            elif proc.poll() is not None:
                break
        os.close(master)
        code = proc.wait(timeout=10)
        return code, out.decode("utf-8", "replace"), time.monotonic() - t0

    BAR = re.compile(r"^go1\.23\.1\.linux-\w+\.tar\.gz +\d{1,3}% \[[#.]{10,30}\]  +[\d.]+ [KMG]?i?B / [\d.]+ [KMG]?i?B +"
                     r"([\d.]+ [KMG]?i?B/s|--/s)  ETA (\d+s|\d+m\d\ds|--) *  http://127\.0\.0\.1:\d+/$")

    def test_terminal_bar_redrawn_in_place_and_cleared_for_other_lines(self):
        # The first response drips for 1 s and is cut: a retry (a visible line), then a resume.
        srv, args = self.drip_site([fs.drip(160_000, max_seconds=1.0, times=1), fs.drip(160_000)])
        code, text, secs = self.run_on_pty(args + ["--max-retries", "3"], {"TERM": "xterm", "COLUMNS": "140"})
        self.assertEqual(code, 0, text)
        # Every redraw starts with CR + erase-line; a frame is what follows up to the next control.
        frames = [seg for seg in re.split(r"\r\x1b\[K", text)[1:] if seg and not seg.startswith("goinstall:")]
        self.assertGreaterEqual(len(frames), 4, text)
        for f in frames:
            self.assertRegex(f, self.BAR)
            self.assertLess(len(f), 140)
        self.assertEqual(len({len(f) for f in frames}), 1, "the line keeps its length")
        # A cap on a rate, not a deadline: load stretches `secs` (measured out here, around the
        # whole run) and so only loosens it; it separates "<= 10 redraws a second" from redrawing
        # on every chunk (hundreds a second).
        self.assertLessEqual(len(frames), 10 * secs + 2, f"{len(frames)} redraws in {secs:.1f} s")
        percents = {int(re.search(r" (\d+)% ", f).group(1)) for f in frames}
        self.assertGreaterEqual(len(percents), 3, percents)
        # Lines printed while a bar is up come after the bar was erased, never glued to it.
        lines = text.replace("\r\n", "\n").split("\n")
        retry = [ln for ln in lines if "retrying" in ln]
        self.assertEqual(len(retry), 1, text)
        self.assertTrue(retry[0].endswith(re.split(r"\r\x1b\[K", retry[0])[-1]))
        self.assertRegex(re.split(r"\r\x1b\[K", retry[0])[-1], r"^goinstall: .*retrying")
        self.assertRegex(text, r"\r\x1b\[Kgoinstall: downloaded [\d.]+ [KM]iB in [\d.]+ s \([^)]*/s\) from http://")
        self.assertEqual(len(srv.wait_for_requests(2)), 2)

    def test_plain_lines_off_a_terminal_and_on_a_dumb_one(self):
        _, args = self.drip_site(fs.drip(200_000))
        r = h.run_goinstall(args, home=h.tmpfs_path(self, "goinstall-pipe-home-"), timeout=60)
        self.assertEqual(r.returncode, 0, r.output)
        self.assertNotIn("\r", r.stderr)
        self.assertNotIn("\x1b", r.stderr)
        quarters = re.findall(r"^goinstall: downloading go1\.23\.1\.linux-\w+\.tar\.gz: (\d+)% of [\d.]+ KiB "
                              r"\([\d.]+ [KM]?i?B, [^,]+/s, ETA [^)]+\) from http://127\.0\.0\.1:\d+/$", r.stderr, re.M)
        self.assertGreaterEqual(len(quarters), 2, r.stderr)
        self.assertTrue(all(25 <= int(q) < 100 for q in quarters), quarters)
        # A cap on a rate (load lengthens r.duration, loosening it): no quarter line repeats.
        self.assertLessEqual(len(quarters), 3 + int(r.duration / 5), r.stderr)

        _, args = self.drip_site(fs.drip(400_000))
        code, text, _ = self.run_on_pty(args, {"TERM": "dumb"})
        self.assertEqual(code, 0, text)
        self.assertNotIn("\x1b", text)
        self.assertNotIn("\r\x1b", text)
        self.assertRegex(text, r"goinstall: downloaded [\d.]+ KiB in")

    def test_json_progress_at_a_bounded_rate(self):
        _, args = self.drip_site(fs.drip(200_000))
        proc, _ = h.popen_goinstall(args + ["--json"], home=h.tmpfs_path(self, "goinstall-json-home-"))
        self.addCleanup(h.kill_process_group, proc)
        t0 = time.monotonic()
        out, err = proc.communicate(timeout=60)
        secs = time.monotonic() - t0
        r = subprocess.CompletedProcess(args, proc.returncode, out, err)
        events = self.json_lines(r)
        progress = [e for e in events if e["event"] == "progress"]
        self.assertGreaterEqual(len(progress), 2)
        # A cap on a rate (load lengthens `secs`, loosening it): <= 2 a second, not one per chunk.
        self.assertLessEqual(len(progress), 2 * secs + 2, f"{len(progress)} in {secs:.1f} s")
        self.assertEqual(progress[-1]["bytes"], progress[-1]["total"])
        self.assertEqual(progress[-1]["total"], self.big.size)

    # ---- exit codes ------------------------------------------------------------------------

    def test_exit_code_table_in_readme_matches_help_and_source(self):
        with open(os.path.join(REPO, "README.md")) as f:
            readme = f.read()
        section = readme.split("### Exit codes", 1)[1].split("\n#", 1)[0]
        documented = {int(c): m.replace("`", "") for c, m in re.findall(r"^\| (\d+) \| (.+?) \|$", section, re.M)}
        r = h.run_goinstall(["--help"], timeout=30)
        self.assertEqual(r.returncode, 0)
        helped = {int(c): m for c, m in re.findall(r"^ +(\d+)  (.+)$", r.stdout.split("Exit codes:", 1)[1], re.M)}
        with open(os.path.join(REPO, "installer", "exit_codes.hpp")) as f:
            source = {int(v) for v in re.findall(r"k_exit_\w+ = (\d+),", f.read())}
        self.assertEqual(set(documented), source)
        self.assertEqual(documented, helped)
        # Every verb's --help carries the same table.
        r = h.run_goinstall(["install", "--help"], timeout=30)
        self.assertIn(r.stdout.split("Exit codes:", 1)[1], h.run_goinstall(["--help"], timeout=30).stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
