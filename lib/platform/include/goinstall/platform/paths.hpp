#pragma once
// Where goinstall keeps its files by default, following the XDG base directory specification.

#include <filesystem>

#include "goinstall/base/error.hpp"
#include "goinstall/platform/env.hpp"

namespace goinstall {

// $XDG_DATA_HOME/goinstall, else $HOME/.local/share/goinstall. Fails (usage) when neither
// XDG_DATA_HOME nor HOME is set, naming both variables.
Result<std::filesystem::path> default_root(const Env& env);
// $XDG_CACHE_HOME/goinstall, else $HOME/.cache/goinstall.
Result<std::filesystem::path> default_cache_dir(const Env& env);
// $XDG_CONFIG_HOME/goinstall, else $HOME/.config/goinstall.
Result<std::filesystem::path> default_config_dir(const Env& env);

} // namespace goinstall
