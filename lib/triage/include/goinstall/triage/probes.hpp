#pragma once
// Network triage probes: each checks one layer (DNS, TCP, TLS, proxy hop, local context) as its own
// step with its own timing, because curl's timings cannot tell a TCP stall from a TLS stall once a
// transfer has failed (docs/field-notes.md#network-triage). Probes never print, never throw, are
// bounded by their timeout and return promptly when the CancelToken fires. The orchestration that
// runs them and turns results into a verdict lives in triage.hpp.

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "goinstall/base/cancel.hpp"
#include "goinstall/base/error.hpp"
#include "goinstall/net/proxy_url.hpp"
#include "goinstall/platform/env.hpp"

namespace goinstall::triage {

using Millis = std::chrono::milliseconds;

// ---- DNS ------------------------------------------------------------------------------------

enum class DnsStatus {
    ok,       // at least one address
    nxdomain, // the name does not exist (rcode 3 / EAI_NONAME)
    no_data,  // the name exists but has no A/AAAA records
    servfail, // rcode 2 / EAI_AGAIN
    refused,  // rcode 5
    timeout,  // no answer within the timeout
    error,    // anything else (malformed answer, socket error, other rcode)
};
const char* to_string(DnsStatus status); // "ok", "nxdomain", "no_data", "servfail", ...

struct DnsResult {
    std::string resolver; // "system", "--resolve" (a pin) or the nameserver queried ("127.0.0.53:53")
    DnsStatus status = DnsStatus::error;
    std::vector<std::string> addresses; // textual, IPv4 first then IPv6, de-duplicated
    Millis elapsed{0};
    std::string detail; // gai_strerror text or the rcode's name; "" when ok
};

// The system resolver (getaddrinfo, both families), bounded by `timeout` (the lookup runs on a
// helper thread that is abandoned, not joined, if it overruns).
DnsResult resolve_system(const std::string& host, Millis timeout, const CancelToken* cancel);

// A and AAAA queries sent over UDP straight to one nameserver ("1.2.3.4", "1.2.3.4:5353",
// "[::1]:53" or "::1"), with recursion desired; one retry within `timeout`.
DnsResult query_nameserver(const std::string& nameserver, const std::string& host, Millis timeout,
                           const CancelToken* cancel);

// Pure helpers, table-tested.
// "nameserver" lines of resolv.conf, in order, as written (IPv4 or IPv6 literal).
std::vector<std::string> nameservers_from_resolv_conf(std::string_view text);
// True when a hosts file (/etc/hosts syntax) names `host` (case-insensitive) on some line.
bool hosts_file_names(std::string_view text, std::string_view host);
// A standard query for host with the given type (1 = A, 28 = AAAA).
std::vector<unsigned char> build_dns_query(std::uint16_t id, std::string_view host, std::uint16_t qtype);
struct DnsMessage {
    std::uint16_t id = 0;
    int rcode = 0;
    bool truncated = false;
    std::vector<std::string> addresses; // A and AAAA answers, textual (CNAME chains followed)
    // The question section, when present (answers are matched against the query's question).
    std::string qname; // lowercase, without the trailing dot
    std::uint16_t qtype = 0;
    std::uint16_t qclass = 0;
    bool is_response = false; // QR bit
};
// Parses an answer, bounds-checked against hostile input (compression loops, short packets).
Result<DnsMessage> parse_dns_response(std::span<const unsigned char> packet);

// What kind of address an answer is: a resolver answering 0.0.0.0, 127.0.0.1 or 10.x for a public
// name is blocking or hijacking it.
enum class AddressClass {
    global,
    unspecified,   // 0.0.0.0/8, ::
    loopback,      // 127/8, ::1
    private_net,   // 10/8, 172.16/12, 192.168/16, fc00::/7
    link_local,    // 169.254/16, fe80::/10
    shared_cgnat,  // 100.64/10
    documentation, // 192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32
    reserved,      // 240/4, 198.18/15 (benchmarking), 192.0.0/24, broadcast
    multicast,     // 224/4, ff00::/8
    invalid,       // not an IP literal
};
const char* to_string(AddressClass c);
AddressClass classify_address(std::string_view ip);
// Everything except global is a bogon for a public host name.
inline bool is_bogon(AddressClass c) { return c != AddressClass::global; }

// ---- TCP ------------------------------------------------------------------------------------

enum class TcpStatus {
    connected,
    refused,     // RST: ECONNREFUSED (nothing listening, or a firewall resetting)
    timeout,     // no answer at all: SYN dropped
    unreachable, // ENETUNREACH / EHOSTUNREACH / EADDRNOTAVAIL (no route, e.g. no IPv6)
    error,
};
const char* to_string(TcpStatus status);

struct TcpResult {
    std::string address; // the IP literal probed
    int port = 0;
    bool ipv6 = false;
    TcpStatus status = TcpStatus::error;
    int os_errno = 0;
    Millis elapsed{0};
};

// One non-blocking connect to ip:port, closed at once on success. `ip` is an IPv4 or IPv6 literal
// (brackets and a %zone allowed); anything else is an error with os_errno EINVAL. Cancellation
// gives status error with os_errno ECANCELED.
TcpResult probe_tcp(const std::string& ip, int port, Millis timeout, const CancelToken* cancel);

// The status a connect() errno means (pure): ECONNREFUSED → refused; ETIMEDOUT → timeout;
// ENETUNREACH, EHOSTUNREACH, EADDRNOTAVAIL, EAFNOSUPPORT, ENETDOWN, EHOSTDOWN → unreachable;
// anything else → error.
TcpStatus classify_connect_errno(int err);

// ---- TLS ------------------------------------------------------------------------------------

enum class TlsStatus {
    ok,
    untrusted, // chain does not lead to a trusted root (includes self-signed)
    expired,
    not_yet_valid,
    name_mismatch,
    handshake_failed, // alert, protocol or cipher failure
    stalled,          // TCP connected, ClientHello sent, no ServerHello within the timeout
    not_tls,          // the peer answered with something that is not TLS (e.g. plain HTTP)
    connect_failed,   // the TCP step failed (see tcp)
};
const char* to_string(TlsStatus status);

struct TlsProbeOptions {
    std::string extra_ca_file;    // --cacert: trusted in addition to the system store
    std::string ca_file_override; // SSL_CERT_FILE
    std::string ca_dir_override;  // SSL_CERT_DIR
    Millis timeout{5000};         // connect + handshake
};

struct TlsResult {
    TlsStatus status = TlsStatus::connect_failed;
    long verify_code = 0;                   // X509_V_* (0 = ok)
    std::string verify_text;                // OpenSSL's words for verify_code
    std::string issuer;                     // leaf issuer, one line ("CN=..., O=...")
    std::string subject;                    // leaf subject
    std::optional<std::int64_t> not_before; // unix seconds, leaf
    std::optional<std::int64_t> not_after;
    std::string protocol; // "TLSv1.3"
    Millis elapsed{0};
    std::string detail;           // the OpenSSL error or alert, when not ok
    std::optional<TcpResult> tcp; // the TCP step it ran first
};

// TCP to ip:port, then a TLS handshake with SNI and name check for `host`, verifying against the
// trust configuration goinstall uses for transfers. Records the leaf certificate even when
// verification fails (so the issuer can be reported).
TlsResult probe_tls(const std::string& ip, int port, const std::string& host, const TlsProbeOptions& options,
                    const CancelToken* cancel);

// The status an X509_V_* verification result means (pure): OK → ok, CERT_HAS_EXPIRED → expired,
// CERT_NOT_YET_VALID → not_yet_valid, HOSTNAME_MISMATCH / IP_ADDRESS_MISMATCH → name_mismatch,
// anything else (self-signed, unknown issuer, bad signature, ...) → untrusted.
TlsStatus tls_status_from_verify(long verify_code);

// ---- Proxy hop ------------------------------------------------------------------------------

enum class ProxyHopStatus {
    ok,            // CONNECT answered 200 (http/https proxy) or the SOCKS greeting succeeded
    unresolvable,  // the proxy's host name does not resolve
    unreachable,   // TCP to the proxy refused / timed out / no route (see tcp)
    auth_required, // 407 (Proxy-Authenticate schemes in detail), or SOCKS auth refused
    forbidden,     // 403 on CONNECT
    closed,        // the proxy closed the connection without an answer
    bad_status,    // any other HTTP status
    tls_to_plain,  // https:// proxy URL but the proxy speaks plain HTTP (curl error 35 "wrong version number")
    timeout,       // connected, no answer
    error,
};
const char* to_string(ProxyHopStatus status);

struct ProxyHopResult {
    ProxyHopStatus status = ProxyHopStatus::error;
    long http_status = 0;
    std::string proxy;                     // ProxySpec::display(): never the password
    std::vector<std::string> auth_schemes; // from Proxy-Authenticate on 407 ("Basic", "NTLM")
    Millis elapsed{0};
    std::string detail;
    std::optional<TcpResult> tcp;
    std::optional<TlsResult> tls;   // https:// proxies: the handshake with the proxy itself
    std::optional<int> socks_reply; // SOCKS5 REP (RFC 1928 §6) or SOCKS4 CD (90 = granted)
    // ProxyProbeOptions::target_tls: the TLS handshake with the target inside the open tunnel, as
    // the transfer makes it (a TLS-inspecting proxy shows its own certificate here). Unset when not
    // asked for, when the tunnel did not open, or through an https:// proxy (TLS in TLS, not probed).
    std::optional<TlsResult> target_tls;
};

// Connects to the proxy and asks it for a tunnel to target_host:target_port (HTTP CONNECT with
// Basic credentials when the spec has them; a SOCKS4/5 handshake for socks proxies). Closes the
// tunnel at once: the TLS layer is probed separately.
ProxyHopResult probe_proxy(const ProxySpec& proxy, const std::string& target_host, int target_port, Millis timeout,
                           const CancelToken* cancel);
// The same with the trust configuration for an https:// proxy. As for transfers, --cacert
// (extra_ca_file) is what an https:// proxy's certificate is checked against when given
// (CURLOPT_PROXY_CAINFO), otherwise the system store or the SSL_CERT_* overrides.
ProxyHopResult probe_proxy(const ProxySpec& proxy, const std::string& target_host, int target_port, Millis timeout,
                           const CancelToken* cancel, const TlsProbeOptions& tls);

struct ProxyProbeOptions {
    Millis timeout{3000};
    TlsProbeOptions tls;                       // for an https:// proxy, as above
    std::vector<std::string> proxy_addresses;  // --resolve pins for the proxy's host:port: used instead of DNS
    std::vector<std::string> target_addresses; // --resolve pins for the target: what socks4/socks5 (which
                                               // resolve here, as curl does) send instead of resolving
    bool target_tls = false; // once the tunnel is open, handshake with the target through it (https targets)
};
// The same, connecting to options.proxy_addresses (in order) when given instead of resolving the
// proxy's host name.
ProxyHopResult probe_proxy(const ProxySpec& proxy, const std::string& target_host, int target_port,
                           const ProxyProbeOptions& options, const CancelToken* cancel);

// The authentication schemes named by Proxy-Authenticate header values (pure): the first token of
// each challenge, deduplicated, in order ("Basic realm=x, NTLM" → Basic, NTLM).
std::vector<std::string> auth_schemes_from_challenges(const std::vector<std::string>& header_values);

// ---- Local context --------------------------------------------------------------------------

struct NetInterface {
    std::string name;
    bool up = false;
    bool loopback = false;
    std::vector<std::string> addresses; // textual, without prefix length
};

struct DefaultRoute {
    std::string interface;
    std::string gateway; // "" when none (point-to-point)
    bool ipv6 = false;
};

struct LocalContext {
    std::vector<NetInterface> interfaces;
    std::vector<DefaultRoute> default_routes;
    bool has_global_ipv6 = false; // a global-scope IPv6 address on an up, non-loopback interface
    bool has_ipv6_default_route = false;
    std::string container;                // "docker", "podman", "kubernetes", "lxc", "wsl" or ""
    std::vector<std::string> nameservers; // from /etc/resolv.conf
};

// Reads getifaddrs, /proc/net/route, /proc/net/ipv6_route, /etc/resolv.conf and container markers
// (KUBERNETES_SERVICE_HOST from `env`). Unreadable sources leave fields empty.
LocalContext read_local_context(const Env& env);

// Pure parsers behind read_local_context, table-tested on captured text.
std::vector<DefaultRoute> parse_proc_net_route(std::string_view text);
std::vector<DefaultRoute> parse_proc_net_ipv6_route(std::string_view text);
// From the presence of /.dockerenv, /run/.containerenv, the text of /proc/1/cgroup and
// /proc/sys/kernel/osrelease (WSL), and the KUBERNETES_SERVICE_HOST variable.
std::string detect_container(bool dockerenv, bool containerenv, std::string_view cgroup, std::string_view osrelease,
                             bool kubernetes_env);

} // namespace goinstall::triage
