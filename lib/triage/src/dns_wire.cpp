// DNS wire format (RFC 1035 §4.1): building a query and parsing an answer, bounds-checked against
// hostile input. Also resolv.conf "nameserver" lines (resolv.conf(5)) and address classification
// (RFC 6890 special-purpose registries).

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <set>

#include "goinstall/base/strings.hpp"
#include "goinstall/triage/probes.hpp"

namespace goinstall::triage {

namespace {

constexpr std::size_t k_header_size = 12; // RFC 1035 §4.1.1
constexpr std::size_t k_max_name = 255;   // RFC 1035 §2.3.4: names are at most 255 octets
constexpr std::size_t k_max_label = 63;   // RFC 1035 §2.3.4
constexpr int k_max_pointer_jumps = 64;   // more than any sane answer needs; stops loops
constexpr std::uint16_t k_type_a = 1, k_type_cname = 5, k_type_aaaa = 28, k_class_in = 1;

class Reader {
public:
    explicit Reader(std::span<const unsigned char> p) : m_p(p) {}
    bool u8(std::size_t at, unsigned& out) const {
        if (at >= m_p.size()) return false;
        out = m_p[at];
        return true;
    }
    bool u16(std::size_t at, std::uint16_t& out) const {
        if (at + 2 > m_p.size()) return false;
        out = static_cast<std::uint16_t>((m_p[at] << 8) | m_p[at + 1]);
        return true;
    }
    std::size_t size() const { return m_p.size(); }
    const unsigned char* data() const { return m_p.data(); }

