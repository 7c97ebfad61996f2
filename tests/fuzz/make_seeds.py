#!/usr/bin/env python3
"""Writes the seed corpora tests/fuzz/corpus/<target>/ (run once; the output is committed).

Real data comes from ../shared/fixtures (provenance in its SOURCES.md) and from the project's own
tests/fixtures and lib/download/data; only small files and slices are copied. Hand-written seeds
cover the grammar's corners. Files are named seed-*; inputs found by fuzzing are kept beside them
as crash-* / regress-* files (never rewritten by this script).
Usage: tests/fuzz/make_seeds.py [SHARED_FIXTURES_DIR]
"""
import json
import pathlib
import re
import sys

here = pathlib.Path(__file__).resolve().parent
root = here.parent.parent
shared = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else root.parent / "shared" / "fixtures")
corpus = here / "corpus"


def write(target, name, data):
    d = corpus / target
    d.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    (d / f"seed-{name}").write_bytes(data)


def index_seeds():
    # Whole small raw indexes (23 KB and 8 KB), byte copies.
    for f in ["go-dl-index.json", "go-dl-index-2019-12-14.json"]:
        write("index", f, (shared / f).read_bytes())
    # Slices of the 2 MB include=all mirror: one release object each of the kinds that matter,
    # re-serialised in go.dev's 1-space layout (objects are byte-identical per SOURCES.md).
    releases = json.loads((shared / "go-dl-index-all.json").read_text())
    wanted = {"go1": "oldest", "go1.21rc4": "rc", "go1.8beta2": "beta", "go1.9.2rc2": "patch-rc",
              "go1.20": "no-patch", "go1.21.0": "new-scheme"}
    for r in releases:
        if r["version"] in wanted:
            small = dict(r, files=r["files"][:3])
            write("index", f"all-{wanted[r['version']]}.json", json.dumps([small], indent=1) + "\n")
    empty_sha = [f for r in releases for f in r["files"] if f.get("sha256", "x") == ""][:2]
    if empty_sha:
        write("index", "all-empty-sha256.json",
              json.dumps([{"version": "go1.2.2", "stable": True, "files": empty_sha}], indent=1) + "\n")
    hand = {
        "empty-array": "[]",
        "not-array": '{"version": "go1.21.0"}',
        "html": "<!DOCTYPE html><html>",
        "bad-filename": '[{"version":"go1.21.0","stable":true,"files":[{"filename":"../x","sha256":"","size":1}]}]',
        "dup-versions": '[{"version":"go1.20","files":[]},{"version":"go1.20.0","files":[]}]',
        "unparsable-version": '[{"version":"weekly.2012-03-27","files":[]},{"version":"go1.21rc4","stable":false,"files":[]}]',
        "wrong-types": '[{"version":"go1.21.0","stable":"yes","files":[{"filename":"a","size":-1}]}]',
        "unicode": '[{"version":"go1.21.0","files":[{"filename":"g\\u00f6.tar.gz","os":"\\ud83d\\ude00"}]}]',
        "truncated": '[{"version":"go1.21.0","files":[{"filename":"a.tar.gz"',
    }
    for k, v in hand.items():
        write("index", k, v)


