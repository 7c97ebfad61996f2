// goinstall proxy [URL]: which proxy each request would use, where that came from, and why the
// other sources did not decide. Touches no network.
#include <cstdio>

#include "exit_codes.hpp"
#include "goinstall/base/url.hpp"
#include "verbs.hpp"

namespace goinstall::cli {

int verb_proxy(const std::vector<std::string>& args, Context& ctx) {
    cxxopts::Options opts("goinstall proxy",
                          "Show the proxy used for the index, each mirror, or the URLs given, and why.\n"
                          "Usage: goinstall proxy [URL...]");
    add_common_options(opts);
    add_network_options(opts);
    opts.add_options()("positional", "", cxxopts::value<std::vector<std::string>>());
    opts.parse_positional({"positional"});
    opts.positional_help("[URL...]");
    int code = 0;
    auto parsed = parse_args(opts, args, code);
    if (!parsed) return code;
    auto& a = *parsed;
    if (a.count("help")) {
        return print_help(opts,
                          "  goinstall proxy\n  HTTPS_PROXY=http://proxy.corp:3128 goinstall proxy https://go.dev/\n"
                          "  goinstall proxy --proxy socks5h://127.0.0.1:1080 --mirror aliyun\n");
    }
    Reporter reporter(output_mode(a), *ctx.env);
    auto settings = resolve_settings(a, *ctx.env);
    if (!settings) return report_error(reporter, settings.error());
    auto resolver = make_proxy_resolver(*settings, *ctx.env, ctx.cancel);
    if (!resolver) return report_error(reporter, resolver.error());

    std::vector<std::pair<std::string, std::string>> targets; // (label, url)
    if (a.count("positional")) {
        for (const auto& u : a["positional"].as<std::vector<std::string>>()) {
            if (auto pu = parse_url(u); !pu) return report_error(reporter, pu.error());
            targets.emplace_back(redact_url(u), u);
        }
    } else {
        if (!settings->index_url.empty()) targets.emplace_back("index", settings->index_url);
        for (const auto& u : settings->index_fallbacks) targets.emplace_back("index (fallback)", u);
        for (const auto& m : settings->mirrors) targets.emplace_back("mirror " + m.name, m.base_url);
    }
    std::string text;
    for (const auto& [label, url] : targets) {
        auto c = resolver->choose(url);
        std::string line =
            label + ": " + redact_url(url) + "\n    " +
            (c.proxy ? "proxy " + c.proxy->display() + " (" + c.reason + ")" : "direct (" + c.reason + ")");
        for (const auto& sk : c.skipped) line += "\n    skipped " + sk;
        text += line + "\n";
        if (reporter.mode() == OutputMode::json) {
            std::string skipped;
            for (const auto& sk : c.skipped) skipped += (skipped.empty() ? "" : "; ") + sk;
            reporter.emit(Event{EventKind::info, ""}
                              .with("target", label)
                              .with("url", redact_url(url))
                              .with("proxy", c.proxy ? c.proxy->display() : std::string())
                              .with("source", c.source)
                              .with("reason", c.reason)
                              .with("skipped", skipped));
        }
    }
    for (const auto& note : resolver->notes()) {
        text += "note: " + note + "\n";
    }
    if (!text.empty()) text.pop_back();
    reporter.result(text, Event{EventKind::info, ""}.with("count", static_cast<std::int64_t>(targets.size())));
    return k_exit_ok;
}

} // namespace goinstall::cli
