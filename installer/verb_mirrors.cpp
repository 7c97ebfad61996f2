// goinstall mirrors: the catalogue in effect (built-in entries plus the user's mirrors.json).
#include <cstdio>

#include "exit_codes.hpp"
#include "goinstall/base/strings.hpp"
#include "goinstall/base/url.hpp"
#include "goinstall/release/index_source.hpp"
#include "goinstall/download/catalog.hpp"
#include "goinstall/download/probe.hpp"
#include "goinstall/release/platform_match.hpp"
#include "goinstall/release/resolve.hpp"
#include "goinstall/release/version_spec.hpp"
#include "triage_report.hpp"
#include "verbs.hpp"

namespace goinstall::cli {

namespace {

int probe(const Settings& s, const std::string& spec_text, Reporter& reporter, Context& ctx) {
    if (auto st = require_index(s); !st) return report_error(reporter, st.error());
    if (auto st = require_mirrors(s); !st) return report_error(reporter, st.error());
    auto spec = parse_version_spec(spec_text);
    if (!spec) return report_error(reporter, spec.error());
    auto transport = make_transport(s, *ctx.env, ctx.cancel);
    if (!transport) return report_error(reporter, transport.error());
    SystemClock clock;
    auto index = load_index(**transport, clock, reporter, s.index_options(), ctx.cancel);
    if (!index) return report_failure(reporter, index.error(), s, ctx);
    auto release = resolve(index->index, *spec, false);
    if (!release) return report_error(reporter, release.error());
    const ReleaseFile* file = find_archive(**release, s.platform);
    if (file == nullptr) {
        return report_error(reporter, Error(ErrorCode::not_found, (*release)->version.text + " has no archive for " +
                                                                      s.platform.os + "/" + s.platform.arch));
    }
    ProbeOptions po;
    po.limits = s.limits;
    auto ranked = rank_probes(probe_mirrors(**transport, s.mirrors, file->filename, po, ctx.cancel));
    std::string text = "probing " + file->filename + " (first " + human_bytes(po.sample_bytes) + "):\n";
    char line[512];
    int rank = 0;
    bool any_ok = false;
    for (const auto& r : ranked) {
        any_ok = any_ok || r.ok;
        std::string speed = r.ok ? human_bytes(static_cast<std::uint64_t>(r.bytes_per_second)) + "/s" : "-";
        std::snprintf(line, sizeof line, "%2d  %-24s %-8s %6lld ms  %12s  %s", ++rank, r.mirror.name.c_str(),
                      r.ok ? "ok" : "failed", static_cast<long long>(r.head_time.count()), speed.c_str(),
                      r.error.c_str());
        text += std::string(line) + "\n";
        if (reporter.mode() == OutputMode::json) {
            reporter.emit(Event{EventKind::info, ""}
                              .with("mirror", r.mirror.name)
                              .with("ok", r.ok)
                              .with("http_status", static_cast<std::int64_t>(r.http_status))
                              .with("head_ms", static_cast<std::int64_t>(r.head_time.count()))
                              .with("bytes_per_second", r.bytes_per_second)
                              .with("error", r.error));
        }
    }
    if (!any_ok) {
        std::vector<TriedSource> tried; // triage checks every mirror probed
        for (const auto& r : ranked) {
            tried.push_back(
                {"mirror", r.mirror.name, redact_url(join_url(r.mirror.base_url, file->filename)), r.error});
        }
        return report_failure(
            reporter, Error(ErrorCode::network, "no mirror answered for " + file->filename).with_tried(tried), s, ctx);
    }
    text.pop_back();
    reporter.result(text, Event{EventKind::info, ""}.with("best", ranked.front().mirror.name));
    return k_exit_ok;
}

} // namespace

int verb_mirrors(const std::vector<std::string>& args, Context& ctx) {
    cxxopts::Options opts("goinstall mirrors",
                          "List the mirror catalogue: built-in entries plus $XDG_CONFIG_HOME/goinstall/mirrors.json.\n"
                          "Healthy entries (ok, unverified, stale) are the fallback after --mirror choices.");
    add_common_options(opts);
    add_network_options(opts);
    add_platform_options(opts);
    add_triage_options(opts);
    // clang-format off
    opts.add_options("Probe")
        ("probe", "Measure each mirror on the first bytes of VERSION's archive (default: latest), in parallel")
        ("positional", "", cxxopts::value<std::vector<std::string>>());
    // clang-format on
    opts.parse_positional({"positional"});
    opts.positional_help("[--probe [VERSION]]");
    int code = 0;
    auto parsed = parse_args(opts, args, code);
    if (!parsed) return code;
    auto& a = *parsed;
    if (a.count("help")) {
        return print_help(opts, "  goinstall mirrors\n  goinstall mirrors --json\n"
                                "  goinstall 1.21.3 --mirror aliyun          prefer a catalogue entry\n");
    }
    Reporter reporter(output_mode(a), *ctx.env);
    auto settings = resolve_settings(a, *ctx.env);
    if (!settings) return report_error(reporter, settings.error());
    std::vector<std::string> pos;
    if (a.count("positional")) pos = a["positional"].as<std::vector<std::string>>();
    if (a.count("probe")) {
        if (pos.size() > 1)
            return report_error(reporter, Error(ErrorCode::usage, "usage: goinstall mirrors --probe [VERSION]"));
        return probe(*settings, pos.empty() ? "latest" : pos[0], reporter, ctx);
    }
    if (!pos.empty())
        return report_error(reporter,
                            Error(ErrorCode::usage, "goinstall mirrors takes no arguments (did you mean --probe?)"));
    std::string text;
    char line[512];
    for (const auto& e : settings->catalog.entries) {
        std::snprintf(line, sizeof line, "%-12s %-10s %-6s %s%s%s", e.name.c_str(), to_string(e.status),
                      e.region.empty() ? "-" : e.region.c_str(), e.url.c_str(), e.note.empty() ? "" : "  # ",
                      e.note.c_str());
        text += std::string(line) + "\n";
        if (reporter.mode() == OutputMode::json) {
            reporter.emit(Event{EventKind::info, ""}
                              .with("name", e.name)
                              .with("url", e.url)
                              .with("index", e.index_url)
                              .with("status", std::string(to_string(e.status)))
                              .with("region", e.region)
                              .with("checked", e.checked)
                              .with("note", e.note)
                              .with("builtin", e.builtin));
        }
    }
    std::string order;
    for (const auto& m : settings->mirrors) order += (order.empty() ? "" : " → ") + m.name;
    text += "order in effect: " + order;
    reporter.result(
        text, Event{EventKind::info, ""}.with("count", static_cast<std::int64_t>(settings->catalog.entries.size())));
    return k_exit_ok;
}

} // namespace goinstall::cli
