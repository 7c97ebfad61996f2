// DNS probes: the system resolver (getaddrinfo, bounded by a helper thread) and direct UDP queries
// to one nameserver (RFC 1035 §4.2.1). The wire format lives in dns_wire.cpp.

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

#include "goinstall/base/strings.hpp"
#include "goinstall/triage/probes.hpp"
#include "socket_util.hpp"

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

namespace {

using namespace detail;

// Addresses as the header promises them: IPv4 first, then IPv6, without duplicates.
std::vector<std::string> ordered_unique(const std::vector<std::string>& in) {
    std::vector<std::string> out;
    for (int pass = 0; pass < 2; ++pass) {
        for (const auto& a : in) {
            bool v6 = a.find(':') != std::string::npos;
            if (v6 == (pass == 1) && std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
        }
    }
    return out;
}

struct GaiState {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    int rc = 0;
    int sys_errno = 0;
    std::vector<std::string> addresses;
};

DnsStatus status_from_gai(int rc) {
    switch (rc) {
    case 0: return DnsStatus::ok;
    case EAI_NONAME: return DnsStatus::nxdomain;
#ifdef EAI_NODATA
    case EAI_NODATA: return DnsStatus::no_data;
#endif
    case EAI_AGAIN: return DnsStatus::servfail;
    default: return DnsStatus::error;
    }
}

const char* rcode_name(int rcode) {
    switch (rcode) { // RFC 1035 §4.1.1, RFC 6895 §2.3
    case 0: return "NOERROR";
    case 1: return "FORMERR";
    case 2: return "SERVFAIL";
    case 3: return "NXDOMAIN";
    case 4: return "NOTIMP";
    case 5: return "REFUSED";
    default: return "rcode";
    }
}

struct Nameserver {
    std::string ip;
    int port = 53;
    std::string display;
};

std::optional<Nameserver> parse_nameserver(std::string_view text) {
    Nameserver ns;
    std::string_view port_text;
    text = trim(text);
    if (!text.empty() && text.front() == '[') {
        auto close = text.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        ns.ip = std::string(text.substr(1, close - 1));
        std::string_view rest = text.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') return std::nullopt;
            port_text = rest.substr(1);
        }
    } else if (std::count(text.begin(), text.end(), ':') == 1) {
        auto colon = text.find(':');
        ns.ip = std::string(text.substr(0, colon));
        port_text = text.substr(colon + 1);
    } else {
        ns.ip = std::string(text);
    }
    if (!port_text.empty() || (text.size() && text.back() == ':')) {
        auto p = parse_u64(port_text);
        if (!p || *p == 0 || *p > 65535) return std::nullopt;
        ns.port = static_cast<int>(*p);
    }
    if (!make_sockaddr(ns.ip, ns.port)) return std::nullopt;
    bool v6 = ns.ip.find(':') != std::string::npos;
    ns.display = (v6 ? "[" + ns.ip + "]" : ns.ip) + ":" + std::to_string(ns.port);
    return ns;
}

// One outstanding query (A or AAAA) and what came back for it.
struct Query {
    std::uint16_t type = 0;
    std::uint16_t id = 0;
    std::vector<unsigned char> packet;
    bool answered = false;
    int rcode = 0;
    bool truncated = false;
    std::string malformed; // set when the matching answer did not parse
    std::vector<std::string> addresses;
};

void take_answer(std::vector<Query>& queries, std::span<const unsigned char> pkt, const std::string& qname) {
    if (pkt.size() < 2) return;
    auto id = static_cast<std::uint16_t>((pkt[0] << 8) | pkt[1]);
    auto q = std::find_if(queries.begin(), queries.end(), [&](const Query& x) { return x.id == id && !x.answered; });
    if (q == queries.end()) return; // not ours (wrong id, late duplicate): ignore, as a resolver must
    auto msg = parse_dns_response(pkt);
    if (!msg) {
        q->answered = true;
        q->malformed = msg.error().message();
        return;
    }
    // RFC 5452 §9.1: accept only an answer to the question we asked.
    if (!msg->is_response || msg->qname != qname || msg->qtype != q->type || msg->qclass != 1) return;
    q->answered = true;
    q->rcode = msg->rcode;
    q->truncated = msg->truncated;
    q->addresses = msg->addresses;
}

DnsResult summarize(DnsResult r, const std::vector<Query>& queries) {
    std::vector<std::string> all;
    for (const auto& q : queries) all.insert(all.end(), q.addresses.begin(), q.addresses.end());
    r.addresses = ordered_unique(all);
    if (!r.addresses.empty()) {
        r.status = DnsStatus::ok;
        return r;
    }
    for (const auto& q : queries) {
        if (!q.answered) continue;
        if (!q.malformed.empty()) {
            r.status = DnsStatus::error;
            r.detail = q.malformed;
            return r;
        }
        if (q.rcode != 0) {
            r.status = q.rcode == 3   ? DnsStatus::nxdomain
                       : q.rcode == 2 ? DnsStatus::servfail
                       : q.rcode == 5 ? DnsStatus::refused
                                      : DnsStatus::error;
            r.detail = rcode_name(q.rcode);
            if (r.status == DnsStatus::error) r.detail += " " + std::to_string(q.rcode);
            return r;
        }
    }
    bool all_answered = std::all_of(queries.begin(), queries.end(), [](const Query& q) { return q.answered; });
    if (!all_answered) {
        r.status = DnsStatus::timeout;
        r.detail = "no answer within the timeout";
        for (const auto& q : queries) {
            if (q.answered) r.detail = std::string("no answer to the ") + (q.type == 1 ? "AAAA" : "A") + " query";
        }
        return r;
    }
    bool truncated = std::any_of(queries.begin(), queries.end(), [](const Query& q) { return q.truncated; });
    r.status = truncated ? DnsStatus::error : DnsStatus::no_data;
    r.detail = truncated ? "truncated answer without addresses (TCP fallback not tried)" : "NOERROR, no A/AAAA records";
    return r;
}

} // namespace

