#pragma once
// Internal to the settings resolver (settings*.cpp): where one setting's value comes from.

#include <initializer_list>
#include <optional>
#include <string>
#include <utility>

#include <cxxopts.hpp>

#include "goinstall/base/strings.hpp"
#include "goinstall/platform/env.hpp"
#include "settings.hpp"
#include "settings_config.hpp"

namespace goinstall::cli::settings_detail {

inline bool has(const cxxopts::ParseResult& a, const char* name) { return a.count(name) > 0; }

// The first of these variables that is set and not empty, with its name.
inline std::optional<std::pair<std::string, std::string>> first_env(const Env& env,
                                                                    std::initializer_list<const char*> names) {
    for (const char* n : names) {
        if (n[0] == '\0') continue;
        if (auto v = env.get(n); v && !v->empty()) return std::pair<std::string, std::string>{n, *v};
    }
    return std::nullopt;
}

// One setting's value from the first source that has it: flag, GOINSTALL_* variable, config
// file; at each level the setting's name wins over its old name. Records where it came from in
// Settings::origins (the default when none has it).
struct Picked {
    std::string text;
    std::string name; // for messages: "--root", "GOINSTALL_ROOT", "<file>: root"
    SettingOrigin::Source source;
};

class Sources {
public:
    Sources(const cxxopts::ParseResult& a, const Env& env, const ConfigFileInfo& info, const ConfigValues& file,
            Settings& s)
        : m_a(a), m_env(env), m_info(info), m_file(file), m_s(s) {}

    std::optional<Picked> pick(const char* key_name, std::string default_hint = "") {
        const ConfigKey& key = *find_config_key(key_name);
        std::optional<Picked> out;
        if (const char* flag = first_flag({key.flag, key.old_flag})) {
            out = Picked{flag_text(key, flag), std::string("--") + flag, SettingOrigin::Source::flag};
        } else if (auto v = first_env(m_env, {key.env, key.old_env})) {
            out = Picked{v->second, v->first, SettingOrigin::Source::env};
        } else if (auto it = file_entry(key); it != m_file.end()) {
            out = Picked{it->second, m_info.path.string() + ": " + it->first, SettingOrigin::Source::file};
        }
        if (out) {
            m_s.origins[key.key] = SettingOrigin{
                out->source, out->source == SettingOrigin::Source::file ? m_info.path.string() : out->name};
        } else {
            m_s.origins[key.key] = SettingOrigin{SettingOrigin::Source::default_value, std::move(default_hint)};
        }
        return out;
    }

    // A boolean setting; false when no source has it.
    Result<bool> flag_value(const char* key_name) {
        auto p = pick(key_name);
        if (!p) return false;
        auto b = parse_bool_text(p->text);
        if (!b) {
            return fail(ErrorCode::usage, p->name + ": '" + sanitize_for_display(p->text, 20) +
                                              "' is not a boolean (1/0, true/false, yes/no)");
        }
        return *b;
    }

private:
    // The first of these flags that was given ("" entries skipped), or nullptr.
    const char* first_flag(std::initializer_list<const char*> flags) const {
        for (const char* f : flags) {
            if (f[0] != '\0' && has(m_a, f)) return f;
        }
        return nullptr;
    }

    ConfigValues::const_iterator file_entry(const ConfigKey& key) const {
        auto it = m_file.find(key.key);
        if (it == m_file.end() && key.old_key[0] != '\0') it = m_file.find(key.old_key);
        return it;
    }

    std::string flag_text(const ConfigKey& key, const char* flag) const {
        if (key.type == ConfigType::boolean) return m_a[flag].as<bool>() ? "true" : "false";
        if (key.type == ConfigType::list) {
            std::string joined;
            for (const auto& m : m_a[flag].as<std::vector<std::string>>()) joined += (joined.empty() ? "" : ",") + m;
            return joined;
        }
        return m_a[flag].as<std::string>();
    }

    const cxxopts::ParseResult& m_a;
    const Env& m_env;
    const ConfigFileInfo& m_info;
    const ConfigValues& m_file;
    Settings& m_s;
};

// The go command's settings: goproxy, gosumdb (flag, variable, goinstall's config file, then the
// go command's `go env -w` file) and via (settings_modules.cpp).
Status resolve_module_route(Sources& src, const Env& env, Settings& s);

} // namespace goinstall::cli::settings_detail
