#!/usr/bin/env python3
"""Result cache for scripts/lint, as ccache is for the compiler.

clang-tidy's verdict on a file depends only on that file, the headers it includes, the compile
command, .clang-tidy and clang-tidy itself. This keys each file on all of those, using the
dependency files that the optimised build (build/test) wrote for the same sources, and remembers
the keys of files found clean. A file whose key is remembered is not linted again.

  lint_cache.py pending ROOT LINT_BUILD DEP_BUILD TIDY FILE...   prints the files to lint
  lint_cache.py record  ROOT LINT_BUILD DEP_BUILD TIDY FILE...   remembers these files as clean

Files without a dependency file (not built yet) are always linted. The cache lives outside the
checkout ($XDG_CACHE_HOME or ~/.cache, goinstall-lint/), so a fresh clone on the same machine uses
it; paths inside the checkout are hashed relative to it. GOINSTALL_LINT_CACHE=0 turns it off.
"""
import hashlib
import json
import os
import subprocess
import sys


def cache_dir():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "goinstall-lint")


def depfiles(root, dep_build):
    """Maps each source file (absolute) to the headers it included, from the build's *.o.d files."""
    out = {}
    for d, _, names in os.walk(dep_build):
        for n in names:
            if not n.endswith(".o.d"):
                continue
            try:
                text = open(os.path.join(d, n), encoding="utf-8", errors="replace").read()
            except OSError:
                continue
            paths = text.replace("\\\n", " ").split(":", 1)[-1].split()
            resolved = []
            for p in paths:
                if not os.path.isabs(p):
                    # The compiler ran in a folder under ROOT/build: the path climbs to ROOT.
                    while p.startswith("../"):
                        p = p[3:]
                    p = os.path.join(root, p)
                resolved.append(os.path.normpath(p))
            if resolved:
                out[resolved[0]] = resolved
    return out


def file_key(path, root):
    rel = os.path.relpath(path, root)
    if rel.startswith(".."):  # a system header: its identity, not its bytes
        st = os.stat(path)
        return f"{path} {st.st_size} {st.st_mtime_ns}"
    with open(path, "rb") as f:
        return rel + " " + hashlib.sha256(f.read()).hexdigest()


def keys(root, lint_build, dep_build, tidy, files):
    commands = {}
    for e in json.load(open(os.path.join(lint_build, "compile_commands.json"))):
        commands[os.path.normpath(e["file"])] = e.get("command") or " ".join(e.get("arguments", []))
    version = subprocess.run([tidy, "--version"], capture_output=True, text=True).stdout
    config = open(os.path.join(root, ".clang-tidy"), "rb").read().decode("utf-8", "replace")
    deps = depfiles(root, dep_build)
    out = {}
    for f in files:
        f = os.path.normpath(os.path.abspath(f))
        if f not in deps or f not in commands:
            out[f] = None
            continue
        h = hashlib.sha256()
        for part in [version, config, commands[f].replace(root, "."), os.path.relpath(f, root)]:
            h.update(part.encode() + b"\0")
        try:
            # Sorted by the key text (checkout-relative paths), so that clones agree.
            for k in sorted({file_key(d, root) for d in deps[f]}):
                h.update(k.encode() + b"\0")
        except OSError:  # a header gone since that build: lint it
            out[f] = None
            continue
        out[f] = h.hexdigest()
    return out


def main():
    mode, root, lint_build, dep_build, tidy, *files = sys.argv[1:]
    root = os.path.normpath(root)
    enabled = os.environ.get("GOINSTALL_LINT_CACHE", "1") != "0"
    ks = keys(root, lint_build, dep_build, tidy, files) if enabled else {f: None for f in files}
    cdir = cache_dir()
    if mode == "pending":
        for f, k in ks.items():
            if k is None or not os.path.exists(os.path.join(cdir, k[:2], k)):
                print(f)
    elif mode == "record":
        for k in ks.values():
            if k is None:
                continue
            os.makedirs(os.path.join(cdir, k[:2]), exist_ok=True)
            open(os.path.join(cdir, k[:2], k), "w").close()
    else:
        sys.exit(f"lint_cache.py: unknown mode {mode}")


if __name__ == "__main__":
    main()
