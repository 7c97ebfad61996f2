// The triage orchestrator: every target observed in parallel, layer by layer, within one budget.
#include "goinstall/triage/triage.hpp"

#include <algorithm>
#include <atomic>
#include <fstream>
#include <future>
#include <iterator>
#include <thread>

#include "goinstall/base/strings.hpp"
#include "goinstall/base/url.hpp"
#include "report_text.hpp"

namespace goinstall::triage {

namespace {

using SteadyClock = std::chrono::steady_clock;

struct Run {
    const TriageOptions& options;
    Transport& transport;
    SteadyClock::time_point deadline;
    CancelToken inner; // fired at the deadline or when the caller cancels
    std::vector<std::string> nameservers;
    std::string hosts;                   // /etc/hosts: a loopback answer for a name not in it came from DNS (a bogon)
    std::atomic<std::size_t> located{0}; // targets whose locality (on this machine or not) is known

    Millis left() const {
        return std::max(Millis{0}, std::chrono::duration_cast<Millis>(deadline - SteadyClock::now()));
    }
    // A single step's timeout: the step limit or what is left of the budget.
    Millis step() const { return std::min(options.step_timeout, left()); }
    bool out_of_time() const { return inner.cancelled() || left() <= Millis{0}; }
};

bool is_loopback_host(const std::string& host) {
    return is_localhost_name(host) || classify_address(host) == AddressClass::loopback;
}

void prepare_target(TargetObservation& t, const Target& target, const TriageOptions& options) {
    t.target = target;
    auto u = parse_url(target.url);
    if (!u || u->scheme == "file" || u->host.empty()) {
        t.local_file = true;
        return;
    }
    t.host = u->host;
    t.https = u->scheme == "https";
    t.port = u->port ? static_cast<int>(*u->port) : (t.https ? 443 : 80);
    if (options.proxy) {
        ProxyChoice c = options.proxy->choose(target.url);
        t.proxy = c.proxy;
        t.proxy_source = c.source;
        t.proxy_reason = c.reason;
    } else {
        t.proxy_reason = "no proxy configured";
    }
}

bool all_loopback(const std::vector<std::string>& addresses) {
    return !addresses.empty() && std::all_of(addresses.begin(), addresses.end(), [](const std::string& a) {
        return classify_address(a) == AddressClass::loopback;
    });
}

// DNS: the system resolver, then each nameserver directly (in parallel) unless the system resolver
// put the name on this machine from /etc/hosts: asking DNS about a name it never had to answer would
// only send packets off the machine to no purpose. A loopback answer for a name /etc/hosts does not
// hold came from DNS, and is checked like any other (a resolver answering 127.0.0.2 hijacks the
// name). Returns the addresses to try; sets `local`.
std::vector<std::string> resolve(TargetObservation& t, Run& run, bool& local) {
    if (classify_address(t.host) != AddressClass::invalid) {
        local = classify_address(t.host) == AddressClass::loopback;
        return {t.host};
    }
    if (auto pin = find_resolve_pin(run.options.resolve, t.host, t.port)) {
        // Pinned by --resolve: the transport never asks DNS for it, so neither does triage.
        DnsResult d;
        d.resolver = "--resolve";
        d.status = DnsStatus::ok;
        std::stable_partition(pin->addresses.begin(), pin->addresses.end(),
                              [](const std::string& a) { return a.find(':') == std::string::npos; });
        d.addresses = pin->addresses;
        local = all_loopback(d.addresses);
        t.dns_system = std::move(d);
        return t.dns_system->addresses;
    }
    if (is_localhost_name(t.host)) local = true;
    t.dns_system = resolve_system(t.host, run.step(), &run.inner);
    if (t.dns_system->status == DnsStatus::ok && all_loopback(t.dns_system->addresses) &&
        (local || hosts_file_names(run.hosts, t.host))) {
        local = true;
    }
    if (!local && !run.out_of_time()) {
        std::vector<std::future<DnsResult>> direct;
        for (const auto& ns : run.nameservers) {
            direct.push_back(std::async(
                std::launch::async, [&run, &t, ns] { return query_nameserver(ns, t.host, run.step(), &run.inner); }));
        }
        for (auto& f : direct) t.dns_direct.push_back(f.get());
    }
    if (t.dns_system->status != DnsStatus::ok) return {};
    return t.dns_system->addresses;
}

void probe_addresses(TargetObservation& t, const std::vector<std::string>& addresses, Run& run) {
    std::vector<std::string> pick;
    std::size_t v4 = 0, v6 = 0;
    for (const auto& a : addresses) {
        bool is6 = a.find(':') != std::string::npos;
        std::size_t& n = is6 ? v6 : v4;
        if (n < run.options.max_addresses_per_family) {
            ++n;
            pick.push_back(a);
        }
    }
    std::vector<std::future<TcpResult>> futures;
    for (const auto& a : pick) {
        futures.push_back(
            std::async(std::launch::async, [&run, &t, a] { return probe_tcp(a, t.port, run.step(), &run.inner); }));
    }
    for (auto& f : futures) t.tcp.push_back(f.get());
}

void observe_direct(TargetObservation& t, Run& run, bool& local) {
    auto addresses = resolve(t, run, local);
    run.located.fetch_add(1);
    if (addresses.empty() || run.out_of_time()) return;
    probe_addresses(t, addresses, run);
    auto connected =
        std::find_if(t.tcp.begin(), t.tcp.end(), [](const TcpResult& r) { return r.status == TcpStatus::connected; });
    if (connected == t.tcp.end() || run.out_of_time()) return;
    if (t.https) {
        TlsProbeOptions o = run.options.tls;
        o.timeout = run.step();
        t.tls = probe_tls(connected->address, t.port, t.host, o, &run.inner);
        switch (t.tls->status) {
        case TlsStatus::ok: break;
        case TlsStatus::expired:
        case TlsStatus::not_yet_valid:
        case TlsStatus::untrusted:
        case TlsStatus::name_mismatch:
            // The transfer would fail the same way; ask the server what time it is instead.
            if (!run.out_of_time())
                t.clock = fetch_server_date(connected->address, t.port, t.host, run.step(), &run.inner);
            return;
        default: return; // stalled, not TLS, handshake failure: an HTTP request would only repeat it
        }
    }
}

// The handshake made inside the proxy's tunnel becomes the target's TLS observation when it got as
// far as a certificate (then the transfer would fail the same way: true when it did not verify). A
// handshake that broke off (the proxy could not reach the target, say) is left to the HTTP check,
// whose error says more than a bare TLS failure would.
bool tunnel_tls_failed(TargetObservation& t) {
    if (!t.proxy_hop->target_tls) return false;
    const TlsResult& r = *t.proxy_hop->target_tls;
    switch (r.status) {
    case TlsStatus::ok:
    case TlsStatus::untrusted:
    case TlsStatus::expired:
    case TlsStatus::not_yet_valid:
    case TlsStatus::name_mismatch: t.tls = r; return r.status != TlsStatus::ok;
    default: return false;
    }
}

void observe_target(TargetObservation& t, Run& run, bool& local) {
    if (t.local_file || t.proxy) {
        local = t.local_file || is_loopback_host(t.proxy->host);
        run.located.fetch_add(1);
    }
    if (t.local_file) return;
    if (t.proxy) {
        if (t.https || t.proxy->scheme != ProxyScheme::http) {
            // The proxy's trust settings (--cacert) and --resolve pins, as the transfer uses them.
            ProxyProbeOptions o{run.step(), run.options.tls, {}};
            o.target_tls = t.https; // the handshake the transfer makes inside the tunnel
            if (auto pin = find_resolve_pin(run.options.resolve, t.proxy->host, static_cast<int>(t.proxy->port))) {
                o.proxy_addresses = pin->addresses;
            }
            if (auto pin = find_resolve_pin(run.options.resolve, t.host, t.port)) o.target_addresses = pin->addresses;
            t.proxy_hop = probe_proxy(*t.proxy, t.host, t.port, o, &run.inner);
            if (t.proxy_hop->status != ProxyHopStatus::ok) return;
            if (tunnel_tls_failed(t)) return;
        }
    } else {
        observe_direct(t, run, local);
        bool reachable = std::any_of(t.tcp.begin(), t.tcp.end(),
                                     [](const TcpResult& r) { return r.status == TcpStatus::connected; });
        if (!reachable || (t.tls && t.tls->status != TlsStatus::ok)) {
            t.incomplete = run.out_of_time();
            return;
        }
    }
    if (run.out_of_time()) {
        t.incomplete = true;
        return;
    }
    HttpCheck check{t.target.url, t.target.secure_only,     run.step(),
                    run.left(),   run.options.sample_bytes, run.options.sample_time};
    t.http = check_http(run.transport, check, &run.inner);
    if (t.http.transport_failed && t.http.error_code == ErrorCode::cancelled) t.incomplete = true;
}

// A captive-portal probe that failed: how its host name resolves (the verdict correlates it with
// the targets' names; when no public name resolves, the DNS is what is wrong).
void check_captive_name(CaptiveObservation& c, const std::string& url, Run& run) {
    auto u = parse_url(url);
    if (c.error.empty() || !u || u->host.empty() || classify_address(u->host) != AddressClass::invalid) return;
    c.host = to_lower(u->host);
    if (!run.out_of_time()) c.dns = resolve_system(c.host, run.step(), &run.inner);
}

// The first 64 KiB of a small system file; "" when unreadable.
std::string read_head(const char* path) {
    std::ifstream in(path);
    std::string buf(64 * 1024, '\0');
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    buf.resize(static_cast<std::size_t>(std::max<std::streamsize>(0, in.gcount())));
    return buf;
}

std::vector<std::string> read_nameservers(const TriageOptions& options) {
    std::string text = options.resolv_conf_text.empty() ? read_head("/etc/resolv.conf") : options.resolv_conf_text;
    auto all = nameservers_from_resolv_conf(text);
    if (all.size() > options.max_nameservers) all.resize(options.max_nameservers);
    return all;
}

} // namespace

Observations observe(const std::vector<Target>& targets, const TriageOptions& options, Transport& transport,
                     const CancelToken* cancel) {
    auto started = SteadyClock::now();
    Run run{options,
            transport,
            started + options.budget,
            {},
            read_nameservers(options),
            options.hosts_text.empty() ? read_head("/etc/hosts") : options.hosts_text};
    Observations obs;
    obs.config = options.config;
    if (options.proxy) {
        for (const auto& n : options.proxy->notes()) obs.config.notes.push_back(n);
    }
    obs.budget = options.budget;
    obs.local_time =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    obs.targets.resize(targets.size());
    for (std::size_t i = 0; i < targets.size(); ++i) prepare_target(obs.targets[i], targets[i], options);

    std::atomic<int> running{0};
    std::vector<std::thread> threads;
    auto spawn = [&](auto fn) {
        ++running;
        threads.emplace_back([&running, fn = std::move(fn)]() mutable {
            fn();
            --running;
        });
    };
    spawn([&obs, &options] {
        auto t0 = SteadyClock::now();
        const SystemEnv process_env;
        obs.local = read_local_context(options.env != nullptr ? *options.env : process_env);
        obs.local_elapsed = std::chrono::duration_cast<Millis>(SteadyClock::now() - t0);
    });
    // Per target: is it on this machine (loopback address, /etc/hosts, a loopback proxy)?
    auto local = std::make_unique<bool[]>(obs.targets.size());
    for (std::size_t i = 0; i < obs.targets.size(); ++i) {
        spawn([&run, &obs, &local, i] { observe_target(obs.targets[i], run, local[i]); });
    }
    if (options.captive_probe_url.empty()) {
        obs.captive.skipped_why = "disabled (--captive-probe-url none)";
    } else {
        spawn([&] {
            // The default probe is skipped when every target is on this machine: no portal sits
            // between a host and itself (and tests must not reach the internet).
            if (!options.captive_explicit) {
                while (run.located.load() < obs.targets.size() && !run.out_of_time()) {
                    std::this_thread::sleep_for(std::chrono::milliseconds(5));
                }
                bool all_local = run.located.load() >= obs.targets.size();
                for (std::size_t i = 0; all_local && i < obs.targets.size(); ++i) all_local = local[i];
                if (all_local || run.out_of_time()) {
                    obs.captive.skipped_why = all_local ? "every target is on this machine" : "no time left";
                    return;
                }
            }
            obs.captive = check_captive(transport, options.captive_probe_url, run.step(), &run.inner);
            check_captive_name(obs.captive, options.captive_probe_url, run);
        });
    }
    // Wait for the work, the deadline or the caller's cancellation, whichever comes first.
    while (running.load() > 0) {
        if (SteadyClock::now() >= run.deadline || (cancel != nullptr && cancel->cancelled())) {
            obs.budget_exhausted = SteadyClock::now() >= run.deadline;
            run.inner.cancel_and_notify();
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    for (auto& th : threads) th.join();
    return obs;
}

TriageReport run_triage(const std::vector<Target>& targets, const TriageOptions& options, Transport& transport,
                        const CancelToken* cancel) {
    auto started = SteadyClock::now();
    Observations obs = observe(targets, options, transport, cancel);
    TriageReport report = make_report(obs, std::chrono::duration_cast<Millis>(SteadyClock::now() - started));
    std::vector<std::string> secrets = options.secrets;
    for (const auto& t : obs.targets) {
        if (t.proxy && !t.proxy->password.empty()) secrets.push_back(t.proxy->password);
        if (auto u = parse_url(t.target.url); u && !u->userinfo.empty()) {
            auto colon = u->userinfo.find(':');
            if (colon != std::string::npos) secrets.push_back(u->userinfo.substr(colon + 1));
        }
    }
    scrub_secrets(report, secrets);
    return report;
}

} // namespace goinstall::triage
