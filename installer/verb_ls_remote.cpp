#include <cstdio>

#include "exit_codes.hpp"
#include "goinstall/core/index_source.hpp"
#include "goinstall/install/layout.hpp"
#include "goinstall/release/platform_match.hpp"
#include "triage_report.hpp"
#include "verbs.hpp"

namespace goinstall::cli {

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
    if (auto st = require_index(*settings); !st) return report_error(reporter, st.error());
    auto transport = make_transport(*settings, *ctx.env, ctx.cancel);
    if (!transport) return report_error(reporter, transport.error());

    SystemClock clock;
    auto index = load_index(**transport, clock, reporter, settings->index_options(), ctx.cancel);
    if (!index) return report_failure(reporter, index.error(), *settings, ctx);
    const bool all = a.count("all") > 0;
    auto layout = settings->layout();
    std::string text;
    std::int64_t count = 0;
    for (const auto& r : index->index.releases) {
        if ((!all && !r.stable) || find_archive(r, settings->platform) == nullptr) continue;
        std::error_code ec;
        bool installed = std::filesystem::is_directory(layout.root() / r.version.text, ec);
        ++count;
        text += r.version.text + (r.stable ? "" : "\t(unstable)") + (installed ? "\t(installed)" : "") + "\n";
        if (reporter.mode() == OutputMode::json) {
            reporter.emit(Event{EventKind::info, ""}
                              .with("version", r.version.text)
                              .with("stable", r.stable)
                              .with("installed", installed));
        }
    }
    if (!text.empty()) text.pop_back();
    reporter.result(text, Event{EventKind::info, ""}
                              .with("count", count)
                              .with("source", index->source)
                              .with("from_cache", index->from_cache));
    return k_exit_ok;
}

} // namespace goinstall::cli
