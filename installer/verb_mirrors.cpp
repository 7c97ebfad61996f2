// goinstall mirrors: the catalogue in effect (built-in entries plus the user's mirrors.json).
#include <cstdio>

#include "exit_codes.hpp"
#include "goinstall/download/catalog.hpp"
#include "verbs.hpp"

namespace goinstall::cli {

int verb_mirrors(const std::vector<std::string>& args, Context& ctx) {
    cxxopts::Options opts("goinstall mirrors",
                          "List the mirror catalogue: built-in entries plus $XDG_CONFIG_HOME/goinstall/mirrors.json.\n"
                          "Healthy entries (ok, unverified, stale) are the fallback after --mirror choices.");
    add_common_options(opts);
    add_network_options(opts);
    int code = 0;
    auto parsed = parse_args(opts, args, code);
    if (!parsed) return code;
    auto& a = *parsed;
    if (a.count("help")) {
        return print_help(opts, "  goinstall mirrors\n  goinstall mirrors --json\n"
                                "  goinstall 1.21.3 --mirror aliyun          prefer a catalogue entry\n");
    }
    Reporter reporter(output_mode(a));
    auto settings = resolve_settings(a, *ctx.env);
    if (!settings) return report_error(reporter, settings.error());
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
    reporter.result(text, Event{EventKind::info, ""}.with("count", static_cast<std::int64_t>(settings->catalog.entries.size())));
    return k_exit_ok;
}

} // namespace goinstall::cli
