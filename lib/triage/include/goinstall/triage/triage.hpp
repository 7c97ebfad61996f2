#pragma once
// Network triage: runs the layer probes (probes.hpp) and the HTTP, clock, captive-portal and
// throughput checks against each target in parallel, bounded by one time budget, and turns what
// they observed into a report with a verdict (report.hpp). The HTTP checks go through the same
// Transport and ProxyResolver as the request that failed, so triage diagnoses the path actually
// used. Never prints, never throws.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "goinstall/base/cancel.hpp"
#include "goinstall/net/proxy_resolver.hpp"
#include "goinstall/net/resolve_pin.hpp"
#include "goinstall/net/transport.hpp"
#include "goinstall/triage/probes.hpp"
#include "goinstall/triage/report.hpp"

namespace goinstall::triage {

// The default captive-portal probe: a plain-http URL that answers 204 with no body when nothing
// intercepts the network (Android's connectivity check).
inline constexpr const char* k_default_captive_probe_url = "http://connectivitycheck.gstatic.com/generate_204";

struct TriageOptions {
    Millis budget{10000};      // the whole triage; probes get what is left
    Millis step_timeout{3000}; // a single DNS/TCP/TLS/proxy step
    // The proxy decision for each target (null: direct), the one the transport uses.
    std::shared_ptr<const ProxyResolver> proxy;
    TlsProbeOptions tls; // trust settings as for transfers (timeout is set per step)
    // --resolve pins, as given to the transport: a pinned host:port is not looked up (its DNS
    // result says resolver "--resolve") and its TCP/TLS probes go to the pinned addresses.
    std::vector<ResolvePin> resolve;
    // Captive-portal probe URL; "" disables it. When `captive_explicit` is false (the default URL)
    // and every target is on loopback, the probe is skipped: there is no portal between a host and
    // itself, and tests must not reach the internet.
    std::string captive_probe_url = k_default_captive_probe_url;
    bool captive_explicit = false;
    std::uint64_t sample_bytes = 256 * 1024; // throughput sample per target
    Millis sample_time{1500};
    std::string resolv_conf_text; // "" → read /etc/resolv.conf
    std::string hosts_text;       // "" → read /etc/hosts
    std::size_t max_nameservers = 3;
    std::size_t max_addresses_per_family = 2;
    ConfigObservation config;         // settings shown and configuration notes
    std::vector<std::string> secrets; // scrubbed from every string of the report
    // The environment the local context reads (KUBERNETES_SERVICE_HOST); null: the process's.
    const Env* env = nullptr;
};

// Observes every target (in parallel, within options.budget) and returns the raw observations.
Observations observe(const std::vector<Target>& targets, const TriageOptions& options, Transport& transport,
                     const CancelToken* cancel);

// observe() + make_report() + scrub_secrets(). Returns within about options.budget (plus the time
// a cancelled transfer takes to unwind, a few ms).
TriageReport run_triage(const std::vector<Target>& targets, const TriageOptions& options, Transport& transport,
                        const CancelToken* cancel);

// ---- the HTTP-level checks (http_check.cpp), exposed for the orchestrator and tests ----------

struct HttpCheck {
    std::string url;
    bool secure_only = false; // as Request::secure_only
    Millis connect_timeout{3000};
    Millis total_timeout{5000};
    std::uint64_t sample_bytes = 256 * 1024;
    Millis sample_time{1500};
};

// GETs check.url through transport, reading at most sample_bytes or sample_time of a 2xx body.
HttpObservation check_http(Transport& transport, const HttpCheck& check, const CancelToken* cancel);

// GETs the captive-portal probe URL (expects 204 and no redirect elsewhere).
CaptiveObservation check_captive(Transport& transport, const std::string& url, Millis timeout,
                                 const CancelToken* cancel);

// Reads the Date header of https://host:port/ at ip over TLS without verifying the certificate (only
// the date is used, to tell a wrong local clock from a wrong certificate).
ClockObservation fetch_server_date(const std::string& ip, int port, const std::string& host, Millis timeout,
                                   const CancelToken* cancel);

} // namespace goinstall::triage