namespace detail {

DnsResult resolve_with_deadline(const std::string& host, Deadline deadline, const CancelToken* cancel) {
    auto start = SteadyClock::now();
    DnsResult r;
    r.resolver = "system";
    if (is_cancelled(cancel)) {
        r.detail = "cancelled";
        return r;
    }
    auto state = std::make_shared<GaiState>();
    try {
        // Detached: getaddrinfo cannot be interrupted, so an overrun is abandoned, not joined. The
        // thread owns a reference to the state and the host, so nothing it touches dies under it.
        std::thread([state, host] {
            addrinfo hints{};
            hints.ai_family = AF_UNSPEC;
            hints.ai_socktype = SOCK_STREAM;
            addrinfo* list = nullptr;
            int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &list);
            int err = errno;
            std::vector<std::string> found;
            for (addrinfo* a = list; rc == 0 && a != nullptr; a = a->ai_next) found.push_back(address_text(a->ai_addr));
            if (list != nullptr) ::freeaddrinfo(list);
            std::lock_guard lock(state->mu);
            state->rc = rc;
            state->sys_errno = err;
            state->addresses = std::move(found);
            state->done = true;
            state->cv.notify_all();
        }).detach();
    } catch (const std::system_error& e) {
        r.detail = std::string("cannot start the resolver thread: ") + e.what();
        return r;
    }
    std::unique_lock lock(state->mu);
    while (!state->done) {
        if (is_cancelled(cancel)) {
            r.detail = "cancelled";
            r.elapsed = elapsed_since(start);
            return r;
        }
        Millis left = remaining(deadline);
        if (left.count() <= 0) {
            r.status = DnsStatus::timeout;
            r.detail = "the system resolver did not answer within the timeout";
            r.elapsed = elapsed_since(start);
            return r;
        }
        state->cv.wait_for(lock, std::min(left, k_poll_slice));
    }
    r.elapsed = elapsed_since(start);
    r.status = status_from_gai(state->rc);
    r.addresses = ordered_unique(state->addresses);
    if (state->rc == EAI_SYSTEM) {
        r.detail = std::string("system error: ") + std::strerror(state->sys_errno);
    } else if (state->rc != 0) {
        r.detail = ::gai_strerror(state->rc);
    } else if (r.addresses.empty()) {
        r.status = DnsStatus::no_data;
    }
    return r;
}

} // namespace detail

