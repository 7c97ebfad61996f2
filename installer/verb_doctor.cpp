// goinstall doctor [URL|MIRROR...]: the network triage on demand, against the index sources and the
// mirrors in effect (or the URLs and catalogue names given). Exit 0 when everything works, 20 when
// it works but something is wrong or slow, 21 when the index or every mirror is unreachable.
#include <cstdio>

#include "exit_codes.hpp"
#include "goinstall/base/strings.hpp"
#include "goinstall/base/url.hpp"
#include "goinstall/release/index_source.hpp"
#include "goinstall/release/platform_match.hpp"
#include "goinstall/release/resolve.hpp"
#include "goinstall/release/version_spec.hpp"
#include "triage_report.hpp"
#include "verbs.hpp"

namespace goinstall::cli {

namespace {

const char* k_doctor_examples =
    "  goinstall doctor                                   the index and the mirrors in effect\n"
    "  goinstall doctor aliyun https://go.dev/dl/         a catalogue mirror and a URL\n"
    "  goinstall doctor --json                            the report as one JSON object\n"
    "  goinstall doctor --triage-timeout 30 --captive-probe-url none\n";

// The file name of the newest stable archive for the platform, so that mirrors are asked for a
// real file (a mirror's directory URL may well answer 403 or 404). From the cache if need be; ""
// when no index can be had (the index target then says why).
std::string probe_filename(const Settings& s, Transport& transport, Context& ctx) {
    if (s.index_url.empty()) return {};
    NullEventSink quiet;
    SystemClock clock;
    IndexOptions io = s.index_options();
    io.limits.total_timeout = std::chrono::seconds(5);
    io.limits.connect_timeout = std::min(io.limits.connect_timeout, std::chrono::milliseconds(3000));
    auto index = load_index(transport, clock, quiet, io, ctx.cancel);
    if (!index) return {};
    auto spec = parse_version_spec("latest");
    if (!spec) return {};
    auto release = resolve(index->index, *spec, false);
    if (!release) return {};
    const ReleaseFile* file = find_archive(**release, s.platform);
    return file ? file->filename : std::string();
}

} // namespace

int verb_doctor(const std::vector<std::string>& args, Context& ctx) {
    cxxopts::Options opts(
        "goinstall doctor",
        "Check the network path to the release index and the mirrors, layer by layer (configuration,\n"
        "local network, DNS, TCP, proxy, TLS, clock, HTTP, throughput), and say what to do about it.\n"
        "Usage: goinstall doctor [URL|MIRROR...]\n"
        "Exit: 0 all good, 20 degraded (works, but something is wrong or slow), 21 failed.");
    add_common_options(opts);
    add_network_options(opts);
    add_platform_options(opts);
    add_triage_options(opts);
    opts.add_options()("positional", "", cxxopts::value<std::vector<std::string>>());
    opts.parse_positional({"positional"});
    opts.positional_help("[URL|MIRROR...]");
    int code = 0;
    auto parsed = parse_args(opts, args, code);
    if (!parsed) return code;
    auto& a = *parsed;
    if (a.count("help")) return print_help(opts, k_doctor_examples);
    Reporter reporter(output_mode(a), *ctx.env);
    auto settings = resolve_settings(a, *ctx.env);
    if (!settings) return report_error(reporter, settings.error());

    std::vector<triage::Target> targets;
    if (a.count("positional")) {
        for (const auto& arg : a["positional"].as<std::vector<std::string>>()) {
            if (arg.find("://") != std::string::npos) {
                auto u = parse_url(arg);
                if (!u) return report_error(reporter, u.error());
                if (u->scheme != "http" && u->scheme != "https") {
                    return report_error(
                        reporter, Error(ErrorCode::usage, "doctor checks http(s) URLs, not '" + redact_url(arg) + "'"));
                }
                targets.push_back({redact_url(arg), arg, triage::Role::url});
            } else if (const auto* e = settings->catalog.find(arg)) {
                targets.push_back({"mirror " + e->name, e->url, triage::Role::mirror});
            } else {
                return report_error(
                    reporter,
                    Error(ErrorCode::usage, "'" + sanitize_for_display(arg, 60) +
                                                "' is neither a URL nor a mirror name (see 'goinstall mirrors')"));
            }
        }
    } else {
        if (auto st = require_index(*settings); !st) return report_error(reporter, st.error());
        auto transport = make_transport(*settings, *ctx.env, ctx.cancel);
        if (!transport) return report_error(reporter, transport.error());
        targets = configured_targets(*settings, settings->offline ? "" : probe_filename(*settings, **transport, ctx));
    }
    if (reporter.mode() == OutputMode::text) {
        std::fprintf(stderr, "goinstall: checking %zu target%s (at most %.0f s)...\n", targets.size(),
                     targets.size() == 1 ? "" : "s", static_cast<double>(settings->triage.budget.count()) / 1000.0);
    }
    auto report = run_cli_triage(*settings, targets, ctx);
    if (!report) return report_error(reporter, report.error());
    if (ctx.cancel && ctx.cancel->cancelled()) return report_error(reporter, Error(ErrorCode::cancelled, "cancelled"));
    print_report(reporter.mode(), *report, stdout);
    reporter.result("", Event{EventKind::info, ""}
                            .with("health", std::string(to_string(report->verdict.health)))
                            .with("verdict", report->verdict.code));
    switch (report->verdict.health) {
    case triage::Health::ok: return k_exit_ok;
    case triage::Health::degraded: return k_exit_doctor_degraded;
    case triage::Health::failed: return k_exit_doctor_failed;
    }
    return k_exit_doctor_failed;
}

} // namespace goinstall::cli
