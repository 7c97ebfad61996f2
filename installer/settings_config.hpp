#pragma once
// The settings table (config-file key ↔ flag ↔ environment variable) and the config file reader.
// Private to the CLI: settings.cpp resolves values with it, verb_config.cpp shows them.

#include <cxxopts.hpp>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <string_view>

#include "goinstall/base/error.hpp"
#include "goinstall/platform/env.hpp"
#include "settings.hpp"

namespace goinstall::cli {

enum class ConfigType {
    path,    // JSON string; relative to the config file's directory, "~/" = $HOME
    text,    // JSON string
    list,    // JSON array of strings
    boolean, // JSON true/false; flags take --flag or --flag=false; env 1/0, true/false, yes/no
    seconds, // JSON number > 0 (fractions allowed)
    count,   // JSON whole number
};

struct ConfigKey {
    const char* key;  // in the config file and in `goinstall config`
    const char* flag; // without the dashes; "" when the setting has no flag
    const char* env;  // "" when there is no GOINSTALL_* variable for it
    ConfigType type;
    bool secret; // may hold credentials: shown redacted, never quoted in errors
    // The setting's old names, still accepted below the new ones ("" when it has none).
    const char* old_flag = "";
    const char* old_env = "";
    const char* old_key = "";
};

// Every key the config file accepts, in display order.
std::span<const ConfigKey> config_keys();
// The entry for `key`, by its name or its old name; nullptr when unknown.
const ConfigKey* find_config_key(std::string_view key);

// The config file's values as text, keyed by config key as written (an old name stays the old
// name): strings as they are (paths made absolute), booleans "true"/"false", numbers as written,
// lists joined with ','.
using ConfigValues = std::map<std::string, std::string>;

// Parses a config file's text. Fails (usage) naming `source` and the key: not a JSON object
// (with line and column), an unknown key, a value of the wrong type, an empty string, a list item
// with a comma. `base_dir` anchors relative paths; `home` expands "~/".
Result<ConfigValues> parse_config_text(std::string_view text, const std::string& source,
                                       const std::filesystem::path& base_dir, const std::string& home);

// Finds the config file (--config FILE, else GOINSTALL_CONFIG, else
// $XDG_CONFIG_HOME/goinstall/config.json) and reads it. A file named by the flag or the variable
// must exist; the default one may be missing (info.loaded = false, no values).
Result<std::pair<ConfigFileInfo, ConfigValues>> load_config(const cxxopts::ParseResult& args, const Env& env);

// "1", "true", "yes", "on" → true; "0", "false", "no", "off" → false (any case); nullopt otherwise.
std::optional<bool> parse_bool_text(std::string_view text);

} // namespace goinstall::cli
