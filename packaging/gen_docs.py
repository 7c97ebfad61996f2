#!/usr/bin/env python3
"""Generates the man page and the bash, zsh and fish completions from goinstall's own --help.

    gen_docs.py GOINSTALL_BINARY OUTDIR

writes OUTDIR/goinstall.1, goinstall.1.gz, goinstall.bash, _goinstall (zsh), goinstall.fish.
The binary is the single source: `goinstall --help` names the verbs and the exit codes, and
`goinstall VERB --help` (cxxopts' layout) gives each verb's summary, usage, options and examples.
A verb or option added to the CLI therefore reaches the man page and the completions at the next
build, and tests/integration/test_packaging.py checks that nothing was lost on the way.
Standard library only."""
import gzip
import os
import re
import subprocess
import sys

OPTION = re.compile(r"^\s{1,8}(?:-(\w), )?\s*--([\w-]+)(?: (\S+))?(?:\s{2,}(.*))?$")
GROUP = re.compile(r"^ (\S.*) options:$")


def run_help(binary, *args):
    r = subprocess.run([binary, *args, "--help"] if args else [binary, "--help"], capture_output=True,
                       text=True, timeout=30, env={**os.environ, "LC_ALL": "C.UTF-8"})
    if r.returncode != 0:
        raise SystemExit(f"gen_docs: {binary} {' '.join(args)} --help exited {r.returncode}: {r.stderr.strip()}")
    return r.stdout


def parse_main(text):
    """(summary lines of each verb, exit codes [(code, meaning)], VERSION paragraph)."""
    verbs, codes, version_note = [], [], []
    section = None
    for line in text.splitlines():
        if line in ("Verbs:", "Exit codes:", "Examples:"):
            section = line
            continue
        if line.startswith("VERSION:"):
            section = "VERSION"
        if not line.strip():
            if section != "VERSION":
                section = None
            continue
        if section == "Verbs:":
            m = re.match(r"^  (\S+)(.*?)\s{2,}(\S.*)$", line) or re.match(r"^  (\S+)(\s\S+)?\s+(\S.*)$", line)
            if m:
                verbs.append((m.group(1), (m.group(1) + (m.group(2) or "")).strip(), m.group(3).strip()))
        elif section == "Exit codes:":
            m = re.match(r"^\s+(\d+)\s+(.*)$", line)
            if m:
                codes.append((int(m.group(1)), m.group(2)))
        elif section == "VERSION":
            version_note.append(line.strip())
    return verbs, codes, " ".join(version_note)


def parse_verb(text):
    """{description, usage, groups: [(name, [option])], examples}; option = {short, long, arg, help}."""
    lines = text.splitlines()
    desc, usage, groups, examples = [], "", [], []
    i = 0
    while i < len(lines) and lines[i] != "Usage:":
        if not lines[i].startswith("Usage:"):
            desc.append(lines[i])
        i += 1
    if i + 1 < len(lines):
        usage = lines[i + 1].strip()
        i += 2
    current = None
    while i < len(lines):
        line = lines[i]
        i += 1
        if line == "Examples:":
            while i < len(lines) and lines[i].strip():
                examples.append(lines[i].strip())
                i += 1
            continue
        if line == "Exit codes:":
            break
        g = GROUP.match(line)
        if g:
            current = (g.group(1), [])
            groups.append(current)
            continue
        m = OPTION.match(line)
        if m and current is not None:
            current[1].append({"short": m.group(1), "long": m.group(2), "arg": m.group(3),
                               "help": (m.group(4) or "").strip()})
            continue
        if line.strip() and current is not None and current[1] and line.startswith(" " * 10):
            current[1][-1]["help"] += " " + line.strip()
    usage = usage.replace("[OPTION...]", "[OPTIONS]").replace("positional parameters", "").strip()
    return {"description": " ".join(l.strip() for l in desc if l.strip()), "usage": usage, "groups": groups,
            "examples": examples}


