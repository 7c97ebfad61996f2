// goinstall config: the settings in effect and where each came from.
#include <array>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "exit_codes.hpp"
#include "goinstall/base/strings.hpp"
#include "goinstall/base/url.hpp"
#include "goinstall/download/downloader.hpp"
#include "settings_config.hpp"
#include "verbs.hpp"

namespace goinstall::cli {

namespace {

const char* k_examples = "  goinstall config                         the effective settings and their sources\n"
                         "  goinstall config --json                  the same as one JSON object\n"
                         "  goinstall config --config ./ci.json      check a config file\n"
                         "  GOINSTALL_DEADLINE=600 goinstall config  see the environment win over the file\n";

double secs(std::chrono::milliseconds d) { return static_cast<double>(d.count()) / 1000.0; }

// The effective value of one setting, as JSON (secrets redacted).
nlohmann::json value_of(const std::string& key, const Settings& s, const Env& env) {
    const SettingOrigin& o = s.origins.at(key);
    if (key == "root") return s.root.string();
    if (key == "cache_dir") return s.cache_dir.string();
    if (key == "index_url") return redact_url(s.index_url);
    if (key == "mirrors") {
        auto list = nlohmann::json::array();
        if (s.rank_mirrors) list.push_back("auto"); // probe them and try the fastest first
        for (const auto& m : s.mirrors) list.push_back(m.name);
        return list;
    }
    if (key == "no_fallback") return s.no_fallback;
    if (key == "proxy") {
        if (o.source == SettingOrigin::Source::env) return redact_url(env.get(o.from).value_or(""));
        if (s.proxy.proxy) return redact_url(*s.proxy.proxy);
        if (s.proxy.config_proxy) return redact_url(*s.proxy.config_proxy);
        return nullptr;
    }
    if (key == "no_proxy_hosts") {
        if (o.source == SettingOrigin::Source::env) return env.get(o.from).value_or("");
        return s.proxy.noproxy_hosts ? nlohmann::json(*s.proxy.noproxy_hosts) : nlohmann::json(nullptr);
    }
    if (key == "proxy_auth") return s.proxy.proxy_auth;
    if (key == "no_system_proxy") return !s.proxy.use_system;
    if (key == "pac_url") return s.pac_url.empty() ? nlohmann::json(nullptr) : nlohmann::json(redact_url(s.pac_url));
    if (key == "cacert") { // every file given (--cacert repeats), a plain string when there is one
        if (s.cacerts.size() == 1) return s.cacerts.front();
        return s.cacerts.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.cacerts);
    }
    if (key == "connect_timeout") return secs(s.limits.connect_timeout);
    if (key == "stall_timeout") return static_cast<double>(s.limits.stall_time.count());
    if (key == "attempts_per_mirror") return s.attempts_per_mirror;
    if (key == "connections") return s.connections == 0 ? static_cast<int>(k_default_connections) : s.connections;
    if (key == "race_after") return secs(s.race_after);
    if (key == "deadline") return secs(s.deadline);
    if (key == "lock_timeout") return secs(s.lock_timeout);
    if (key == "offline") return s.offline;
    if (key == "no_triage") return !s.triage.enabled;
    if (key == "triage_timeout") return secs(s.triage.budget);
    if (key == "goproxy")
        return redact_url_list(s.modules.goproxy.empty() ? std::string(sumdb::k_default_goproxy) : s.modules.goproxy);
    if (key == "gosumdb") {
        if (s.modules.gosumdb.empty()) return std::string("sum.golang.org");
        // "<name or key> [url]": the URL may carry credentials.
        auto space = s.modules.gosumdb.find_first_of(" \t");
        if (space == std::string::npos) return s.modules.gosumdb;
        return s.modules.gosumdb.substr(0, space + 1) + redact_url(trim(s.modules.gosumdb.substr(space + 1)));
    }
    if (key == "via") return to_string(s.modules.via);
    if (key == "captive_probe_url") {
        return s.triage.captive_probe_url.empty() ? nlohmann::json("none")
                                                  : nlohmann::json(redact_url(s.triage.captive_probe_url));
    }
    return nullptr;
}

std::string text_of(const nlohmann::json& v) {
    if (v.is_null()) return "(none)";
    if (v.is_string()) return v.get<std::string>();
    if (v.is_array()) {
        std::string out;
        for (const auto& x : v) out += (out.empty() ? "" : ", ") + x.get<std::string>();
        return out.empty() ? "(none)" : out;
    }
    if (v.is_number_float()) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%g", v.get<double>());
        return buf;
    }
    return v.dump();
}