DnsResult resolve_system(const std::string& host, Millis timeout, const CancelToken* cancel) {
    return resolve_with_deadline(host, deadline_after(timeout), cancel);
}

DnsResult query_nameserver(const std::string& nameserver, const std::string& host, Millis timeout,
                           const CancelToken* cancel) {
    auto start = SteadyClock::now();
    Deadline deadline = start + timeout;
    DnsResult r;
    r.resolver = nameserver;
    auto finish = [&](DnsResult out) {
        out.elapsed = elapsed_since(start);
        return out;
    };
    auto ns = parse_nameserver(nameserver);
    if (!ns) {
        r.detail = "not a nameserver address: " + sanitize_for_display(nameserver, 80);
        return finish(r);
    }
    r.resolver = ns->display;
    std::string qname = to_lower(host);
    if (!qname.empty() && qname.back() == '.') qname.pop_back();

    std::random_device rd; // ids unpredictable to an off-path spoofer (RFC 5452 §4.3)
    std::vector<Query> queries(2);
    queries[0].type = 1;
    queries[1].type = 28;
    queries[0].id = static_cast<std::uint16_t>(rd());
    queries[1].id = static_cast<std::uint16_t>(queries[0].id + 1 + rd() % 65535);
    for (auto& q : queries) {
        q.packet = build_dns_query(q.id, host, q.type);
        if (q.packet.empty()) {
            r.detail = "not a valid host name: " + sanitize_for_display(host, 80);
            return finish(r);
        }
    }
    auto addr = make_sockaddr(ns->ip, ns->port);
    // connect(): the kernel picks a random ephemeral source port and drops datagrams from anyone
    // but the nameserver.
    Fd fd(::socket(addr->family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd.valid() || ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr->storage), addr->length) != 0) {
        r.detail = std::string("socket: ") + std::strerror(errno);
        return finish(r);
    }
    auto send_pending = [&]() -> int {
        for (const auto& q : queries) {
            if (!q.answered && ::send(fd.get(), q.packet.data(), q.packet.size(), MSG_NOSIGNAL) < 0) return errno;
        }
        return 0;
    };
    auto socket_error = [&](int err) {
        r.detail = err == ECONNREFUSED ? "connection refused (nothing answers DNS on that address)"
                                       : std::string("socket: ") + std::strerror(err);
        return finish(r);
    };
    if (int err = send_pending(); err != 0) return socket_error(err);

    Deadline retry_at = start + timeout / 2; // one retry, halfway through
    bool retried = false;
    std::array<unsigned char, 4096> buf{};
    for (;;) {
        bool all = std::all_of(queries.begin(), queries.end(), [](const Query& q) { return q.answered; });
        if (all) break;
        Deadline until = retried ? deadline : std::min(retry_at, deadline);
        WaitResult w = wait_fd(fd.get(), POLLIN, until, cancel);
        if (w == WaitResult::cancelled) {
            r.detail = "cancelled";
            return finish(r);
        }
        if (w == WaitResult::error) return socket_error(errno);
        if (w == WaitResult::timeout) {
            if (retried || SteadyClock::now() >= deadline) break; // one retry only
            retried = true;
            if (int err = send_pending(); err != 0) return socket_error(err);
            continue;
        }
        for (int burst = 0; burst < 64; ++burst) { // drain what is queued, bounded
            ssize_t n = ::recv(fd.get(), buf.data(), buf.size(), 0);
            if (n < 0) {
                if (errno == EINTR) continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK) break;
                return socket_error(errno);
            }
            take_answer(queries, std::span<const unsigned char>(buf.data(), static_cast<std::size_t>(n)), qname);
        }
    }
    return finish(summarize(r, queries));
}

} // namespace goinstall::triage
