#pragma once
// The shell side of 'goinstall env' and 'goinstall init': the line that puts <root>/current/bin on
// PATH in each shell's syntax, the profile file each shell reads, and an idempotent append to it.

#include <filesystem>
#include <string>

#include "goinstall/base/error.hpp"
#include "goinstall/platform/env.hpp"

namespace goinstall::cli {

// "bash", "zsh", "sh", "fish" or "powershell" for a shell name or path (dash/ksh → sh,
// pwsh → powershell); empty `name` means $SHELL's, else sh. Usage error for anything else.
Result<std::string> normalize_shell(const std::string& name, const Env& env);

// The line that puts `bin` first on PATH in `shell` (as normalize_shell returns it), with `bin`
// quoted so that no character of it is interpreted.
std::string shell_path_line(const std::string& shell, const std::filesystem::path& bin);

// The startup file an interactive `shell` reads: ~/.bashrc, ${ZDOTDIR:-~}/.zshrc, ~/.profile,
// $XDG_CONFIG_HOME/fish/conf.d/goinstall.fish, $XDG_CONFIG_HOME/powershell/Microsoft.PowerShell_profile.ps1.
Result<std::filesystem::path> default_profile(const std::string& shell, const Env& env);

// Appends "\n<comment>\n<line>\n" to `file` (created 0644 with its directory when missing)
// unless a line of it already equals `line` (leading and trailing blanks ignored). Existing
// content is never rewritten: one O_APPEND write, then fsync. Returns whether it appended.
Result<bool> append_line_once(const std::filesystem::path& file, const std::string& comment, const std::string& line);

} // namespace goinstall::cli
