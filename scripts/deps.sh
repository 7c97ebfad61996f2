#!/usr/bin/env bash
# Installs what goinstall needs to build (and, with --test, to run its test suite) from Debian's
# packages. Idempotent: installs only what is missing, and calls apt only when something is.
# Usage: scripts/deps.sh [--test]
set -euo pipefail

build_pkgs=(g++ cmake make pkg-config libcurl4-openssl-dev libssl-dev nlohmann-json3-dev
            libarchive-dev libcxxopts-dev duktape-dev zlib1g-dev libisal-dev libidn2-dev)
test_pkgs=(catch2 nginx-light golang-1.19-go openssl python3 python3-cryptography ca-certificates curl pigz tinyproxy mitmproxy dnsmasq-base squid microsocks util-linux strace libglib2.0-bin gsettings-desktop-schemas python3-yaml
           clang-16 libclang-rt-16-dev # libFuzzer for scripts/fuzz: clang 14 cannot compile <expected> (docs/fuzzing.md)
           dpkg-dev rpm man-db groff-base zsh fish dash # packages (cpack .deb/.rpm), man page and completion tests
           time # GNU time: peak RSS in scripts/bench
           aria2 iputils-ping # scripts/bench --links: the reference downloader, the emulator's RTT check
           clang-tidy-16 clang-format-14) # scripts/lint (clang-format: Debian's default, 14)

want=("${build_pkgs[@]}")
[[ "${1:-}" == "--test" ]] && want+=("${test_pkgs[@]}")

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "goinstall: installing build dependencies: ${missing[*]}" >&2
sudo=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "goinstall: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
# Update the package lists once per day at most; apt-get install fails on a stale or empty list.
stamp=/var/lib/apt/periodic/update-success-stamp
if [[ ! -e /var/lib/apt/lists/lock ]] || [[ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -1)" ]]; then
  $sudo apt-get update -qq >&2
fi
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
