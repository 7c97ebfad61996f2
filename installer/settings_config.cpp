#include "settings_config.hpp"

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>

#include "goinstall/base/strings.hpp"
#include "goinstall/base/url.hpp"
#include "goinstall/fs/files.hpp"
#include "goinstall/platform/paths.hpp"

namespace goinstall::cli {

namespace {

using T = ConfigType;

// The one table of settings that can come from a file. Proxy credentials belong in the proxy URL
// (redacted everywhere); --prefix, --os/--arch, --json/--quiet, --sha256 and --allow-insecure-index
// are per-command choices and stay on the command line.
constexpr std::array k_keys{
    ConfigKey{"root", "root", "GOINSTALL_ROOT", T::path, false},
    ConfigKey{"cache_dir", "cache-dir", "GOINSTALL_CACHE_DIR", T::path, false},
    ConfigKey{"index_url", "index-url", "GOINSTALL_INDEX_URL", T::text, true},
    ConfigKey{"mirrors", "mirror", "GOINSTALL_MIRROR", T::list, true},
    ConfigKey{"no_fallback", "no-fallback", "GOINSTALL_NO_FALLBACK", T::boolean, false},
    ConfigKey{"proxy", "proxy", "", T::text, true},
    ConfigKey{"no_proxy_hosts", "noproxy-hosts", "", T::text, false},
    ConfigKey{"proxy_auth", "proxy-auth", "", T::text, false},
    ConfigKey{"no_system_proxy", "no-system-proxy", "", T::boolean, false},
    ConfigKey{"pac_url", "pac-url", "", T::text, true},
    ConfigKey{"cacert", "cacert", "GOINSTALL_CACERT", T::path, false},
    ConfigKey{"connect_timeout", "connect-timeout", "GOINSTALL_CONNECT_TIMEOUT", T::seconds, false},
    ConfigKey{"stall_timeout", "stall-timeout", "GOINSTALL_STALL_TIMEOUT", T::seconds, false},
    ConfigKey{"attempts_per_mirror", "attempts-per-mirror", "GOINSTALL_ATTEMPTS_PER_MIRROR", T::count, false,
              "max-retries", "GOINSTALL_MAX_RETRIES", "max_retries"},
    ConfigKey{"connections", "connections", "GOINSTALL_CONNECTIONS", T::count, false},
    ConfigKey{"race_after", "race-after", "GOINSTALL_RACE_AFTER", T::seconds, false},
    ConfigKey{"deadline", "deadline", "GOINSTALL_DEADLINE", T::seconds, false},
    ConfigKey{"lock_timeout", "lock-timeout", "GOINSTALL_LOCK_TIMEOUT", T::seconds, false},
    ConfigKey{"check_timeout", "check-timeout", "GOINSTALL_CHECK_TIMEOUT", T::seconds, false},
    ConfigKey{"offline", "offline", "GOINSTALL_OFFLINE", T::boolean, false},
    ConfigKey{"no_triage", "no-triage", "GOINSTALL_NO_TRIAGE", T::boolean, false},
    ConfigKey{"triage_timeout", "triage-timeout", "GOINSTALL_TRIAGE_TIMEOUT", T::seconds, false},
    ConfigKey{"captive_probe_url", "captive-probe-url", "GOINSTALL_CAPTIVE_PROBE_URL", T::text, true},
    ConfigKey{"goproxy", "goproxy", "GOPROXY", T::text, true},
    ConfigKey{"gosumdb", "gosumdb", "GOSUMDB", T::text, false},
    ConfigKey{"via", "via", "GOINSTALL_VIA", T::text, false},
};

const char* type_words(ConfigType t) {
    switch (t) {
    case T::path: return "a path (string)";
    case T::text: return "a string";
    case T::list: return "an array of strings";
    case T::boolean: return "true or false";
    case T::seconds: return "a number of seconds";
    case T::count: return "a whole number";
    }
    return "a value";
}

const char* json_type_name(const nlohmann::json& v) {
    if (v.is_string()) return "a string";
    if (v.is_boolean()) return "a boolean";
    if (v.is_number()) return "a number";
    if (v.is_array()) return "an array";
    if (v.is_object()) return "an object";
    return "null";
}

std::string known_keys() {
    std::string out;
    for (const auto& k : k_keys) out += (out.empty() ? "" : ", ") + std::string(k.key);
    return out;
}

// A value as it may be quoted in an error: secrets redacted, control characters replaced.
std::string shown(const ConfigKey& key, const std::string& value) {
    return sanitize_for_display(key.secret ? redact_url(value) : value, 60);
}

// (line, column) of byte offset `pos` in `text`, 1-based.
std::pair<std::size_t, std::size_t> line_col(std::string_view text, std::size_t pos) {
    pos = std::min(pos, text.size());
    auto before = text.substr(0, pos);
    std::size_t line = 1 + static_cast<std::size_t>(std::count(before.begin(), before.end(), '\n'));
    auto nl = before.rfind('\n');
    return {line, nl == std::string_view::npos ? pos + 1 : pos - nl};
}

std::string anchor_path(const std::string& value, const std::filesystem::path& base, const std::string& home) {
    if ((value == "~" || value.starts_with("~/")) && !home.empty()) {
        return (std::filesystem::path(home) / value.substr(value.size() > 1 ? 2 : 1)).lexically_normal().string();
    }
    std::filesystem::path p(value);
    return (p.is_absolute() ? p : base / p).lexically_normal().string();
}

} // namespace

std::span<const ConfigKey> config_keys() { return k_keys; }

const ConfigKey* find_config_key(std::string_view key) {
    for (const auto& k : k_keys) {
        if (key == k.key || (k.old_key[0] != '\0' && key == k.old_key)) return &k;
    }
    return nullptr;
}

std::optional<bool> parse_bool_text(std::string_view text) {
    auto t = to_lower(trim(text));
    if (t == "1" || t == "true" || t == "yes" || t == "on") return true;
    if (t == "0" || t == "false" || t == "no" || t == "off") return false;
    return std::nullopt;
}

Result<ConfigValues> parse_config_text(std::string_view text, const std::string& source,
                                       const std::filesystem::path& base_dir, const std::string& home) {
    nlohmann::json doc;
    try {
        doc = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
        auto [line, col] = line_col(text, e.byte > 0 ? e.byte - 1 : 0);
        return fail(ErrorCode::usage, source + ": not valid JSON (line " + std::to_string(line) + ", column " +
                                          std::to_string(col) + ")");
    } catch (const nlohmann::json::exception& e) {
        // Not a syntax error but still unreadable, e.g. a number beyond a double (found by fuzzing).
        return fail(ErrorCode::usage, source + ": not valid JSON (" + sanitize_for_display(e.what(), 120) + ")");
    }
    if (!doc.is_object()) {
        return fail(ErrorCode::usage, source + ": not a JSON object (expected {\"key\": value, ...})");
    }
    ConfigValues out;
    for (const auto& [name, value] : doc.items()) {
        const ConfigKey* key = find_config_key(name);
        if (key == nullptr) {
            return fail(ErrorCode::usage, source + ": unknown key '" + sanitize_for_display(name, 40) +
                                              "' (known: " + known_keys() + ")");
        }
        auto wrong = [&, key = key, got = json_type_name(value)]() {
            return fail(ErrorCode::usage, source + ": " + name + " must be " + type_words(key->type) + ", not " + got);
        };
        std::string v;
        switch (key->type) {
        case T::path:
        case T::text:
            if (!value.is_string()) return wrong();
            v = value.get<std::string>();
            if (trim(v).empty()) {
                return fail(ErrorCode::usage, source + ": " + name + " is empty (leave the key out for the default)");
            }
            if (key->type == T::path) v = anchor_path(v, base_dir, home);
            break;
        case T::list:
            if (!value.is_array()) return wrong();
            for (const auto& item : value) {
                if (!item.is_string() || trim(item.get<std::string>()).empty()) {
                    return fail(ErrorCode::usage, source + ": " + name + " must be an array of non-empty strings");
                }
                auto s = item.get<std::string>();
                if (s.find(',') != std::string::npos) {
                    return fail(ErrorCode::usage, source + ": " + name + ": '" + shown(*key, s) +
                                                      "' has a comma; give one mirror per array item");
                }
                v += (v.empty() ? "" : ",") + s;
            }
            break;
        case T::boolean:
            if (!value.is_boolean()) return wrong();
            v = value.get<bool>() ? "true" : "false";
            break;
        case T::seconds:
            if (!value.is_number()) return wrong();
            v = value.dump();
            break;
        case T::count:
            if (!value.is_number_integer()) return wrong();
            v = value.dump();
            break;
        }
        out[name] = std::move(v);
    }
    return out;
}

Result<std::pair<ConfigFileInfo, ConfigValues>> load_config(const cxxopts::ParseResult& a, const Env& env) {
    ConfigFileInfo info;
    if (a.count("config") > 0) {
        info.path = a["config"].as<std::string>();
        info.chosen_by = "--config";
        if (info.path.empty()) return fail(ErrorCode::usage, "--config needs a file");
    } else if (auto v = env.get("GOINSTALL_CONFIG"); v && !v->empty()) {
        info.path = *v;
        info.chosen_by = "GOINSTALL_CONFIG";
    } else {
        info.chosen_by = "default";
        if (auto dir = default_config_dir(env)) info.path = *dir / "config.json";
    }
    if (!info.path.empty()) info.path = std::filesystem::absolute(info.path).lexically_normal();
    std::error_code ec;
    const bool exists = !info.path.empty() && std::filesystem::exists(info.path, ec);
    if (!exists) {
        if (info.chosen_by == "default") return std::pair{info, ConfigValues{}};
        return fail(ErrorCode::usage, info.chosen_by + ": config file " + info.path.string() + " does not exist");
    }
    if (std::filesystem::is_directory(info.path, ec)) {
        return fail(ErrorCode::usage,
                    info.chosen_by + ": " + info.path.string() + " is a directory, not a config file");
    }
    auto text = read_file(info.path, 1 << 20);
    if (!text) return std::unexpected(std::move(text.error()).with_context("reading the config file"));
    auto values = parse_config_text(*text, info.path.string(), info.path.parent_path(), env.get("HOME").value_or(""));
    if (!values) return std::unexpected(values.error());
    info.loaded = true;
    return std::pair{info, std::move(*values)};
}

} // namespace goinstall::cli