def options_of(verb):
    return [o for _, opts in verb["groups"] for o in opts]


# ---- man page ------------------------------------------------------------------------------------

def roff(text):
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return re.sub(r"^([.'])", r"\\&\1", text, flags=re.M)


def option_words(o):
    words = (f"\\fB\\-{o['short']}\\fR, " if o["short"] else "") + f"\\fB\\-\\-{roff(o['long'])}\\fR"
    if o["arg"]:
        words += f" \\fI{roff(o['arg'])}\\fR"
    return words


def man_page(version, verbs, details, codes, version_note):
    out = [f'.TH GOINSTALL 1 "" "goinstall {version}" "User Commands"',
           ".SH NAME", "goinstall \\- a resilient installer for the Go toolchain",
           ".SH SYNOPSIS", ".B goinstall", "[\\fIVERB\\fR] [\\fIARGS\\fR] [\\fIOPTIONS\\fR]",
           ".SH DESCRIPTION",
           roff("goinstall reads the official Go release index, picks the archive for this OS and architecture, "
                "downloads it through a failover engine over mirrors (retries, timeouts, proxies, resumable "
                "transfers), verifies its SHA-256 against the official index, extracts it safely and switches to "
                "it atomically. A failed or interrupted install never leaves a broken toolchain and never removes "
                "a working one. Without a verb, goinstall installs: the VERSION given, or the project's."),
           ".PP", roff(version_note)]
    out.append(".SH COMMANDS")
    for name, synopsis, summary in verbs:
        d = details[name]
        out += [".TP", f"\\fB{roff(d['usage'] or 'goinstall ' + synopsis)}\\fR",
                roff(d["description"] or summary)]
        if options_of(d):
            out += [".RS", ".PP", "Options: " + ", ".join(f"\\fB\\-\\-{roff(o['long'])}\\fR" for o in options_of(d)
                                                          if o["long"] != "help") + ".", ".RE"]
    # Every option once, with the verbs that accept it.
    seen, order = {}, []
    for name, _, _ in verbs:
        for o in options_of(details[name]):
            if o["long"] not in seen:
                seen[o["long"]] = (o, [])
                order.append(o["long"])
            seen[o["long"]][1].append(name)
    out.append(".SH OPTIONS")
    for long in order:
        o, where = seen[long]
        scope = "" if len(where) == len(verbs) else f" ({', '.join(where)})"
        out += [".TP", option_words(o), roff(o["help"] + scope)]
    env_vars = sorted(set(re.findall(r"\b(GOINSTALL_[A-Z_]+)\b", " ".join(seen[k][0]["help"] for k in order))))
    out += [".SH ENVIRONMENT", roff("Settings come from flags, then GOINSTALL_* variables, then the config file, "
                                    "then defaults ('goinstall config' shows which).")]
    for v in env_vars:
        users = [k for k in order if v in seen[k][0]["help"]]
        out += [".TP", f"\\fB{roff(v)}\\fR", roff("as --" + ", --".join(users))]
    for v, meaning in (("HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, NO_PROXY", "proxies, as curl reads them (lowercase forms first)"),
                       ("SSL_CERT_FILE, SSL_CERT_DIR", "trusted CA certificates"),
                       ("XDG_DATA_HOME, XDG_CACHE_HOME, XDG_CONFIG_HOME", "default locations of the root, cache and config"),
                       ("NO_COLOR", "honoured (goinstall uses no colour)")):
        out += [".TP", f"\\fB{roff(v)}\\fR", roff(meaning)]
    out += [".SH FILES",
            ".TP", "\\fI$XDG_DATA_HOME/goinstall\\fR", roff("toolchains (go1.21.3/ ...) and the current symlink"),
            ".TP", "\\fI$XDG_CONFIG_HOME/goinstall/config.json\\fR", roff("settings; mirrors.json beside it extends the mirror catalogue"),
            ".TP", "\\fI$XDG_CACHE_HOME/goinstall\\fR", roff("the cached release index")]
    out.append(".SH EXIT STATUS")
    for code, meaning in codes:
        out += [".TP", f"\\fB{code}\\fR", roff(meaning)]
    out.append(".SH EXAMPLES")
    for name, _, _ in verbs:
        for ex in details[name]["examples"]:
            out += [".PP", ".nf", roff(ex), ".fi"]
    out += [".SH SEE ALSO", "\\fBgo\\fR(1), \\fBcurl\\fR(1)"]
    return "\n".join(out) + "\n"


