#pragma once
// Small helpers shared by the verdict and the findings (private to the triage module).

#include <string>
#include <string_view>
#include <vector>

#include "goinstall/triage/report.hpp"

namespace goinstall::triage {

// "aliyun" for the target labelled "mirror aliyun"; the label otherwise.
std::string mirror_name(const Target& t);
// Where the user set this URL: "--index-url", "--mirror", "the URL".
std::string url_source(const Target& t);
// "localhost" and *.localhost resolve to loopback by definition (RFC 6761 §6.3).
bool is_localhost_name(std::string_view host);
std::string join(const std::vector<std::string>& parts, const std::string& sep);
// "127.0.0.1 refused, ::1 timed out".
std::string addresses_of(const TargetObservation& t);
// How IPv6 failed for this target: "timeout", "unreachable".
std::string ipv6_failure(const TargetObservation& t);
// redact_url(), for showing a target's URL.
std::string redact_url_short(const std::string& url);
// True when targets of this role exist and none works.
bool role_dead(const Observations& obs, Role role); // has targets of the role, none working
bool has_role(const Observations& obs, Role role);
// The toolchain-module route works: a module proxy answers and no checksum database checked is
// dead (one of each suffices: the database directly or through a proxy).
bool module_route_works(const Observations& obs);
// False for a failing way to a checksum database when another way to it works (cmd/go uses the
// database through a proxy that supports it, else directly: either suffices).
bool failure_matters(const Observations& obs, const TargetObservation& t);
// Adds to a verdict about a dead index route that the module route works, naming its proxy and
// database (route_note.cpp); other verdicts are returned as they are.
Verdict note_working_route(const Observations& obs, Verdict verdict);
// "refused", "timed out after 1500 ms", "connected in 3 ms", ...
std::string describe_tcp(const TcpResult& r);
// "NXDOMAIN", "SERVFAIL", "timeout", ...
std::string to_upper_status(DnsStatus s);

} // namespace goinstall::triage
