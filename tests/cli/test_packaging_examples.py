"""packaging/examples/: the Dockerfile, cloud-init and Ansible files cannot be run here (they need
Debian's archive, a VM or a fleet), so this checks what can go stale: the YAML parses into the
expected shape, repository paths they use exist, and every goinstall flag they pass is one the
binary's --help lists. nginx-cache.conf is run for real by tests/integration/test_fleet_cache.py."""
import os
import re
import shlex
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
import goinstall_harness as h  # noqa: E402

try:
    import yaml  # Debian's python3-yaml (scripts/deps.sh --test); not in the standard library
except ImportError:  # pragma: no cover
    yaml = None

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
EXAMPLES = os.path.join(REPO, "packaging", "examples")


def read(name: str) -> str:
    with open(os.path.join(EXAMPLES, name)) as f:
        return f.read()


class PackagingExamples(unittest.TestCase):
    _help = {}

    def help_text(self, verb: str) -> str:
        if verb not in self._help:
            r = h.run_goinstall([verb, "--help"])
            self.assertEqual(r.returncode, 0, r.output)
            self._help[verb] = r.stdout
        return self._help[verb]

    def check_goinstall_argv(self, argv, where):
        """argv[0] is goinstall; the verb is argv[1] when it is a word, else install."""
        verb = argv[1] if len(argv) > 1 and re.fullmatch(r"[a-z][a-z-]*", argv[1]) else "install"
        flags = [a.split("=")[0] for a in argv[1:] if a.startswith("--")]
        self.assertTrue(flags, where)
        for flag in flags:
            self.assertRegex(self.help_text(verb), rf"(^|[\s,]){re.escape(flag)}\b", f"{where}: {flag}")
        return flags

    def test_dockerfile(self):
        text = read("Dockerfile")
        self.assertTrue(text.startswith("# syntax=docker/dockerfile:1"))
        joined = re.sub(r"\\\n", " ", text)
        runs = [line[4:] for line in joined.splitlines() if line.startswith("RUN ")]
        goinstall = [shlex.split(r) for r in runs if r.startswith("goinstall ")]
        self.assertEqual(len(goinstall), 1)
        flags = self.check_goinstall_argv(goinstall[0], "Dockerfile")
        self.assertIn("--json", flags)
        for arg in ("GO_VERSION", "GOINSTALL_MIRROR", "GOINSTALL_INDEX_URL"):
            self.assertRegex(text, rf"(?m)^ARG {arg}=")
            self.assertIn(f'"${arg}"', joined)  # passed to the goinstall line
        for path in re.findall(r"/src/([\w./-]+)", joined):
            self.assertTrue(os.path.exists(os.path.join(REPO, path)), path)
        with open(os.path.join(REPO, "CMakeLists.txt")) as f:
            self.assertIn("option(GOINSTALL_TESTS", f.read())

    @unittest.skipIf(yaml is None, "PyYAML (python3-yaml) is not installed: cannot parse the YAML examples")
    def test_cloud_init(self):
        text = read("cloud-init.yaml")
        self.assertTrue(text.startswith("#cloud-config\n"))
        doc = yaml.safe_load(text)
        self.assertIsInstance(doc["runcmd"], list)
        cmds = [c for c in doc["runcmd"] if isinstance(c, list) and str(c[0]).endswith("/goinstall")]
        self.assertEqual(len(cmds), 1)
        self.check_goinstall_argv([str(a) for a in cmds[0]], "cloud-init.yaml")
        self.assertTrue(os.path.exists(os.path.join(REPO, "scripts", "deps.sh")))

    @unittest.skipIf(yaml is None, "PyYAML (python3-yaml) is not installed: cannot parse the YAML examples")
    def test_ansible_tasks(self):
        tasks = yaml.safe_load(read("ansible-task.yml"))
        self.assertIsInstance(tasks, list)
        seen = 0
        for task in tasks:
            self.assertIn("name", task)
            cmd = task.get("ansible.builtin.command")
            if cmd:
                argv = [re.sub(r"\{\{.*?\}\}", "X", str(a)) for a in cmd["argv"]]
                self.assertTrue(argv[0].endswith("/goinstall"))
                self.check_goinstall_argv(argv, task["name"])
                seen += 1
        self.assertEqual(seen, 2)

    def test_yaml_is_plain(self):
        # Holds without PyYAML too: spaces only, no tabs, no trailing whitespace.
        for name in ("cloud-init.yaml", "ansible-task.yml"):
            for n, line in enumerate(read(name).splitlines(), 1):
                self.assertNotIn("\t", line, f"{name}:{n}")
                self.assertEqual(line, line.rstrip(), f"{name}:{n}")


if __name__ == "__main__":
    unittest.main(verbosity=2)
