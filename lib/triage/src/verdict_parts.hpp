#pragma once
// The verdict rules, one file per concern (private to the triage module): verdict.cpp decides in
// which order they are asked; verdict_dns.cpp and verdict_tls.cpp hold the DNS and TLS rules. All
// pure: observations in, a verdict (or nothing to say) out.

#include <optional>
#include <string>
#include <utility>

#include "goinstall/triage/report.hpp"

namespace goinstall::triage {

// A verdict of health `failed` (decide_verdict sets the overall health afterwards).
inline Verdict failed_verdict(std::string code, std::string title, std::string action) {
    return Verdict{std::move(code), Health::failed, std::move(title), std::move(action)};
}

// "--mirror NAME" for a working mirror other than `except`, or a pointer to the probe.
std::string other_mirror(const Observations& obs, const TargetObservation* except);

// One target's DNS result: NXDOMAIN, SERVFAIL, timeout, no nameserver, bogon answers...
std::optional<Verdict> dns_verdict(const Observations& obs, const TargetObservation& t);

// Every public name tried (targets resolved directly, and the captive-portal probe's host), at
// least two of them, got NXDOMAIN — or only private/blocking addresses — from the nameservers:
// the network's DNS resolves no public name (filtered or split-horizon DNS, or no internet).
std::optional<Verdict> no_public_dns_verdict(const Observations& obs);

// One untrusted issuer on several hosts, or on a host seen through a proxy's tunnel with a
// certificate the issuer re-signed: a TLS-inspecting proxy or security product.
std::optional<Verdict> interception_verdict(const Observations& obs);

// One target's own TLS failure: untrusted, expired, not yet valid, wrong name, stalled, not TLS.
std::optional<Verdict> tls_verdict(const Observations& obs, const TargetObservation& t);

} // namespace goinstall::triage