    // Reads the (possibly compressed) name at `at`; `next` receives the offset after the name as
    // it appears at `at`. Names are returned lowercase, labels joined by '.', no trailing dot.
    bool name(std::size_t at, std::string& out, std::size_t& next) const {
        out.clear();
        std::size_t pos = at;
        std::size_t wire_len = 1; // the root label
        bool jumped = false;
        for (int jumps = 0;;) {
            unsigned len = 0;
            if (!u8(pos, len)) return false;
            if ((len & 0xC0) == 0xC0) {
                unsigned low = 0;
                if (!u8(pos + 1, low)) return false;
                std::size_t target = ((len & 0x3F) << 8) | low;
                // A pointer must point backwards (to a prior occurrence, RFC 1035 §4.1.4); with
                // the jump cap this rules out loops.
                if (target >= pos || ++jumps > k_max_pointer_jumps) return false;
                if (!jumped) next = pos + 2;
                jumped = true;
                pos = target;
                continue;
            }
            if ((len & 0xC0) != 0) return false; // 0x40/0x80: extended label types, not supported
            if (len == 0) {
                if (!jumped) next = pos + 1;
                return true;
            }
            if (len > k_max_label || pos + 1 + len > m_p.size()) return false;
            wire_len += len + 1;
            if (wire_len > k_max_name) return false;
            if (!out.empty()) out += '.';
            for (std::size_t i = 0; i < len; ++i) {
                auto c = static_cast<char>(m_p[pos + 1 + i]);
                // A '.' inside a label would make "a.b" (one label) equal the name a.b when
                // answers are matched against the question (a fuzz finding); host names have none.
                if (c == '.') return false;
                out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
            }
            pos += 1 + len;
        }
    }

private:
    std::span<const unsigned char> m_p;
};

struct Record {
    std::string owner;
    std::uint16_t type = 0;
    std::string value; // address text or CNAME target
};

} // namespace

std::vector<unsigned char> build_dns_query(std::uint16_t id, std::string_view host, std::uint16_t qtype) {
    if (!host.empty() && host.back() == '.') host.remove_suffix(1);
    if (host.empty()) return {};
    std::vector<unsigned char> q = {static_cast<unsigned char>(id >> 8),
                                    static_cast<unsigned char>(id & 0xFF),
                                    0x01,
                                    0x00, // flags: standard query, RD (recursion desired)
                                    0x00,
                                    0x01, // QDCOUNT 1
                                    0,
                                    0,
                                    0,
                                    0,
                                    0,
                                    0};
    std::size_t wire_len = 1;
    for (const auto& label : split(host, '.', true)) {
        if (label.empty() || label.size() > k_max_label) return {};
        wire_len += label.size() + 1;
        if (wire_len > k_max_name) return {};
        q.push_back(static_cast<unsigned char>(label.size()));
        q.insert(q.end(), label.begin(), label.end());
    }
    q.push_back(0);
    q.push_back(static_cast<unsigned char>(qtype >> 8));
    q.push_back(static_cast<unsigned char>(qtype & 0xFF));
    q.push_back(0x00);
    q.push_back(k_class_in);
    return q;
}

Result<DnsMessage> parse_dns_response(std::span<const unsigned char> packet) {
    Reader r(packet);
    auto bad = [](const std::string& what) { return fail(ErrorCode::network, "malformed DNS answer: " + what); };
    if (packet.size() < k_header_size) return bad("shorter than the 12-byte header");
    DnsMessage m;
    std::uint16_t flags = 0, qd = 0, an = 0;
    r.u16(0, m.id);
    r.u16(2, flags);
    r.u16(4, qd);
    r.u16(6, an);
    m.is_response = (flags & 0x8000) != 0;
    m.truncated = (flags & 0x0200) != 0;
    m.rcode = flags & 0x000F;
    if (qd > 1) return bad("more than one question");

    std::size_t pos = k_header_size;
    if (qd == 1) {
        std::size_t next = 0;
        if (!r.name(pos, m.qname, next)) return bad("question name");
        pos = next;
        if (!r.u16(pos, m.qtype) || !r.u16(pos + 2, m.qclass)) return bad("question truncated");
        pos += 4;
    }
    std::vector<Record> records;
    // Each record takes at least 11 bytes, so `an` is also bounded by the packet size.
    for (unsigned i = 0; i < an; ++i) {
        Record rec;
        std::size_t next = 0;
        if (!r.name(pos, rec.owner, next)) {
            if (m.truncated) break; // TC: the rest was cut off by the server, keep what we have
            return bad("answer name");
        }
        pos = next;
        std::uint16_t cls = 0, rdlen = 0;
        if (!r.u16(pos, rec.type) || !r.u16(pos + 2, cls) || !r.u16(pos + 8, rdlen) || pos + 10 + rdlen > r.size()) {
            if (m.truncated) break;
            return bad("answer record truncated");
        }
        std::size_t rdata = pos + 10;
        pos = rdata + rdlen;
        if (cls != k_class_in) continue;
        char text[INET6_ADDRSTRLEN] = {};
        if (rec.type == k_type_a) {
            if (rdlen != 4) return bad("A record of length " + std::to_string(rdlen));
            ::inet_ntop(AF_INET, r.data() + rdata, text, sizeof text);
            rec.value = text;
        } else if (rec.type == k_type_aaaa) {
            if (rdlen != 16) return bad("AAAA record of length " + std::to_string(rdlen));
            ::inet_ntop(AF_INET6, r.data() + rdata, text, sizeof text);
            rec.value = text;
        } else if (rec.type == k_type_cname) {
            std::size_t after = 0;
            if (!r.name(rdata, rec.value, after) || after > pos) return bad("CNAME target");
        } else {
            continue;
        }
        records.push_back(std::move(rec));
    }

    // Follow the CNAME chain from the question's name (bounded by the number of records); without
    // a question every address counts.
    std::set<std::string> names;
    if (qd == 1) {
        names.insert(m.qname);
        for (std::size_t round = 0; round < records.size(); ++round) {
            std::size_t before = names.size();
            for (const auto& rec : records) {
                if (rec.type == k_type_cname && names.count(rec.owner)) names.insert(rec.value);
            }
            if (names.size() == before) break;
        }
    }
    for (const auto& rec : records) {
        if (rec.type == k_type_cname) continue;
        if (qd == 1 && !names.count(rec.owner)) continue;
        if (std::find(m.addresses.begin(), m.addresses.end(), rec.value) == m.addresses.end()) {
            m.addresses.push_back(rec.value);
        }
    }
    return m;
}

std::vector<std::string> nameservers_from_resolv_conf(std::string_view text) {
    std::vector<std::string> out;
    for (const auto& raw : split(text, '\n')) {
        std::string_view line = raw;
        if (auto c = line.find_first_of("#;"); c != std::string_view::npos) line = line.substr(0, c);
        line = trim(line);
        constexpr std::string_view key = "nameserver";
        if (line.size() <= key.size() || line.substr(0, key.size()) != key) continue;
        if (line[key.size()] != ' ' && line[key.size()] != '\t') continue;
        std::string_view value = trim(line.substr(key.size()));
        if (auto ws = value.find_first_of(" \t"); ws != std::string_view::npos) value = value.substr(0, ws);
        std::string v(value);
        std::string bare = v.substr(0, v.find('%'));
        in6_addr a6{};
        in_addr a4{};
        if (::inet_pton(AF_INET, bare.c_str(), &a4) == 1 || ::inet_pton(AF_INET6, bare.c_str(), &a6) == 1) {
            out.push_back(v);
        }
    }
    return out;
}

bool hosts_file_names(std::string_view text, std::string_view host) {
    const std::string want = to_lower(host);
    for (const auto& raw : split(text, '\n')) {
        std::string_view line = raw;
        if (auto c = line.find('#'); c != std::string_view::npos) line = line.substr(0, c);
        bool first = true; // the address, not a name
        std::size_t i = 0;
        while (i < line.size()) {
            auto start = line.find_first_not_of(" \t\r", i);
            if (start == std::string_view::npos) break;
            auto end = std::min(line.size(), line.find_first_of(" \t\r", start));
            if (!first && to_lower(line.substr(start, end - start)) == want) return true;
            first = false;
            i = end;
        }
    }
    return false;
}

namespace {

bool in_v4(std::uint32_t a, std::uint32_t net, int bits) {
    std::uint32_t mask = bits == 0 ? 0 : ~std::uint32_t{0} << (32 - bits);
    return (a & mask) == (net & mask);
}

constexpr std::uint32_t v4(unsigned a, unsigned b, unsigned c, unsigned d) {
    return (a << 24) | (b << 16) | (c << 8) | d;
}

AddressClass classify_v4(std::uint32_t a) {
    // RFC 6890 §2.2.2 (IPv4 Special-Purpose Address Registry) and RFC 5735.
    if (in_v4(a, v4(0, 0, 0, 0), 8)) return AddressClass::unspecified;      // "this network"
    if (in_v4(a, v4(10, 0, 0, 0), 8)) return AddressClass::private_net;     // RFC 1918
    if (in_v4(a, v4(100, 64, 0, 0), 10)) return AddressClass::shared_cgnat; // RFC 6598
    if (in_v4(a, v4(127, 0, 0, 0), 8)) return AddressClass::loopback;
    if (in_v4(a, v4(169, 254, 0, 0), 16)) return AddressClass::link_local; // RFC 3927
    if (in_v4(a, v4(172, 16, 0, 0), 12)) return AddressClass::private_net;
    if (in_v4(a, v4(192, 0, 0, 0), 24)) return AddressClass::reserved;      // IETF protocol assignments
    if (in_v4(a, v4(192, 0, 2, 0), 24)) return AddressClass::documentation; // TEST-NET-1, RFC 5737
    if (in_v4(a, v4(192, 168, 0, 0), 16)) return AddressClass::private_net;
    if (in_v4(a, v4(198, 18, 0, 0), 15)) return AddressClass::reserved;        // benchmarking, RFC 2544
    if (in_v4(a, v4(198, 51, 100, 0), 24)) return AddressClass::documentation; // TEST-NET-2
    if (in_v4(a, v4(203, 0, 113, 0), 24)) return AddressClass::documentation;  // TEST-NET-3
    if (in_v4(a, v4(224, 0, 0, 0), 4)) return AddressClass::multicast;         // RFC 5771
    if (in_v4(a, v4(240, 0, 0, 0), 4)) return AddressClass::reserved;          // incl. 255.255.255.255
    return AddressClass::global;
}

bool in_v6(const std::array<unsigned char, 16>& a, std::initializer_list<unsigned char> prefix, int bits) {
    std::array<unsigned char, 16> net{};
    std::copy(prefix.begin(), prefix.end(), net.begin());
    for (int i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
        unsigned mask = bits >= 8 ? 0xFFu : (0xFFu << (8 - bits)) & 0xFFu;
        if ((a[i] & mask) != (net[i] & mask)) return false;
    }
    return true;
}

AddressClass classify_v6(const std::array<unsigned char, 16>& a) {
    // RFC 6890 §2.2.3 (IPv6 Special-Purpose Address Registry) and RFC 4291.
    static const std::array<unsigned char, 16> any{};
    std::array<unsigned char, 16> one{};
    one[15] = 1;
    if (a == any) return AddressClass::unspecified;
    if (a == one) return AddressClass::loopback;
    if (in_v6(a, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF}, 96)) { // IPv4-mapped: judge the IPv4 part
        return classify_v4(v4(a[12], a[13], a[14], a[15]));
    }
    if (in_v6(a, {0x00, 0x64, 0xFF, 0x9B}, 96)) return AddressClass::global;        // NAT64 well-known prefix, RFC 6052
    if (in_v6(a, {0x01, 0x00}, 64)) return AddressClass::reserved;                  // discard-only, RFC 6666
    if (in_v6(a, {0x20, 0x01, 0x0D, 0xB8}, 32)) return AddressClass::documentation; // RFC 3849
    if (in_v6(a, {0x20, 0x01, 0x00, 0x02, 0x00, 0x00}, 48)) return AddressClass::reserved; // benchmarking, RFC 5180
    if (in_v6(a, {0xFC}, 7)) return AddressClass::private_net;                             // unique local, RFC 4193
    if (in_v6(a, {0xFE, 0x80}, 10)) return AddressClass::link_local;
    if (in_v6(a, {0xFF}, 8)) return AddressClass::multicast;
    if (!in_v6(a, {0x20}, 3)) return AddressClass::reserved; // outside global unicast 2000::/3 (RFC 4291 §2.4)
    return AddressClass::global;
}

} // namespace

AddressClass classify_address(std::string_view ip_in) {
    std::string ip(ip_in);
    if (ip.size() >= 2 && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);
    in_addr a4{};
    if (::inet_pton(AF_INET, ip.c_str(), &a4) == 1) return classify_v4(ntohl(a4.s_addr));
    if (auto pct = ip.find('%'); pct != std::string::npos) ip.resize(pct);
    std::array<unsigned char, 16> a6{};
    if (::inet_pton(AF_INET6, ip.c_str(), a6.data()) == 1) return classify_v6(a6);
    return AddressClass::invalid;
}

} // namespace goinstall::triage