# ---- completions ---------------------------------------------------------------------------------

VALUE_WORDS = {"shell": "bash zsh sh fish powershell", "proxy-auth": "basic digest ntlm negotiate any"}
PATH_ARGS = {"FILE", "DIR"}


def bash_completion(verbs, details):
    names = " ".join(n for n, _, _ in verbs)
    cases = []
    for name, _, _ in verbs:
        opts = " ".join(("-" + o["short"] + " " if o["short"] else "") + "--" + o["long"] for o in options_of(details[name]))
        cases.append(f"        {name}) opts='{opts}' ;;")
    with_arg = sorted({"--" + o["long"] for n, _, _ in verbs for o in options_of(details[n]) if o["arg"]})
    paths = sorted({"--" + o["long"] for n, _, _ in verbs for o in options_of(details[n]) if o["arg"] in PATH_ARGS})
    values = "\n".join(f"        --{k}) COMPREPLY=($(compgen -W '{v}' -- \"$cur\")); return ;;" for k, v in VALUE_WORDS.items())
    return f"""# bash completion for goinstall (generated from 'goinstall --help' by packaging/gen_docs.py)
_goinstall() {{
    local cur prev verb i opts
    COMPREPLY=()
    cur=${{COMP_WORDS[COMP_CWORD]}}
    prev=${{COMP_WORDS[COMP_CWORD-1]}}
    verb=
    for ((i = 1; i < COMP_CWORD; i++)); do
        case ${{COMP_WORDS[i]}} in -*) ;; *) verb=${{COMP_WORDS[i]}}; break ;; esac
    done
    case $prev in
{values}
        {'|'.join(paths) if paths else '--never'}) COMPREPLY=($(compgen -f -- "$cur")); return ;;
        {'|'.join(with_arg) if with_arg else '--never'}) return ;;
    esac
    if [[ -z $verb ]]; then
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W '--help --version' -- "$cur"))
        else
            COMPREPLY=($(compgen -W '{names} latest' -- "$cur"))
        fi
        return
    fi
    case $verb in
{chr(10).join(cases)}
        *) opts='{" ".join("--" + o["long"] for o in options_of(details["install"]))}' ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    elif [[ $verb == use || $verb == uninstall ]]; then
        COMPREPLY=($(compgen -W "$(goinstall list --quiet 2>/dev/null | cut -c3- | cut -f1)" -- "$cur"))
    elif [[ $verb == mirror ]]; then
        COMPREPLY=($(compgen -W 'sync' -- "$cur"))
    fi
}}
complete -o default -F _goinstall goinstall
"""


def short_help(text, limit=80):
    """The help text up to its first parenthesis or sentence end, cut at a word within `limit`."""
    text = re.split(r" \(|\. ", text, maxsplit=1)[0].rstrip(".")
    if len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0] + "..."
    return text


def zsh_quote(text):
    return text.replace("\\", "\\\\").replace("'", "'\\''").replace("[", "\\[").replace("]", "\\]").replace(":", "\\:")