def version_seeds():
    lines = (shared / "toolchain-module-versions-ustc-2024-06.txt").read_text().split()
    seen = []
    for line in lines:  # v0.0.1-go1.21rc4.linux-amd64 → go1.21rc4
        m = re.match(r"v0\.0\.1-(go\d+(?:\.\d+)*(?:(?:rc|beta)\d+)?)\.", line)
        if m and m.group(1) not in seen:
            seen.append(m.group(1))
    for v in seen[:: max(1, len(seen) // 24)]:
        write("version", v, v + "\n" + seen[-1])
    info = (shared / "go-dev-VERSION-m-text.txt").read_text()
    write("version", "VERSION-m-text", info)
    for k, v in {"latest": "latest\nstable", "spaces": "  1.21 \n go1.21.0", "line": "1.21\n1.20",
                 "go1": "go1\n1.0", "rc": "1.22rc1\ngo1.22beta2", "bad": "1.x\ngo1.21.3.4",
                 "huge": "1.999999.999999\n1.1000000", "zeros": "go1.020\n1.21.00",
                 "new-scheme": "go2\ngo2.0rc1", "upper": "LATEST\nGo1.21"}.items():
        write("version", k, v)


def url_seeds():
    catalog = json.loads((root / "lib/download/data/mirrors.json").read_text())
    for m in catalog["mirrors"]:
        write("url", "mirror-" + m["name"], m["url"])
        if m.get("index"):
            write("url", "index-" + m["name"], m["index"])
    for k, v in {"creds": "https://user:pa%40ss@proxy.corp.example:3128/x?token=abc&b=1#frag",
                 "user-only": "http://user@[::1]:8080/",
                 "file": "file:///tmp/go.tar.gz", "no-scheme": "user:secret@host:1",
                 "secret-params": "https://x.example/a?X-Amz-Signature=ff&apikey=1&SessionToken=t",
                 "utf8": "https://ex\u00e4mple.test/\u00e9\u00e0\x01\x7f\xff",
                 "bad-port": "http://h:99999/", "at-in-path": "http://h/a@b:c"}.items():
        write("url", k, v)


def no_proxy_seeds():
    for k, v in {
        "domain": "example.com,.corp.example\nfoo.example.com\n443\n",
        "wildcard": "*\nanything.test\n\n",
        "star-among": "a.test, *, b.test\nx\n80\n",
        "ports": "proxy.corp:3128,[::1]:8080,10.0.0.1:80\nproxy.corp\n3128\nother.test",
        "cidr": "10.0.0.0/8 fd00::/8 [fe80::]/10 0.0.0.0/0\n10.1.2.3\n443\n192.168.0.0/16",
        "v6": "::1,0:0:0:0:0:0:0:2,[2001:db8::1]\n[2001:db8::1]\n443\n",
        "loopback": "\nlocalhost.\n\n", "mapped": "\n::ffff:127.0.0.1\n8080\n",
        "trailing-dot": "example.com.\nEXAMPLE.COM\n443\n",
        "bad-entries": "10.0.0.0/33,1.2.3.4/x,[::1,host:99999,@@,*:80\nhost\n1\n",
        "ip-trailing-dot": "1.2.3.4\n1.2.3.4\n443\n",
    }.items():
        write("no_proxy", k, v)


def proxy_url_seeds():
    for k, v in {
        "plain": "proxy.corp.example:3128\n\n\n",
        "creds": "http://user:p%40ss@proxy.corp.example:3128/\nhttp\nuser\n\nproxy:3128",
        "socks": "socks5h://[::1]:1080\nsocks5h\nu\npw\n[::1]:1080",
        "socks-default": "SOCKS://proxy\nsocks\n\n\nproxy",
        "bad-port": "http://user:pw\nhttp\nuser\npw\nhost:pw",
        "path": "https://proxy/x?y#z\nhttps\na\nb\nh/x",
        "pac-answer": "PROXY a:1; SOCKS5 b:2; DIRECT",
        "pac-answer-junk": "QUIC x:1;; proxy ; HTTPS  h:443  ;direct",
    }.items():
        write("proxy_url", k, v)


def http_headers_seeds():
    for k, v in {
        "range": "bytes 0-499/1234", "range-star-total": "bytes */1234", "range-unknown-total": "bytes 500-999/*",
        "range-bad": "bytes 5-4/10", "range-huge": "bytes 0-18446744073709551614/18446744073709551615",
        "date": "Sun, 06 Nov 1994 08:49:37 GMT", "date-future": "Wed, 21 Oct 2037 07:28:00 GMT",
        "date-leap": "Sat, 29 Feb 2028 23:59:60 GMT", "retry-seconds": "120", "retry-spaces": "  3600 ",
        "date-obsolete": "Sunday, 06-Nov-94 08:49:37 GMT", "date-asctime": "Sun Nov  6 08:49:37 1994",
    }.items():
        write("http_headers", k, v)


def catalog_seeds():
    write("catalog", "builtin-mirrors.json", (root / "lib/download/data/mirrors.json").read_bytes())
    for k, v in {
        "add": {"mirrors": [{"name": "corp", "url": "https://artifacts.corp.example/go/", "region": "eu"}]},
        "override": {"mirrors": [{"name": "aliyun", "enabled": False}, {"name": "official", "status": "stale"}]},
        "only-mine": {"builtin": False, "mirrors": [{"name": "local", "url": "file:///srv/go/",
                                                    "index": "file:///srv/go/index.json", "serves": ["archives"]}]},
        "all-disabled": {"builtin": False, "mirrors": [{"name": "x", "url": "http://x/", "status": "disabled"}]},
        "bad-key": {"mirrors": [{"name": "x", "url": "http://x/", "colour": "red"}]},
        "bad-url": {"mirrors": [{"name": "x", "url": "ftp://x/"}]},
    }.items():
        write("catalog", k, json.dumps(v))


def system_proxy_seeds():
    d = root / "tests/fixtures/system_proxy"
    kinds = {"gsettings": "gsettings", "kioslaverc": "kde", "sysconfig": "sysconfig", "scutil": "scutil"}
    for f in sorted(d.iterdir()):
        kind = next(v for k, v in kinds.items() if f.name.startswith(k))
        write("system_proxy", f.name, kind.encode() + b"\n" + f.read_bytes())
    write("system_proxy", "windows-per-scheme", "windows\n1\nhttp=a:1;https=b:2;socks=c:3\n<local>;*.corp\n")
    write("system_proxy", "windows-pac", "windows\n0\n\n\nhttp://wpad/wpad.dat")
    write("system_proxy", "windows-all", "windows\n1\nproxy:8080\n;;\n")


def entry_path_seeds():
    for k, v in {
        "plain": "go/bin/go\ngo\n\n", "dots": "./go//bin/go/\ngo\n../x\n", "escape": "go/../../etc/passwd\ngo\n\n",
        "abs": "/etc/passwd\n\n\n", "zip-drive": "C:\\go\\bin\ngo\n\nz", "link": "go/pkg/tool/x\ngo\n../../bin/go\n",
        "link-escape": "go/a\ngo\n../../x\n", "link-name-dotdot": "go/d/l\ngo\nd/../../x\n",
        "top-dot": "go\n./go/\n.\n", "nul": "go/a\x00b\ngo\n\n",
    }.items():
        write("entry_path", k, v)


def pac_seeds():
    write("pac", "corporate.pac", """function FindProxyForURL(url, host) {
    host = host.toLowerCase();
    if (isPlainHostName(host)) return "DIRECT";
    if (shExpMatch(host, "*.corp") || dnsDomainIs(host, ".intranet.example.com")) return "DIRECT";
    if (isInNet(host, "10.0.0.0", "255.0.0.0")) return "DIRECT";
    if (url.substring(0, 4) == "ftp:") return "DIRECT";
    return "PROXY proxy.example.com:3128; DIRECT";
}
""")
    write("pac", "helpers.pac", """function FindProxyForURL(url, host) {
    if (localHostOrDomainIs(host, "www.netscape.com") || dnsDomainLevels(host) > 3) return "DIRECT";
    if (weekdayRange("MON", "FRI") && timeRange(8, 18) && dateRange("JAN", "DEC")) return "SOCKS5 s:1080";
    if (isResolvable(host) || dnsResolve("[::1]") == "::1" || myIpAddress() == "127.0.0.1") return "HTTPS h:443";
    alert(url);
    return "PROXY a:1; DIRECT";
}
""")
    write("pac", "loop.pac", "function FindProxyForURL(u, h) { for (;;) { try { while (1) {} } catch (e) {} } }")
    write("pac", "memory.pac", "var a = []; function FindProxyForURL(u, h) { for (;;) a.push(new Array(1e6).join('x')); }")
    write("pac", "throws.pac", "function FindProxyForURL(u, h) { throw new Error('no'); }")
    write("pac", "not-string.pac", "function FindProxyForURL(u, h) { return 42; }")
    write("pac", "no-function.pac", "var FindProxyForURL = 1;")


def config_seeds():
    for k, v in {
        "full": {"root": "~/sdk", "proxy": "http://user:Mk7pQ2zW@proxy.corp.example:3128",
                 "mirrors": ["aliyun", "https://u:Mk7pQ2zW@artifacts.corp.example/go/"],
                 "connect_timeout": 2.5, "no_proxy_hosts": "localhost,.corp.example", "max_retries": 3},
        "comma": {"mirrors": ["https://u:Mk7pQ2zW@a.example/,b"]},
        "empty-proxy": {"proxy": " "}, "wrong-type": {"proxy": 3}, "unknown": {"colour": "red"},
        "relative": {"cacert": "certs/ca.pem", "root": "/opt/go"},
    }.items():
        write("config", k, json.dumps(v))
    write("config", "broken", '{"proxy": "http://u:Mk7pQ2zW@p:1",\n "root": ')
    write("config", "not-object", '["root"]')


if __name__ == "__main__":
    for fn in [index_seeds, version_seeds, url_seeds, no_proxy_seeds, proxy_url_seeds, http_headers_seeds,
               catalog_seeds, system_proxy_seeds, entry_path_seeds, pac_seeds, config_seeds]:
        fn()
    for d in sorted(corpus.iterdir()):
        print(f"{d.name}: {len(list(d.iterdir()))} files")
