#include <cstdio>

#include "exit_codes.hpp"
#include "goinstall/base/strings.hpp"
#include "goinstall/net/curl_transport.hpp"
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

Result<ProxyResolver> make_proxy_resolver(const Settings& s) {
    SystemEnv env;
    SystemProxyLookup system;
    if (s.proxy.use_system && !s.proxy.no_proxy) {
        system = read_system_proxy(env, real_command_runner());
    }
    return ProxyResolver::create(s.proxy, env, system);
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
