#pragma once
// WPAD (Web Proxy Auto-Discovery) by DNS: where to look for a PAC file when the system's settings
// say "detect the proxy automatically" without naming a PAC URL (GNOME mode 'auto' with an empty
// autoconfig-url, KDE ProxyType=3, macOS ProxyAutoDiscoveryEnable).
//
// The protocol is draft-ietf-wrec-wpad-01 (1999, never an RFC; "DNS A record lookup"): the client
// asks for http://wpad.<domain>/wpad.dat, where <domain> starts as the host's own DNS domain and
// loses its leading label after each miss ("devolution"). Devolution is also WPAD's best-known
// weakness: walked too far, it leaves the organisation and asks a name anyone can register -
// wpad.co.uk, wpad.com.au, or wpad.<new gTLD> when a laptop with an internal search domain is used
// at home. See CVE-2007-5355 (Microsoft Security Advisory 945713, IE devolving past the
// organisation), MS12-074 (CVE-2012-4776, WPAD in .NET) and US-CERT TA16-144A "WPAD Name Collision
// Vulnerability" (2016), whose measurements (Chen et al., IEEE S&P 2016, "MitM Attack by Name
// Collision") found leaked wpad queries for internal suffixes such as .home and .corp.
//
// So the rule here is stricter than the draft:
//   - a candidate domain has at least two labels: never wpad.<single label> (wpad.com, wpad.lan,
//     wpad.home, wpad.corp);
//   - devolution stops at the registrable domain: a candidate whose parent is a public suffix
//     (a TLD, or a multi-label suffix from the small built-in list below) is the last one, and a
//     public suffix itself is never a candidate (never wpad.co.uk);
//   - every candidate is fetched directly (a PAC file is what says which proxy to use), over plain
//     HTTP as the draft specifies, with short timeouts, a size cap, HTTP 200 only, no redirects.
// Built-in multi-label public suffixes (a subset of https://publicsuffix.org/list/, the common
// second-level registries): see k_multi_label_suffixes in wpad.cpp and is_public_suffix() below.
//
// WPAD runs only when the system's settings ask for auto-detection; --no-system-proxy (or
// --no-proxy) turns it off, and a --pac-url, --proxy, *_proxy variable or config-file proxy means
// it is not needed.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "goinstall/base/cancel.hpp"
#include "goinstall/base/clock.hpp"
#include "goinstall/net/transport.hpp"

namespace goinstall {

class PacScript; // goinstall/net/pac.hpp

// Search domains from resolv.conf text: the last `search` or `domain` line wins, as resolv.conf(5)
// documents ("the last instance wins"). Names are lowercased, a trailing dot dropped; names that are
// not valid host names (or a lone ".") are left out. Empty when there is no such line.
std::vector<std::string> parse_resolv_conf_domains(std::string_view text);

// The DNS domain of a fully qualified host name: "build7.corp.example" → "corp.example". "" for a
// name without a dot or an invalid name.
std::string domain_of_fqdn(std::string_view fqdn);

// True for a bare TLD ("com", "lan") and for the built-in multi-label public suffixes ("co.uk",
// "com.cn", "com.au", ...). Case-insensitive; a trailing dot is ignored.
bool is_public_suffix(std::string_view domain);

// The URLs to try, in order, deduplicated: for each domain, http://wpad.<d>/wpad.dat for d = the
// domain and then each parent, following the rule above (two labels at least, never a public suffix,
// stop at the registrable domain). Domains that are invalid, a single label, or a public suffix give
// nothing. At most `max_candidates` URLs.
std::vector<std::string> wpad_candidates(const std::vector<std::string>& domains, std::size_t max_candidates = 8);

// The host's own fully qualified name: gethostname(), and when it has no dot, the canonical name
// getaddrinfo(AI_CANONNAME) gives for it (in a helper thread: after `timeout` the answer is abandoned
// and "" returned, so a slow resolver cannot hold us up). "" when nothing has a dot.
std::string host_fqdn(std::chrono::milliseconds timeout = std::chrono::milliseconds(1000));

struct WpadOptions {
    std::chrono::milliseconds connect_timeout{2000}; // per candidate
    std::chrono::milliseconds total_budget{5000};    // for all candidates together
    std::uint64_t max_bytes = 1 << 20;               // a wpad.dat bigger than 1 MiB is refused
};

struct WpadAttempt {
    std::string url;
    std::string outcome; // "found", "HTTP 404", "host not found", "not a PAC script: ...", "not tried: ..."
};

struct WpadResult {
    std::shared_ptr<const PacScript> script; // null when no candidate gave a PAC script
    std::string url;                         // the candidate that did
    std::vector<WpadAttempt> attempts;       // every candidate, in order
    std::string nothing_tried;               // why no candidate was fetched ("this build has no PAC support")

    // One line for the user: "WPAD: found http://wpad.corp.example/wpad.dat" or "WPAD: no wpad.dat
    // at http://wpad.corp.example/wpad.dat (HTTP 404), http://wpad.example/wpad.dat (host not found)"
    // or "WPAD: <nothing_tried>" ("no DNS domain to search" when that is empty too).
    std::string summary() const;
};

// Tries `candidates` in order through `direct` (which must not use a proxy); the first that answers
// HTTP 200 with a body that compiles as a PAC script wins. Each attempt gets the connect timeout and
// what is left of the total budget (measured on `clock`); candidates left when the budget is spent
// are reported as not tried. Never fails: a result without a script says why in its attempts. When
// this build has no PAC support nothing is fetched.
WpadResult discover_wpad(const std::vector<std::string>& candidates, Transport& direct, const Clock& clock,
                         const WpadOptions& options = {}, const CancelToken* cancel = nullptr);

} // namespace goinstall
