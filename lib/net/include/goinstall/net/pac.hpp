#pragma once
// Proxy auto-config (PAC): runs a PAC script's FindProxyForURL(url, host) and reads its answer.
//
// The JavaScript engine is Duktape, compiled from the amalgamated source Debian's duktape-dev ships
// (/usr/share/duktape/duktape.c). We build our own copy because Debian's libduktape.so has no
// execution-timeout hook. Without duktape-dev the build still works: GOINSTALL_HAVE_PAC is not
// defined and every call fails with "this build has no PAC support (install duktape-dev and
// rebuild)".
//
// Limits
// ------
// - Time: loading the script and each FindProxyForURL call are limited (1 s by default). A script
//   that runs longer is stopped with an error, even one that catches exceptions and loops again.
// - Memory: the script's heap is capped at 64 MiB. Going over it is an error, not a crash.
// - Name resolution: dnsResolve() NEVER asks DNS. It returns IP literals as they are (IPv4, or IPv6
//   with or without brackets) and "127.0.0.1" for "localhost". For every other name it returns null.
//   So isResolvable(name) is false and isInNet(name, ...) is false for anything but an IP literal
//   or localhost. This keeps a PAC evaluation from hanging on a slow resolver and keeps tests from
//   sending packets. Scripts that send internal names DIRECT based on isInNet(dnsResolve(host))
//   will therefore pick their proxy branch for those names.
// - myIpAddress() returns "127.0.0.1".
// - The helpers are the standard set: isPlainHostName, dnsDomainIs, localHostOrDomainIs,
//   isResolvable, isInNet, dnsResolve, myIpAddress, dnsDomainLevels, shExpMatch, weekdayRange,
//   dateRange, timeRange, alert (does nothing). shExpMatch is a glob (* and ?), not a regular
//   expression, and the date/time helpers accept a trailing "GMT". console.log, .info, .warn,
//   .error and .debug exist and do nothing, as alert: real PAC files call them, and without them
//   the call throws ReferenceError and the request would go direct.
//
// What the script is given
// ------------------------
// A PAC file comes from the network (WPAD, a URL in the system's settings), so it sees no more of
// a request than a browser shows it (pac_url below): for https, only scheme, host and port; for
// http, never credentials or the fragment. The host argument is the URL's host, lowercased
// (ASCII letters), IPv6 without brackets.
//
// Answer format
// -------------
// "PROXY a:1; SOCKS5 b:2; DIRECT": entries separated by ';', keywords case-insensitive.
//   DIRECT           → Kind::direct (empty host_port and scheme)
//   PROXY, HTTP h:p  → Kind::proxy, scheme "http"
//   HTTPS h:p        → Kind::proxy, scheme "https"
//   SOCKS, SOCKS4 h:p→ Kind::socks, scheme "socks4"
//   SOCKS5 h:p       → Kind::socks, scheme "socks5"
// Unknown keywords and malformed entries (a proxy keyword without exactly one host[:port]) are
// skipped. An answer with no usable entry is an error. host_port is returned as written; a missing
// port is left for the caller to default.

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "goinstall/base/error.hpp"

namespace goinstall {

struct PacEntry {
    enum class Kind { direct, proxy, socks };
    Kind kind = Kind::direct;
    std::string host_port; // "proxy.corp:3128"; empty for direct
    std::string scheme;    // "http", "https", "socks4", "socks5"; empty for direct

    bool operator==(const PacEntry&) const = default;
};

// The URL handed to FindProxyForURL for a request to `url`, as browsers do (Chromium strips https
// URLs to their origin; Firefox's network.proxy.autoconfig_url.include_path is false): for https
// and wss "scheme://host[:port]/"; for other schemes the URL without user:password and without the
// fragment. A default port (443, 80) is left out. "" when `url` does not parse (no PAC call).
std::string pac_url(std::string_view url);

// True when this build can evaluate PAC scripts.
bool pac_supported();

// Parses a FindProxyForURL answer (see "Answer format" above). Exposed for tests and logging.
Result<std::vector<PacEntry>> parse_pac_answer(std::string_view answer);

class PacScript {
public:
    static constexpr std::chrono::milliseconds default_time_limit{1000};

    // Compiles and runs the script's top level (plus the standard helper functions), first in a
    // child process killed after 3 × time_limit + 1 s, so that no script can hang the caller.
    // ErrorCode::usage, naming `source` (a redacted URL or path), on a syntax error, on an error or
    // timeout while running the top level, or when the script defines no FindProxyForURL function.
    // ErrorCode::usage also when this build has no PAC support.
    static Result<PacScript> compile(std::string_view script, std::string_view source,
                                     std::chrono::milliseconds time_limit = default_time_limit);

    // Calls FindProxyForURL(url, host) within the time limit, in a child process killed after
    // time_limit + 1 s, and parses the answer. ErrorCode::usage
    // when the script throws, times out, runs out of memory, returns something that is not a
    // string, or returns an answer with no usable entry. Never throws.
    Result<std::vector<PacEntry>> find_proxy(std::string_view url, std::string_view host) const;

    const std::string& source() const { return m_source; }

    PacScript(PacScript&&) noexcept;
    PacScript& operator=(PacScript&&) noexcept;
    PacScript(const PacScript&) = delete;
    PacScript& operator=(const PacScript&) = delete;
    ~PacScript();

    struct State; // the duk_context and its limits; defined in pac.cpp

private:
    PacScript(std::unique_ptr<State> state, std::string source);
    // compile / find_proxy in this process: the interpreter's time check bounds script code, but
    // not a native built-in working on a huge value, so the public functions first run them in a
    // child process that is killed at a hard limit (child_call.hpp).
    static Result<PacScript> compile_here(std::string_view script, std::string_view source,
                                          std::chrono::milliseconds time_limit);
    Result<std::string> find_proxy_here(std::string_view url, std::string_view host) const;

    std::unique_ptr<State> m_state;
    std::string m_source;
};

} // namespace goinstall
