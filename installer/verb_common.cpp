#include <chrono>
#include <cstdio>
#include <mutex>
#include <optional>

#include "exit_codes.hpp"
#include "goinstall/base/strings.hpp"
#include "goinstall/base/url.hpp"
#include "goinstall/fs/files.hpp"
#include "goinstall/net/curl_transport.hpp"
#include "goinstall/net/pac.hpp"
#include "goinstall/net/wpad.hpp"
#include "verbs.hpp"

namespace goinstall::cli {

std::optional<cxxopts::ParseResult> parse_args(cxxopts::Options& opts, const std::vector<std::string>& args,
                                               int& exit_code) {
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    try {
        return opts.parse(static_cast<int>(argv.size()), argv.data());
    } catch (const cxxopts::exceptions::exception& e) {
        std::fprintf(stderr, "goinstall: error: %s (see '%s --help')\n", sanitize_for_display(e.what(), 200).c_str(),
                     args.empty() ? "goinstall" : args[0].c_str());
        exit_code = k_exit_usage;
        return std::nullopt;
    }
}

int print_help(cxxopts::Options& opts, const char* examples) {
    std::fputs(opts.help().c_str(), stdout);
    if (examples != nullptr && examples[0] != '\0') {
        std::fprintf(stdout, "\nExamples:\n%s", examples);
    }
    std::fprintf(stdout, "\n%s", exit_code_help());
    return k_exit_ok;
}

int report_error(Reporter& reporter, const Error& err) {
    int code = exit_code_for(err.code());
    reporter.error(err, code);
    return code;
}

void emit_mirror_notes(Reporter& reporter, const Settings& s) {
    for (const auto& note : s.mirror_notes) reporter.emit(Event{EventKind::warning, "mirror " + note});
}

namespace {

// Fetches a PAC script directly (never through a proxy: the script is what says which proxy to use),
// capped in size and time, and compiles it.
Result<std::shared_ptr<const PacScript>> load_pac(const Settings& s, const std::string& url) {
    std::string text;
    std::string shown = redact_url(url);
    if (!pac_supported()) { // nothing to fetch: the script could not be run
        return fail(ErrorCode::usage, "PAC script " + shown +
                                          ": this build has no PAC support (install duktape-dev "
                                          "and rebuild)");
    }
    if (url.find("://") == std::string::npos || url.starts_with("file://")) {
        auto body = read_file(url.starts_with("file://") ? url.substr(7) : url, 1 << 20);
        if (!body) return std::unexpected(std::move(body.error()).with_context("reading the PAC file"));
        text = std::move(*body);
    } else {
        TransportConfig cfg;
        cfg.extra_ca_file = s.cacert;
        cfg.resolve = s.resolve;
        auto t = CurlTransport::create(cfg);
        if (!t) return std::unexpected(t.error());
        Request req{.url = url, .limits = s.limits};
        req.limits.total_timeout = std::chrono::seconds(10);
        req.limits.max_body_bytes = 1 << 20;
        StringSink sink;
        auto resp = (*t)->fetch(req, sink, nullptr, {});
        if (!resp) return std::unexpected(std::move(resp.error()).with_context("fetching the PAC file " + shown));
        if (!resp->ok()) {
            return fail(ErrorCode::network,
                        "fetching the PAC file " + shown + ": HTTP " + std::to_string(resp->status));
        }
        text = std::move(sink.body());
    }
    auto script = PacScript::compile(text, shown);
    if (!script) return std::unexpected(script.error());
    return std::make_shared<const PacScript>(std::move(*script));
}

} // namespace

namespace {

// The first *_proxy variable that names a proxy (the environment tier of the resolver), or "".
std::string env_proxy_name(const Env& env) {
    for (const char* n : {"https_proxy", "HTTPS_PROXY", "http_proxy", "all_proxy", "ALL_PROXY"}) {
        if (auto v = env.get(n); v && !trim(*v).empty()) return n;
    }
    return {};
}

// WPAD discovery, at most once per process (later resolvers reuse the answer; nothing is kept on disk).
const WpadResult& discover_wpad_once(const Settings& s, const CancelToken* cancel) {
    static std::mutex mu;
    static std::optional<WpadResult> cached;
    std::lock_guard lock(mu);
    if (cached) return *cached;
    std::vector<std::string> domains;
    if (auto text = read_file("/etc/resolv.conf", 64 * 1024)) domains = parse_resolv_conf_domains(*text);
    if (domains.empty()) {
        if (auto d = domain_of_fqdn(host_fqdn()); !d.empty()) domains.push_back(d);
    }
    auto candidates = wpad_candidates(domains);
    WpadResult r;
    if (candidates.empty()) {
        r.nothing_tried = domains.empty() ? "no DNS domain to search (no search/domain line in /etc/resolv.conf and "
                                            "no domain in the host name)"
                                          : "no domain to search below a public suffix in '" + domains.front() + "'";
    } else {
        TransportConfig cfg; // no resolver: every candidate is fetched directly
        cfg.extra_ca_file = s.cacert;
        if (auto t = CurlTransport::create(cfg); !t) {
            r.nothing_tried = t.error().message();
        } else {
            SystemClock clock;
            r = discover_wpad(candidates, **t, clock, {}, cancel);
        }
    }
    cached = std::move(r);
    return *cached;
}

} // namespace

Result<ProxyResolver> make_proxy_resolver(const Settings& s, const Env& env, const CancelToken* cancel) {
    SystemProxyLookup system;
    if (s.proxy.use_system && !s.proxy.no_proxy) {
        system = read_system_proxy(env, real_command_runner(env));
    }
    ProxySettings ps = s.proxy;
    const bool system_auto =
        s.pac_url.empty() && system.found && system.found->mode == SystemProxy::Mode::auto_pac && !ps.no_proxy;
    if (!s.pac_url.empty() && !ps.no_proxy) {
        // --pac-url (or the config file's pac_url) was asked for explicitly: failing to load it is an error.
        auto pac = load_pac(s, s.pac_url);
        if (!pac) return std::unexpected(std::move(pac.error()).with_context("PAC from --pac-url"));
        ps.pac = *pac;
        ps.pac_source = redact_url(s.pac_url) + " (from --pac-url)";
        return ProxyResolver::create(ps, env, system);
    }
    if (!system_auto) return ProxyResolver::create(ps, env, system);
    // The system asks for a PAC file (its URL, or WPAD without one). The resolver consults --proxy, the
    // environment and the config file first, so when one of them names a proxy nothing is fetched.
    const std::string& from = system.found->source;
    const std::string& url = system.found->pac_url;
    std::string higher = ps.proxy ? std::string("--proxy") : env_proxy_name(env);
    if (higher.empty() && ps.config_proxy && !trim(*ps.config_proxy).empty()) higher = "the config file";
    if (!higher.empty()) {
        ps.pac_unavailable = (url.empty() ? "WPAD not run: " : "PAC file not loaded: ") + higher + " names a proxy";
    } else if (!url.empty()) {
        // A system PAC that cannot be loaded is one unavailable source, not a failed command.
        if (auto pac = load_pac(s, url)) {
            ps.pac = *pac;
            ps.pac_source = redact_url(url) + " (from " + from + ")";
        } else {
            ps.pac_unavailable = "PAC file not loaded: " + pac.error().describe();
        }
    } else if (const WpadResult& w = discover_wpad_once(s, cancel); w.script) {
        ps.pac = w.script;
        ps.pac_source = w.url + " (WPAD, from " + from + ")";
    } else {
        ps.pac_unavailable = w.summary();
    }
    return ProxyResolver::create(ps, env, system);
}

Result<std::unique_ptr<Transport>> make_transport(const Settings& s, const Env& env, const CancelToken* cancel) {
    TransportConfig cfg;
    cfg.extra_ca_file = s.cacert;
    cfg.ca_file_override = s.ca_file_override;
    cfg.ca_dir_override = s.ca_dir_override;
    cfg.resolve = s.resolve;
    auto resolver = make_proxy_resolver(s, env, cancel);
    if (!resolver) return std::unexpected(resolver.error());
    cfg.proxy = std::make_shared<const ProxyResolver>(std::move(*resolver));
    auto t = CurlTransport::create(cfg);
    if (!t) return std::unexpected(t.error());
    return std::unique_ptr<Transport>(std::move(*t));
}

} // namespace goinstall::cli
