#pragma once
// --resolve HOST:PORT:ADDR[,ADDR...] (curl's meaning): requests to HOST on PORT connect to the given
// addresses instead of asking DNS. Downloads pass the pins to libcurl (CURLOPT_RESOLVE); triage's
// probes connect to the same addresses and report them as coming from --resolve.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "goinstall/base/error.hpp"

namespace goinstall {

struct ResolvePin {
    std::string host;                   // lowercase; "*" matches every host (curl ≥ 7.86)
    int port = 0;                       // 1..65535
    std::vector<std::string> addresses; // IP literals, IPv6 without brackets, in the order given
};

// Parses one --resolve value. An IPv6 address may be written in brackets ("[::1]") or bare; several
// addresses are comma-separated. Fails (usage) naming the value for a missing part, a port out of
// range, an address that is not an IP literal, or curl's "+"/"-" prefixes (not supported).
Result<ResolvePin> parse_resolve_pin(std::string_view text);

// The pin in CURLOPT_RESOLVE's syntax: "host:port:addr,[v6addr]".
std::string to_curl_resolve(const ResolvePin& pin);

// The pin that applies to host:port (host compared case-insensitively, IPv6 host without
// brackets): the last exact match, else the last "*" match (curl keeps the latest entry); nullopt
// when none does.
std::optional<ResolvePin> find_resolve_pin(const std::vector<ResolvePin>& pins, std::string_view host, int port);

} // namespace goinstall
