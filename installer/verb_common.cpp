#include <cstdio>

#include "exit_codes.hpp"
#include "goinstall/base/strings.hpp"
#include "goinstall/base/url.hpp"
#include "goinstall/fs/files.hpp"
#include "goinstall/net/curl_transport.hpp"
#include "goinstall/net/pac.hpp"
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

namespace {

// Fetches a PAC script directly (never through a proxy: the script is what says which proxy to use),
// capped in size and time, and compiles it.
Result<std::shared_ptr<const PacScript>> load_pac(const Settings& s, const std::string& url) {
    std::string text;
    std::string shown = redact_url(url);
    if (url.find("://") == std::string::npos || url.starts_with("file://")) {
        auto body = read_file(url.starts_with("file://") ? url.substr(7) : url, 1 << 20);
        if (!body) return std::unexpected(std::move(body.error()).with_context("reading the PAC file"));
        text = std::move(*body);
    } else {
        TransportConfig cfg;
        cfg.extra_ca_file = s.cacert;
        auto t = CurlTransport::create(cfg);
        if (!t) return std::unexpected(t.error());
        Request req{.url = url, .limits = s.limits};
        req.limits.total_timeout = std::chrono::seconds(10);
        req.limits.max_body_bytes = 1 << 20;
        StringSink sink;
        auto resp = (*t)->fetch(req, sink, nullptr, {});
        if (!resp) return std::unexpected(std::move(resp.error()).with_context("fetching the PAC file " + shown));
        if (!resp->ok()) {
            return fail(ErrorCode::network, "fetching the PAC file " + shown + ": HTTP " + std::to_string(resp->status));
        }
        text = std::move(sink.body());
    }
    auto script = PacScript::compile(text, shown);
    if (!script) return std::unexpected(script.error());
    return std::make_shared<const PacScript>(std::move(*script));
}

} // namespace

Result<ProxyResolver> make_proxy_resolver(const Settings& s) {
    SystemEnv env;
    SystemProxyLookup system;
    if (s.proxy.use_system && !s.proxy.no_proxy) {
        system = read_system_proxy(env, real_command_runner());
    }
    ProxySettings ps = s.proxy;
    std::string pac_url = s.pac_url;
    std::string pac_from = "--pac-url";
    if (pac_url.empty() && system.found && system.found->mode == SystemProxy::Mode::auto_pac) {
        pac_url = system.found->pac_url;
        pac_from = system.found->source;
    }
    if (!pac_url.empty() && !ps.no_proxy) {
        auto pac = load_pac(s, pac_url);
        if (!pac) return std::unexpected(std::move(pac.error()).with_context("PAC from " + pac_from));
        ps.pac = *pac;
        ps.pac_source = redact_url(pac_url) + " (from " + pac_from + ")";
    }
    return ProxyResolver::create(ps, env, system);
}

Result<std::unique_ptr<Transport>> make_transport(const Settings& s) {
    TransportConfig cfg;
    cfg.extra_ca_file = s.cacert;
    cfg.ca_file_override = s.ca_file_override;
    cfg.ca_dir_override = s.ca_dir_override;
    auto resolver = make_proxy_resolver(s);
    if (!resolver) return std::unexpected(resolver.error());
    cfg.proxy = std::make_shared<const ProxyResolver>(std::move(*resolver));
    auto t = CurlTransport::create(cfg);
    if (!t) return std::unexpected(t.error());
    return std::unique_ptr<Transport>(std::move(*t));
}

} // namespace goinstall::cli
