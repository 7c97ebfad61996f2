// Proxy hop probe: resolve and connect to the proxy, then ask it for a tunnel the way libcurl would
// (HTTP CONNECT, RFC 9110 §9.3.6, over TLS for an https:// proxy; SOCKS5 RFC 1928 with RFC 1929
// user/password; SOCKS4 and SOCKS4a). The tunnel is closed at once. Never puts the password into
// a result: `proxy` is ProxySpec::display() and `detail` holds only the proxy's words and ours.

#include <netinet/in.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "goinstall/base/strings.hpp"
#include "tls_session.hpp"

namespace goinstall::triage {

const char* to_string(ProxyHopStatus status) {
    switch (status) {
    case ProxyHopStatus::ok: return "ok";
    case ProxyHopStatus::unresolvable: return "unresolvable";
    case ProxyHopStatus::unreachable: return "unreachable";
    case ProxyHopStatus::auth_required: return "auth_required";
    case ProxyHopStatus::forbidden: return "forbidden";
    case ProxyHopStatus::closed: return "closed";
    case ProxyHopStatus::bad_status: return "bad_status";
    case ProxyHopStatus::tls_to_plain: return "tls_to_plain";
    case ProxyHopStatus::timeout: return "timeout";
    case ProxyHopStatus::error: return "error";
    }
    return "error";
}

std::vector<std::string> auth_schemes_from_challenges(const std::vector<std::string>& header_values) {
    // RFC 9110 §11.6.1: challenges are "scheme [params]" separated by commas; params contain '='
    // (auth-param) or are one token68 after the scheme. A comma-separated part whose first word
    // has no '=' starts a new challenge.
    std::vector<std::string> out;
    for (const auto& value : header_values) {
        for (const auto& part : split(value, ',')) {
            std::string_view p = trim(part);
            std::string_view word = p.substr(0, p.find_first_of(" \t"));
            if (word.empty() || word.find('=') != std::string_view::npos || word.find('"') != std::string_view::npos) {
                continue;
            }
            std::string scheme = sanitize_for_display(word, 40);
            bool seen = std::any_of(out.begin(), out.end(), [&](const std::string& s) { return iequals(s, scheme); });
            if (!seen) out.push_back(scheme);
        }
    }
    return out;
}

namespace {

using namespace detail;

constexpr std::size_t k_max_answer_head = 16 * 1024; // bound on a CONNECT answer's status + headers

struct Hop {
    ProxyHopResult& r;
    int fd;
    TlsSession* tls;
    Deadline deadline;
    const CancelToken* cancel;
    const std::vector<std::string>* target_pins = nullptr; // --resolve for the target, may be empty

