#include "goinstall/net/resolve_pin.hpp"

#include <arpa/inet.h>

#include "goinstall/base/strings.hpp"

namespace goinstall {

namespace {

Error bad(std::string_view text, const std::string& why) {
    return Error(ErrorCode::usage, "--resolve: '" + sanitize_for_display(std::string(text), 120) + "' " + why +
                                       " (expected HOST:PORT:ADDR[,ADDR...], e.g. mirror.test:443:127.0.0.1 or "
                                       "mirror.test:443:[::1],127.0.0.1)");
}

bool is_ipv4(const std::string& s) {
    unsigned char buf[4];
    return inet_pton(AF_INET, s.c_str(), buf) == 1;
}

bool is_ipv6(const std::string& s) {
    unsigned char buf[16];
    return inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

} // namespace

Result<ResolvePin> parse_resolve_pin(std::string_view text) {
    if (text.empty()) return std::unexpected(bad(text, "is empty"));
    if (text.front() == '+' || text.front() == '-') {
        return std::unexpected(bad(text, "uses a '+' or '-' prefix, which goinstall does not support"));
    }
    auto c1 = text.find(':');
    if (c1 == std::string_view::npos) return std::unexpected(bad(text, "has no port"));
    auto c2 = text.find(':', c1 + 1);
    if (c2 == std::string_view::npos) return std::unexpected(bad(text, "has no address"));
    ResolvePin pin;
    pin.host = to_lower(std::string(text.substr(0, c1)));
    if (pin.host.empty() || pin.host.find_first_of(" \t/[]@,") != std::string::npos) {
        return std::unexpected(bad(text, "has no valid host name"));
    }
    std::string port(text.substr(c1 + 1, c2 - c1 - 1));
    auto n = parse_u64(port);
    if (port.empty() || !n || *n < 1 || *n > 65535) return std::unexpected(bad(text, "has no port from 1 to 65535"));
    pin.port = static_cast<int>(*n);
    std::string_view rest = text.substr(c2 + 1);
    if (rest.empty()) return std::unexpected(bad(text, "has no address"));
    std::size_t i = 0;
    while (i <= rest.size()) {
        auto comma = rest.find(',', i);
        std::string a(rest.substr(i, comma == std::string_view::npos ? std::string_view::npos : comma - i));
        bool bracketed = a.size() >= 2 && a.front() == '[' && a.back() == ']';
        if (bracketed) a = a.substr(1, a.size() - 2);
        if (!(bracketed ? is_ipv6(a) : (is_ipv4(a) || is_ipv6(a)))) {
            return std::unexpected(bad(text, "has '" + sanitize_for_display(a, 60) + "', which is not an IP address"));
        }
        pin.addresses.push_back(to_lower(a));
        if (comma == std::string_view::npos) break;
        i = comma + 1;
    }
    return pin;
}

std::string to_curl_resolve(const ResolvePin& pin) {
    std::string out = pin.host + ":" + std::to_string(pin.port) + ":";
    for (std::size_t i = 0; i < pin.addresses.size(); ++i) {
        const auto& a = pin.addresses[i];
        out += (i ? "," : "") + (a.find(':') != std::string::npos ? "[" + a + "]" : a);
    }
    return out;
}

std::optional<ResolvePin> find_resolve_pin(const std::vector<ResolvePin>& pins, std::string_view host, int port) {
    std::string h = to_lower(std::string(host));
    if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
    std::optional<ResolvePin> exact, wild;
    for (const auto& p : pins) {
        if (p.port != port) continue;
        if (p.host == h)
            exact = p;
        else if (p.host == "*")
            wild = p;
    }
    return exact ? exact : wild;
}

} // namespace goinstall
