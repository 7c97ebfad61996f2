#include "goinstall/triage/probes.hpp"

namespace goinstall::triage {

const char* to_string(DnsStatus status) {
    switch (status) {
    case DnsStatus::ok: return "ok";
    case DnsStatus::nxdomain: return "nxdomain";
    case DnsStatus::no_data: return "no_data";
    case DnsStatus::servfail: return "servfail";
    case DnsStatus::refused: return "refused";
    case DnsStatus::timeout: return "timeout";
    case DnsStatus::error: return "error";
    }
    return "error";
}

const char* to_string(AddressClass c) {
    switch (c) {
    case AddressClass::global: return "global";
    case AddressClass::unspecified: return "unspecified";
    case AddressClass::loopback: return "loopback";
    case AddressClass::private_net: return "private";
    case AddressClass::link_local: return "link_local";
    case AddressClass::shared_cgnat: return "shared_cgnat";
    case AddressClass::documentation: return "documentation";
    case AddressClass::reserved: return "reserved";
    case AddressClass::multicast: return "multicast";
    case AddressClass::invalid: return "invalid";
    }
    return "invalid";
}

DnsResult resolve_system(const std::string&, Millis, const CancelToken*) {
    DnsResult r;
    r.resolver = "system";
    r.detail = "not implemented";
    return r;
}

DnsResult query_nameserver(const std::string& nameserver, const std::string&, Millis, const CancelToken*) {
    DnsResult r;
    r.resolver = nameserver;
    r.detail = "not implemented";
    return r;
}

std::vector<std::string> nameservers_from_resolv_conf(std::string_view) { return {}; }

std::vector<unsigned char> build_dns_query(std::uint16_t, std::string_view, std::uint16_t) { return {}; }

Result<DnsMessage> parse_dns_response(std::span<const unsigned char>) {
    return fail(ErrorCode::internal, "not implemented");
}

AddressClass classify_address(std::string_view) { return AddressClass::invalid; }

} // namespace goinstall::triage