    void set(ProxyHopStatus status, std::string detail) {
        r.status = status;
        r.detail = std::move(detail);
    }
    // Maps an I/O failure code (negative errno from conn_*) to a status; `what` names the step.
    void io_failed(long code, const std::string& what, bool got_bytes) {
        if (code == -ECANCELED) return set(ProxyHopStatus::error, "cancelled");
        if (code == -ETIMEDOUT) {
            return set(ProxyHopStatus::timeout, got_bytes ? "the proxy stopped in the middle of its answer to " + what
                                                          : "connected, no answer to " + what + " within the timeout");
        }
        if (code == 0 || code == -EPIPE || code == -ECONNRESET) {
            return set(ProxyHopStatus::closed,
                       got_bytes ? "the proxy closed the connection in the middle of its answer to " + what
                                 : "the proxy closed the connection without answering " + what);
        }
        set(ProxyHopStatus::error, what + ": " + std::strerror(static_cast<int>(-code)));
    }
    bool write(std::string_view data, const std::string& what) {
        int rc = conn_write_all(fd, tls, data, deadline, cancel);
        if (rc != 0) io_failed(rc, what, false);
        return rc == 0;
    }
    // Reads exactly n bytes (SOCKS replies).
    bool read_exact(std::string& out, std::size_t n, const std::string& what) {
        out.clear();
        char buf[512];
        while (out.size() < n) { // bounded: each pass reads ≥ 1 byte or returns
            long got = conn_read_some(fd, tls, buf, std::min(sizeof buf, n - out.size()), deadline, cancel);
            if (got <= 0) {
                io_failed(got, what, !out.empty());
                return false;
            }
            out.append(buf, static_cast<std::size_t>(got));
        }
        return true;
    }
};

std::string base64(std::string_view in) {
    std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
    out.resize(static_cast<std::size_t>(std::max(n, 0)));
    return out;
}

std::string authority(const std::string& host, int port) {
    bool v6 = host.find(':') != std::string::npos && host[0] != '[';
    return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

void http_connect(Hop& hop, const ProxySpec& proxy, const std::string& host, int port) {
    std::string target = authority(host, port);
    std::string req = "CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n";
    // The credentials exactly as the transfer sends them (CurlTransport: only with a user name).
    if (!proxy.user.empty()) req += "Proxy-Authorization: Basic " + base64(proxy.user + ":" + proxy.password) + "\r\n";
    req += "User-Agent: goinstall-triage\r\nProxy-Connection: Keep-Alive\r\n\r\n";
    if (!hop.write(req, "CONNECT")) return;

    std::string head;
    char buf[2048];
    while (head.find("\r\n\r\n") == std::string::npos) { // bounded by k_max_answer_head and the deadline
        if (head.size() >= k_max_answer_head)
            return hop.set(ProxyHopStatus::error, "the proxy's answer header exceeds 16 KiB");
        long got = conn_read_some(hop.fd, hop.tls, buf, std::min(sizeof buf, k_max_answer_head - head.size()),
                                  hop.deadline, hop.cancel);
        if (got <= 0) {
            if (got == 0 && head.find("\n\n") != std::string::npos) break; // bare-LF answer, then EOF
            return hop.io_failed(got, "CONNECT", !head.empty());
        }
        head.append(buf, static_cast<std::size_t>(got));
    }
    if (!head.empty() && (head[0] == 0x15 || head[0] == 0x16)) {
        return hop.set(ProxyHopStatus::error, "the proxy answered with TLS: it is an https:// proxy");
    }
    std::vector<std::string> lines = split(head.substr(0, head.find("\r\n\r\n")), '\n');
    std::string status_line(trim(lines.empty() ? std::string_view() : std::string_view(lines[0])));
    long code = 0;
    if (status_line.rfind("HTTP/", 0) == 0 && status_line.size() >= 12 && status_line[8] == ' ') {
        auto n = parse_u64(status_line.substr(9, 3));
        if (n && *n >= 100 && *n <= 999) code = static_cast<long>(*n);
    }
    if (code == 0)
        return hop.set(ProxyHopStatus::error, "not an HTTP answer: " + sanitize_for_display(status_line, 80));
    hop.r.http_status = code;
    std::vector<std::string> challenges;
    for (std::size_t i = 1; i < lines.size(); ++i) {
        std::string_view line = trim(lines[i]);
        auto colon = line.find(':');
        if (colon != std::string_view::npos && iequals(trim(line.substr(0, colon)), "proxy-authenticate")) {
            challenges.emplace_back(trim(line.substr(colon + 1)));
        }
    }
    std::string said = sanitize_for_display(status_line, 120);
    if (code >= 200 && code < 300) return hop.set(ProxyHopStatus::ok, "");
    if (code == 407) {
        hop.r.auth_schemes = auth_schemes_from_challenges(challenges);
        std::string schemes;
        for (const auto& s : hop.r.auth_schemes) schemes += (schemes.empty() ? "" : ", ") + s;
        return hop.set(ProxyHopStatus::auth_required, said + (schemes.empty() ? "" : "; schemes offered: " + schemes) +
                                                          (!proxy.user.empty() ? "; the credentials sent were refused"
                                                                               : "; no credentials were sent"));
    }
    if (code == 403) {
        // squid's stock rule "http_access deny CONNECT !SSL_ports" (SSL_ports = 443), as the transfer says.
        return hop.set(ProxyHopStatus::forbidden,
                       said + (port == 443 ? ""
                                           : "; the proxy may only allow tunnels to port 443 (squid's stock "
                                             "SSL_ports rule), this one is to port " +
                                                 std::to_string(port)));
    }
    hop.set(ProxyHopStatus::bad_status, said);
}

const char* socks5_reply_text(int rep) {
    switch (rep) { // RFC 1928 §6
    case 1: return "general SOCKS server failure";
    case 2: return "connection not allowed by ruleset";
    case 3: return "network unreachable";
    case 4: return "host unreachable";
    case 5: return "connection refused";
    case 6: return "TTL expired";
    case 7: return "command not supported";
    case 8: return "address type not supported";
    default: return "unassigned reply code";
    }
}

// The target as a SOCKS address: an IP literal as is; a name resolved here unless the proxy
// resolves (socks5h, socks4a). Returns "" and sets the hop's status on failure.
std::string target_address(Hop& hop, const std::string& host, bool remote_dns, bool v4_only) {
    if (is_ip_literal(host) || remote_dns) return host;
    if (hop.target_pins != nullptr && !hop.target_pins->empty()) { // --resolve, as for the transfer
        for (const auto& a : *hop.target_pins) {
            if (!v4_only || a.find(':') == std::string::npos) return a;
        }
        hop.set(ProxyHopStatus::error, "--resolve pins " + sanitize_for_display(host, 100) +
                                           " to IPv6 addresses only, which SOCKS4 cannot carry");
        return {};
    }
    DnsResult d = resolve_with_deadline(host, hop.deadline, hop.cancel);
    for (const auto& a : d.addresses) {
        if (!v4_only || a.find(':') == std::string::npos) return a;
    }
    hop.set(ProxyHopStatus::error, "cannot resolve " + sanitize_for_display(host, 100) +
                                       " on this machine (the proxy scheme resolves locally): " + to_string(d.status));
    return {};
}

void socks5(Hop& hop, const ProxySpec& proxy, const std::string& host, int port) {
    bool creds = !proxy.user.empty(); // as CurlTransport: credentials need a user name
    if (!hop.write(creds ? std::string("\x05\x02\x00\x02", 4) : std::string("\x05\x01\x00", 3), "the SOCKS5 greeting"))
        return;
    std::string reply;
    if (!hop.read_exact(reply, 2, "the SOCKS5 greeting")) return;
    if (reply[0] != 5)
        return hop.set(ProxyHopStatus::error, "not a SOCKS5 proxy (version byte " +
                                                  std::to_string(static_cast<unsigned char>(reply[0])) + ")");
    auto method = static_cast<unsigned char>(reply[1]);
    if (method == 0xFF || (method == 2 && !creds)) {
        return hop.set(ProxyHopStatus::auth_required, creds ? "the SOCKS5 proxy accepts none of the offered methods"
                                                            : "the SOCKS5 proxy requires a user name and password");
    }
    if (method == 2) { // RFC 1929
        if (proxy.user.size() > 255 || proxy.password.size() > 255) {
            return hop.set(ProxyHopStatus::error, "SOCKS5 user name or password longer than 255 bytes");
        }
        std::string auth = "\x01";
        auth += static_cast<char>(proxy.user.size());
        auth += proxy.user;
        auth += static_cast<char>(proxy.password.size());
        auth += proxy.password;
        if (!hop.write(auth, "the SOCKS5 login") || !hop.read_exact(reply, 2, "the SOCKS5 login")) return;
        if (reply[1] != 0)
            return hop.set(ProxyHopStatus::auth_required, "the SOCKS5 proxy refused the user name and password");
    } else if (method != 0) {
        return hop.set(ProxyHopStatus::error, "the SOCKS5 proxy chose an unsupported method " + std::to_string(method));
    }
    std::string addr = target_address(hop, host, proxy.scheme == ProxyScheme::socks5h, false);
    if (addr.empty()) return;
    std::string req("\x05\x01\x00", 3);
    auto sa = make_sockaddr(addr, port);
    if (sa && sa->family() == AF_INET) {
        req += '\x01';
        req.append(reinterpret_cast<const char*>(&reinterpret_cast<const sockaddr_in*>(&sa->storage)->sin_addr), 4);
    } else if (sa) {
        req += '\x04';
        req.append(reinterpret_cast<const char*>(&reinterpret_cast<const sockaddr_in6*>(&sa->storage)->sin6_addr), 16);
    } else {
        if (addr.size() > 255) return hop.set(ProxyHopStatus::error, "host name longer than 255 bytes");
        req += '\x03';
        req += static_cast<char>(addr.size());
        req += addr;
    }
    req += static_cast<char>((port >> 8) & 0xFF);
    req += static_cast<char>(port & 0xFF);
    if (!hop.write(req, "the SOCKS5 CONNECT") || !hop.read_exact(reply, 4, "the SOCKS5 CONNECT")) return;
    int rep = static_cast<unsigned char>(reply[1]);
    hop.r.socks_reply = rep;
    auto atyp = static_cast<unsigned char>(reply[3]);
    std::string rest;
    std::size_t addr_len = atyp == 1 ? 4 : atyp == 4 ? 16 : 0;
    if (atyp == 3) {
        if (!hop.read_exact(rest, 1, "the SOCKS5 CONNECT")) return;
        addr_len = static_cast<unsigned char>(rest[0]);
    }
    if (reply[0] != 5 || (atyp != 1 && atyp != 3 && atyp != 4))
        return hop.set(ProxyHopStatus::error, "malformed SOCKS5 reply");
    if (!hop.read_exact(rest, addr_len + 2, "the SOCKS5 CONNECT")) return;
    if (rep == 0) return hop.set(ProxyHopStatus::ok, "");
    std::string text = std::string("SOCKS5 reply ") + std::to_string(rep) + ": " + socks5_reply_text(rep);
    hop.set(rep == 2 ? ProxyHopStatus::forbidden : ProxyHopStatus::bad_status, text);
}

void socks4(Hop& hop, const ProxySpec& proxy, const std::string& host, int port) {
    bool remote = proxy.scheme == ProxyScheme::socks4a;
    std::string addr = target_address(hop, host, remote, true);
    if (addr.empty()) return;
    auto sa = make_sockaddr(addr, port);
    if (sa && sa->family() != AF_INET) return hop.set(ProxyHopStatus::error, "SOCKS4 cannot carry an IPv6 address");
    std::string req("\x04\x01", 2);
    req += static_cast<char>((port >> 8) & 0xFF);
    req += static_cast<char>(port & 0xFF);
    if (sa) {
        req.append(reinterpret_cast<const char*>(&reinterpret_cast<const sockaddr_in*>(&sa->storage)->sin_addr), 4);
    } else {
        req.append("\x00\x00\x00\x01", 4); // SOCKS4a: 0.0.0.x, the name follows the user id
    }
    req += proxy.user;
    req += '\0';
    if (!sa) {
        req += addr;
        req += '\0';
    }
    std::string reply;
    if (!hop.write(req, "the SOCKS4 CONNECT") || !hop.read_exact(reply, 8, "the SOCKS4 CONNECT")) return;
    int cd = static_cast<unsigned char>(reply[1]);
    hop.r.socks_reply = cd;
    if (reply[0] != 0 && reply[0] != 4) return hop.set(ProxyHopStatus::error, "not a SOCKS4 proxy");
    if (cd == 90) return hop.set(ProxyHopStatus::ok, "");
    if (cd == 92 || cd == 93)
        return hop.set(ProxyHopStatus::auth_required, "SOCKS4 reply " + std::to_string(cd) + ": identd check failed");
    hop.set(ProxyHopStatus::bad_status, "SOCKS4 reply " + std::to_string(cd) + ": request rejected or failed");
}

// The TLS handshake with the target through the open tunnel (a plain socket: http and SOCKS
// proxies), with the transfer's trust settings and its own `timeout`. Records the leaf whatever the
// verification result: behind a TLS-inspecting proxy it is the proxy's certificate, not the target's.
TlsResult handshake_in_tunnel(int fd, const std::string& target_host, const TlsProbeOptions& tls, Millis timeout,
                              const CancelToken* cancel) {
    auto start = SteadyClock::now();
    TlsResult t;
    tls_handshake(fd, target_host, tls, start + timeout, cancel, t);
    t.elapsed = elapsed_since(start);
    return t;
}

} // namespace

ProxyHopResult probe_proxy(const ProxySpec& proxy, const std::string& target_host, int target_port, Millis timeout,
                           const CancelToken* cancel) {
    return probe_proxy(proxy, target_host, target_port, timeout, cancel, TlsProbeOptions{});
}

ProxyHopResult probe_proxy(const ProxySpec& proxy, const std::string& target_host, int target_port, Millis timeout,
                           const CancelToken* cancel, const TlsProbeOptions& tls) {
    return probe_proxy(proxy, target_host, target_port, ProxyProbeOptions{timeout, tls, {}}, cancel);
}

ProxyHopResult probe_proxy(const ProxySpec& proxy, const std::string& target_host, int target_port,
                           const ProxyProbeOptions& options, const CancelToken* cancel) {
    const TlsProbeOptions& tls = options.tls;
    auto start = SteadyClock::now();
    Deadline deadline = start + options.timeout;
    ProxyHopResult r;
    r.proxy = proxy.display();
    auto done = [&](ProxyHopStatus status, std::string detail) {
        r.status = status;
        r.detail = std::move(detail);
        r.elapsed = elapsed_since(start);
        return r;
    };
    std::vector<std::string> addresses = options.proxy_addresses;
    if (!addresses.empty()) {
        // Pinned by --resolve, as for the transfer.
    } else if (is_ip_literal(proxy.host)) {
        addresses.push_back(proxy.host);
    } else {
        DnsResult d = resolve_with_deadline(proxy.host, deadline, cancel);
        if (is_cancelled(cancel)) return done(ProxyHopStatus::error, "cancelled");
        if (d.status != DnsStatus::ok) {
            return done(ProxyHopStatus::unresolvable,
                        "cannot resolve the proxy host " + sanitize_for_display(proxy.host, 100) + ": " +
                            to_string(d.status) + (d.detail.empty() ? "" : " (" + d.detail + ")"));
        }
        addresses = d.addresses;
    }
    Fd fd;
    for (std::size_t i = 0; i < addresses.size() && i < 4 && !fd.valid(); ++i) { // like curl, address by address
        auto [tcp, sock] = connect_tcp(addresses[i], static_cast<int>(proxy.port), deadline, cancel);
        r.tcp = tcp;
        fd = std::move(sock);
        if (is_cancelled(cancel) || remaining(deadline).count() == 0) break;
    }
    if (!fd.valid()) {
        if (is_cancelled(cancel)) return done(ProxyHopStatus::error, "cancelled");
        std::string why = r.tcp ? std::string(to_string(r.tcp->status)) +
                                      (r.tcp->os_errno ? std::string(": ") + std::strerror(r.tcp->os_errno) : "")
                                : "no address";
        return done(ProxyHopStatus::unreachable, "TCP to the proxy " + why);
    }

    TlsSessionPtr session;
    if (proxy.scheme == ProxyScheme::https) {
        // As CURLOPT_PROXY_CAINFO: with --cacert the proxy must chain to that file.
        TlsProbeOptions o = tls;
        if (!o.extra_ca_file.empty()) {
            o.ca_file_override = o.extra_ca_file;
            o.ca_dir_override.clear();
            o.extra_ca_file.clear();
        }
        TlsResult t;
        session = tls_handshake(fd.get(), proxy.host, o, deadline, cancel, t);
        t.tcp = r.tcp;
        t.elapsed = elapsed_since(start);
        r.tls = t;
        if (t.status == TlsStatus::not_tls) {
            return done(ProxyHopStatus::tls_to_plain,
                        "the proxy speaks plain HTTP, not TLS: write its URL with http:// (" + t.detail + ")");
        }
        if (t.status == TlsStatus::stalled) return done(ProxyHopStatus::timeout, "TLS to the proxy: " + t.detail);
        if (t.status != TlsStatus::ok) {
            return done(ProxyHopStatus::error,
                        std::string("TLS to the proxy: ") + to_string(t.status) + ": " + t.detail);
        }
    }
    Hop hop{r, fd.get(), session.get(), deadline, cancel, &options.target_addresses};
    switch (proxy.scheme) {
    case ProxyScheme::http:
    case ProxyScheme::https: http_connect(hop, proxy, target_host, target_port); break;
    case ProxyScheme::socks5:
    case ProxyScheme::socks5h: socks5(hop, proxy, target_host, target_port); break;
    case ProxyScheme::socks4:
    case ProxyScheme::socks4a: socks4(hop, proxy, target_host, target_port); break;
    }
    r.elapsed = elapsed_since(start);
    if (options.target_tls && r.status == ProxyHopStatus::ok && session == nullptr && !is_cancelled(cancel)) {
        r.target_tls = handshake_in_tunnel(fd.get(), target_host, tls, options.timeout, cancel);
    }
    return r;
}

} // namespace goinstall::triage
