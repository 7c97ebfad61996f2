#include <cstdio>
#include <ranges>

#include "exit_codes.hpp"
#include "goinstall/release/index_source.hpp"
#include "goinstall/core/installer.hpp"
#include "goinstall/install/layout.hpp"
#include "goinstall/release/platform_match.hpp"
#include "goinstall/sumdb/goproxy.hpp"
#include "goinstall/sumdb/toolchain_version.hpp"
#include "triage_report.hpp"
#include "verbs.hpp"

namespace goinstall::cli {

namespace {

struct Listed {
    std::vector<std::pair<Version, bool>> versions; // newest first; bool = stable
    std::string source;
    bool from_cache = false;
};

// The toolchain module's version list from the module proxies (GOPROXY), for this platform.
Result<Listed> list_from_proxies(Transport& transport, const Settings& s, const CancelToken* cancel) {
    sumdb::GoproxyOptions po;
    po.limits.connect_timeout = s.limits.connect_timeout;
    po.cancel = cancel;
    sumdb::GoproxyClient client(transport, s.modules.proxies, po);
    auto doc = client.list(sumdb::k_toolchain_module);
    if (!doc) return std::unexpected(doc.error());
    Listed out;
    out.source = doc->proxy;
    auto versions = sumdb::toolchain_versions_from_list(doc->body, s.platform.os, s.platform.arch);
    for (const auto& v : std::ranges::reverse_view(versions)) out.versions.emplace_back(v, v.is_stable());
    return out;
}

} // namespace

int verb_ls_remote(const std::vector<std::string>& args, Context& ctx) {
    cxxopts::Options opts("goinstall ls-remote", "List versions available for this OS/arch (newest first).");
    add_common_options(opts);
    add_network_options(opts);
    add_platform_options(opts);
    add_triage_options(opts);
    opts.add_options("Listing")("all", "Include betas and release candidates");
    int code = 0;
    auto parsed = parse_args(opts, args, code);
    if (!parsed) return code;
    auto& a = *parsed;
    if (a.count("help")) {
        return print_help(opts, "  goinstall ls-remote\n  goinstall ls-remote --all --os windows --arch arm64\n"
                                "  goinstall ls-remote --offline      from the cached index\n");
    }
    Reporter reporter(output_mode(a), *ctx.env);
    if (!a.unmatched().empty()) {
        return report_error(reporter, Error(ErrorCode::usage, "goinstall ls-remote takes no arguments"));
    }
    auto settings = resolve_settings(a, *ctx.env);
    if (!settings) return report_error(reporter, settings.error());
    auto modules = settings->module_route_options();
    const bool index_usable = static_cast<bool>(require_index(*settings));
    if (!index_usable && !modules) return report_error(reporter, require_index(*settings).error());
    auto transport = make_transport(*settings, *ctx.env, ctx.cancel);
    if (!transport) return report_error(reporter, transport.error());

    // The release index first (unless --via goproxy); the module proxies' list when it cannot be
    // reached, as for install.
    SystemClock clock;
    auto from_index = [&]() -> Result<Listed> {
        auto index = load_index(**transport, clock, reporter, settings->index_options(), ctx.cancel);
        if (!index) return std::unexpected(index.error());
        Listed out{{}, index->source, index->from_cache};
        for (const auto& r : index->index.releases) {
            if (find_archive(r, settings->platform) != nullptr) out.versions.emplace_back(r.version, r.stable);
        }
        return out;
    };
    const bool proxies_first = !index_usable || settings->modules.via == ModuleRouteSettings::Via::goproxy;
    auto listed = proxies_first ? list_from_proxies(**transport, *settings, ctx.cancel) : from_index();
    if (!listed && modules && index_usable && route_unreachable(listed.error()) &&
        !(ctx.cancel && ctx.cancel->cancelled())) {
        reporter.emit(Event{EventKind::route,
                            proxies_first ? "the module proxy could not be reached; listing from the release index"
                                          : "no release index source could be reached; listing the "
                                            "toolchain module's versions from the module proxy (GOPROXY)"}
                          .with("route", proxies_first ? "index" : "goproxy"));
        auto second = proxies_first ? from_index() : list_from_proxies(**transport, *settings, ctx.cancel);
        if (second) listed = std::move(second);
    }
    if (!listed) return report_failure(reporter, listed.error(), *settings, ctx);
    const bool all = a.count("all") > 0;
    auto layout = settings->layout();
    std::string text;
    std::int64_t count = 0;
    for (const auto& [version, stable] : listed->versions) {
        if (!all && !stable) continue;
        std::error_code ec;
        bool installed = std::filesystem::is_directory(layout.root() / version.text, ec);
        ++count;
        text += version.text + (stable ? "" : "\t(unstable)") + (installed ? "\t(installed)" : "") + "\n";
        if (reporter.mode() == OutputMode::json) {
            reporter.emit(Event{EventKind::info, ""}
                              .with("version", version.text)
                              .with("stable", stable)
                              .with("installed", installed));
        }
    }
    if (!text.empty()) text.pop_back();
    reporter.result(text, Event{EventKind::info, ""}
                              .with("count", count)
                              .with("source", listed->source)
                              .with("from_cache", listed->from_cache));
    return k_exit_ok;
}

} // namespace goinstall::cli