std::string source_text(const SettingOrigin& o) {
    switch (o.source) {
    case SettingOrigin::Source::flag: return "flag " + o.from;
    case SettingOrigin::Source::env: return "env " + o.from;
    case SettingOrigin::Source::file: return "file";
    case SettingOrigin::Source::default_value: break;
    }
    return o.from.empty() ? "default" : "default (" + o.from + ")";
}

} // namespace

int verb_config(const std::vector<std::string>& args, Context& ctx) {
    cxxopts::Options opts("goinstall config",
                          "Show the settings in effect and where each came from: a flag, a GOINSTALL_* variable, the "
                          "config file, or the default (in that order of precedence). Passwords are masked.");
    add_common_options(opts);
    add_network_options(opts);
    add_platform_options(opts);
    add_triage_options(opts);
    // clang-format off
    opts.add_options("Locking")("lock-timeout", "Seconds to wait for another goinstall (env GOINSTALL_LOCK_TIMEOUT; default 600)",
                                cxxopts::value<std::string>(), "SECS");
    opts.add_options("Install")("check-timeout", "Seconds the 'bin/go version' check may take (env GOINSTALL_CHECK_TIMEOUT; default 30)",
                                cxxopts::value<std::string>(), "SECS");
    // clang-format on
    int code = 0;
    auto parsed = parse_args(opts, args, code);
    if (!parsed) return code;
    auto& a = *parsed;
    if (a.count("help")) return print_help(opts, k_examples);
    Reporter reporter(output_mode(a), *ctx.env);
    if (!a.unmatched().empty()) {
        return report_error(reporter, Error(ErrorCode::usage, "goinstall config takes no arguments"));
    }
    auto settings = resolve_settings(a, *ctx.env);
    if (!settings) return report_error(reporter, settings.error());
    const Settings& s = *settings;

    nlohmann::json file = {
        {"path", s.config.path.string()}, {"chosen_by", s.config.chosen_by}, {"loaded", s.config.loaded}};
    std::string text = "config file: " +
                       (s.config.path.empty() ? std::string("(none: no config directory)") : s.config.path.string()) +
                       (s.config.chosen_by == "default" ? "" : " (from " + s.config.chosen_by + ")") +
                       (s.config.loaded ? "" : " (not present)") + "\n";
    nlohmann::json items = nlohmann::json::object();
    std::size_t key_w = 3, value_w = 5;
    std::vector<std::array<std::string, 3>> rows;
    for (const auto& key : config_keys()) {
        const auto& origin = s.origins.at(key.key);
        auto v = value_of(key.key, s, *ctx.env);
        items[key.key] = {{"value", v}, {"source", to_string(origin.source)}, {"from", origin.from}};
        rows.push_back({key.key, sanitize_for_display(text_of(v), 60), source_text(origin)});
        key_w = std::max(key_w, rows.back()[0].size());
        value_w = std::max(value_w, rows.back()[1].size());
    }
    auto pad = [](const std::string& x, std::size_t w) {
        return x + std::string(w > x.size() ? w - x.size() : 0, ' ');
    };
    text += pad("KEY", key_w) + "  " + pad("VALUE", value_w) + "  SOURCE\n";
    for (const auto& r : rows) text += pad(r[0], key_w) + "  " + pad(r[1], value_w) + "  " + r[2] + "\n";
    text.pop_back();
    reporter.result_json(text, {{"config_file", file}, {"settings", items}});
    return k_exit_ok;
}

} // namespace goinstall::cli
