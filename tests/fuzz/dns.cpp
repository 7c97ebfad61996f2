// Fuzzes the DNS wire code of triage (lib/triage/src/dns_wire.cpp), which reads UDP answers from
// whatever the resolvers in /etc/resolv.conf send back, and the resolv.conf / hosts readers.
// Input: a DNS packet. Properties:
// - parse_dns_response never reads out of bounds (ASan) and never loops (compression pointers);
//   a parsed message has an rcode of 4 bits, a question name in lowercase without a trailing dot
//   and at most 253 characters, and only addresses that are IP literals;
// - a query built for the name in the packet's question (when there is one) parses back with the
//   same id, name and type, as a question and not a response;
// - the packet read as text: every nameserver from resolv.conf is a non-empty token without
//   spaces; hosts_file_names does not crash.
#include "fuzz_check.hpp"

#include <cctype>

#include "goinstall/triage/probes.hpp"

using namespace goinstall;
using namespace goinstall::triage;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto msg = parse_dns_response(std::span<const unsigned char>(data, size));
    if (msg) {
        FUZZ_CHECK(msg->rcode >= 0 && msg->rcode <= 15, std::to_string(msg->rcode));
        FUZZ_CHECK(msg->qname.size() <= 253, msg->qname);
        FUZZ_CHECK(msg->qname.empty() || msg->qname.back() != '.', msg->qname);
        for (char c : msg->qname) {
            FUZZ_CHECK(!std::isupper(static_cast<unsigned char>(c)), msg->qname);
        }
        for (const auto& a : msg->addresses) {
            FUZZ_CHECK(classify_address(a) != AddressClass::invalid, a);
        }
        if (!msg->qname.empty() && msg->qname.find('.') != 0) {
            auto q = build_dns_query(msg->id, msg->qname, msg->qtype);
            if (!q.empty()) {
                auto back = parse_dns_response(q);
                FUZZ_CHECK(back.has_value(), msg->qname);
                FUZZ_CHECK(back->id == msg->id && back->qname == msg->qname && back->qtype == msg->qtype,
                           msg->qname + " -> " + back->qname);
                FUZZ_CHECK(!back->is_response, msg->qname);
            }
        }
    }
    const auto text = fuzz::as_text(data, size);
    for (const auto& ns : nameservers_from_resolv_conf(text)) {
        FUZZ_CHECK(!ns.empty() && ns.find_first_of(" \t\n") == std::string::npos, ns);
    }
    (void)hosts_file_names(text, "go.dev");
    return 0;
}