def zsh_completion(verbs, details):
    verb_list = "\n".join(f"        '{n}:{zsh_quote(s)}'" for n, _, s in verbs)
    cases = []
    for name, _, _ in verbs:
        specs = []
        for o in options_of(details[name]):
            action = ""
            if o["arg"]:
                if o["long"] in VALUE_WORDS:
                    action = f":{zsh_quote(o['arg'])}:({VALUE_WORDS[o['long']]})"
                elif o["arg"] == "DIR":
                    action = f":{o['arg']}:_files -/"
                elif o["arg"] == "FILE":
                    action = f":{o['arg']}:_files"
                else:
                    action = f":{zsh_quote(o['arg'])}: "
            text = f"[{zsh_quote(short_help(o['help']))}]{action}"
            if o["short"]:
                specs.append(f"'(-{o['short']} --{o['long']})'{{-{o['short']},--{o['long']}}}'{text}'")
            else:
                specs.append(f"'--{o['long']}{text}'")
        body = " \\\n                ".join(specs)
        cases.append(f"        {name})\n            _arguments -s {body} '*: :_files' ;;")
    return f"""#compdef goinstall
# zsh completion for goinstall (generated from 'goinstall --help' by packaging/gen_docs.py)
_goinstall() {{
    local -a verbs
    verbs=(
{verb_list}
    )
    if (( CURRENT == 2 )); then
        _describe -t verbs 'goinstall verb' verbs
        return
    fi
    local verb=$words[2]
    shift words
    (( CURRENT-- ))
    case $verb in
{chr(10).join(cases)}
    esac
}}
_goinstall "$@"
"""


def fish_completion(verbs, details):
    names = " ".join(n for n, _, _ in verbs)
    out = ["# fish completion for goinstall (generated from 'goinstall --help' by packaging/gen_docs.py)",
           "complete -c goinstall -f"]
    for name, _, summary in verbs:
        out.append(f"complete -c goinstall -n 'not __fish_seen_subcommand_from {names}' -a {name} "
                   f"-d '{summary.replace(chr(39), chr(92) + chr(39))}'")
    for name, _, _ in verbs:
        for o in options_of(details[name]):
            parts = [f"complete -c goinstall -n '__fish_seen_subcommand_from {name}'", f"-l {o['long']}"]
            if o["short"]:
                parts.append(f"-s {o['short']}")
            if o["arg"]:
                if o["long"] in VALUE_WORDS:
                    parts.append(f"-x -a '{VALUE_WORDS[o['long']]}'")
                elif o["arg"] in PATH_ARGS:
                    parts.append("-r -F")
                else:
                    parts.append("-x")
            parts.append("-d '" + short_help(o["help"]).replace("\\", "\\\\").replace("'", "\\'") + "'")
            out.append(" ".join(parts))
    out.append("complete -c goinstall -n '__fish_seen_subcommand_from use uninstall' "
               "-a '(goinstall list --quiet 2>/dev/null | string replace -r \"^[* ] (\\\\S+).*\" \"$1\")'")
    out.append("complete -c goinstall -n '__fish_seen_subcommand_from mirror' -a sync")
    return "\n".join(out) + "\n"


def main():
    if len(sys.argv) != 3:
        raise SystemExit("usage: gen_docs.py GOINSTALL_BINARY OUTDIR")
    binary, outdir = sys.argv[1], sys.argv[2]
    version = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30).stdout.split()[-1]
    verbs, codes, version_note = parse_main(run_help(binary))
    if not verbs or not codes:
        raise SystemExit("gen_docs: could not read the verbs and exit codes from goinstall --help")
    details = {name: parse_verb(run_help(binary, name)) for name, _, _ in verbs}
    os.makedirs(outdir, exist_ok=True)
    page = man_page(version, verbs, details, codes, version_note)
    files = {"goinstall.1": page, "goinstall.bash": bash_completion(verbs, details),
             "_goinstall": zsh_completion(verbs, details), "goinstall.fish": fish_completion(verbs, details)}
    for name, text in files.items():
        with open(os.path.join(outdir, name), "w") as f:
            f.write(text)
    with open(os.path.join(outdir, "goinstall.1.gz"), "wb") as f:
        f.write(gzip.compress(page.encode(), compresslevel=9, mtime=0))


if __name__ == "__main__":
    main()
