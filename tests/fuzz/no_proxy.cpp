// Fuzzes the NO_PROXY dialect (lib/net no_proxy.hpp): parse_no_proxy and bypass_reason.
// Input: "NO_PROXY value\nhost\nport\nextra entries".
// Properties that follow from the documented dialect:
// - parsing never loses a token: entries + ignored = the number of separator-delimited tokens;
// - an empty host never bypasses; a loopback host always does, whatever the list;
// - `*` anywhere in the list bypasses every non-empty host;
// - matching is case-insensitive (ASCII upper-casing the host changes nothing);
// - a trailing dot on a host name is ignored ("host." decides like "host");
// - adding entries never takes a bypass away (monotonic);
// - an entry without a port matches regardless of the port; the decision without a port is a
//   bypass only if it is also one with a port.
#include "fuzz_check.hpp"

#include <cctype>

#include "goinstall/base/strings.hpp"
#include "goinstall/net/no_proxy.hpp"

using namespace goinstall;

namespace {

constexpr std::string_view k_separators = ", \t\r\n\f\v";

std::size_t count_tokens(std::string_view s) {
    std::size_t n = 0;
    for (std::size_t pos = 0;;) {
        auto start = s.find_first_not_of(k_separators, pos);
        if (start == std::string_view::npos) return n;
        ++n;
        pos = s.find_first_of(k_separators, start);
        if (pos == std::string_view::npos) return n;
    }
}

std::string upper(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

std::string describe(std::string_view list, std::string_view host, std::optional<unsigned> port) {
    return "NO_PROXY='" + std::string(list) + "' host='" + std::string(host) +
           "' port=" + (port ? std::to_string(*port) : std::string("none"));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto parts = fuzz::split_parts(fuzz::as_text(data, size), '\n', 4);
    // The host line may hold separators (a fuzzed host is arbitrary bytes); the list line cannot
    // hold '\n' by construction, so the extra entries are a separate line.
    const auto value = parts[0];
    const auto host = parts[1];
    const auto port_value = parse_u64(parts[2]);
    const std::optional<unsigned> port =
        port_value && *port_value <= 65535 ? std::optional<unsigned>(static_cast<unsigned>(*port_value)) : std::nullopt;

    const auto list = parse_no_proxy(value);
    FUZZ_CHECK(list.entries.size() + list.ignored.size() == count_tokens(value), std::string(value));

    const auto reason = bypass_reason(list, host, port);
    if (host.empty()) FUZZ_CHECK(!reason, describe(value, host, port));
    if (!host.empty() && is_loopback_host(host)) FUZZ_CHECK(reason.has_value(), describe(value, host, port));

    bool has_star = false;
    for (const auto& e : list.entries) has_star = has_star || e.kind == NoProxyKind::wildcard;
    if (has_star && !host.empty()) FUZZ_CHECK(reason.has_value(), describe(value, host, port));

    const bool upper_bypass = bypass_reason(list, upper(host), port).has_value();
    FUZZ_CHECK(upper_bypass == reason.has_value(), describe(value, host, port));

    // A trailing dot: only for names (a ':' means an IPv6 literal, brackets are not names) that
    // do not already end in a dot.
    if (!host.empty() && host.back() != '.' && host.find_first_of(":[]") == std::string_view::npos) {
        const auto dotted = std::string(host) + ".";
        FUZZ_CHECK(bypass_reason(list, dotted, port).has_value() == reason.has_value(),
                   describe(value, host, port) + " vs trailing dot");
    }

    if (reason) {
        const auto more = parse_no_proxy(std::string(value) + "," + std::string(parts[3]));
        FUZZ_CHECK(bypass_reason(more, host, port).has_value(), describe(value, host, port));
    }
    if (bypass_reason(list, host, std::nullopt)) {
        FUZZ_CHECK(bypass_reason(list, host, port.value_or(443)).has_value(), describe(value, host, port));
    }
    return 0;
}
