#include "shell_profile.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "goinstall/base/strings.hpp"
#include "goinstall/fs/files.hpp"

namespace goinstall::cli {

namespace fs = std::filesystem;

Result<std::string> normalize_shell(const std::string& name, const Env& env) {
    std::string shell = name;
    if (shell.empty()) {
        auto sh = env.get("SHELL");
        shell = sh && !sh->empty() ? fs::path(*sh).filename().string() : "sh";
    } else if (shell.find('/') != std::string::npos) {
        shell = fs::path(shell).filename().string();
    }
    if (shell == "bash" || shell == "zsh" || shell == "fish") return shell;
    if (shell == "sh" || shell == "dash" || shell == "ksh" || shell == "mksh" || shell == "ash")
        return std::string("sh");
    if (shell == "powershell" || shell == "pwsh") return std::string("powershell");
    return fail(ErrorCode::usage,
                "--shell: '" + sanitize_for_display(shell, 40) + "' is not one of bash, zsh, sh, fish, powershell");
}

namespace {

// POSIX and fish single quotes: a quote inside is closed, escaped and reopened ('\''); fish
// also reads a backslash inside single quotes, so it is doubled there.
std::string single_quoted(const std::string& text, bool fish) {
    std::string out = "'";
    for (char c : text) {
        if (c == '\'') {
            out += fish ? "\\'" : "'\\''";
        } else if (c == '\\' && fish) {
            out += "\\\\";
        } else {
            out += c;
        }
    }
    return out + "'";
}

// PowerShell single quotes: a quote is doubled.
std::string ps_quoted(const std::string& text) {
    std::string out = "'";
    for (char c : text) out += c == '\'' ? std::string("''") : std::string(1, c);
    return out + "'";
}

Result<fs::path> home_dir(const Env& env) {
    auto home = env.get("HOME");
    if (!home || home->empty() || !fs::path(*home).is_absolute()) {
        return fail(ErrorCode::usage, "HOME is not set to an absolute path: name the file with --profile FILE");
    }
    return fs::path(*home);
}

Result<fs::path> config_home(const Env& env) {
    if (auto x = env.get("XDG_CONFIG_HOME"); x && fs::path(*x).is_absolute()) return fs::path(*x);
    auto home = home_dir(env);
    if (!home) return std::unexpected(home.error());
    return *home / ".config";
}

} // namespace

std::string shell_path_line(const std::string& shell, const fs::path& bin) {
    const std::string dir = bin.string();
    if (shell == "fish") {
        // Not fish_add_path: it skips a directory that does not exist yet (before the first install).
        const auto q = single_quoted(dir, true);
        return "contains -- " + q + " $PATH; or set -gx PATH " + q + " $PATH";
    }
    if (shell == "powershell") return "$env:PATH = " + ps_quoted(dir) + " + [IO.Path]::PathSeparator + $env:PATH";
    return "export PATH=" + single_quoted(dir, false) + ":\"$PATH\"";
}

Result<fs::path> default_profile(const std::string& shell, const Env& env) {
    if (shell == "fish" || shell == "powershell") {
        auto cfg = config_home(env);
        if (!cfg) return cfg;
        return shell == "fish" ? *cfg / "fish" / "conf.d" / "goinstall.fish"
                               : *cfg / "powershell" / "Microsoft.PowerShell_profile.ps1";
    }
    if (shell == "zsh") {
        if (auto z = env.get("ZDOTDIR"); z && fs::path(*z).is_absolute()) return fs::path(*z) / ".zshrc";
    }
    auto home = home_dir(env);
    if (!home) return home;
    if (shell == "bash") return *home / ".bashrc";
    if (shell == "zsh") return *home / ".zshrc";
    return *home / ".profile";
}

Result<bool> append_line_once(const fs::path& file, const std::string& comment, const std::string& line) {
    std::string existing;
    std::error_code ec;
    if (fs::exists(file, ec)) {
        auto text = read_file(file, 16 << 20);
        if (!text) return std::unexpected(text.error());
        existing = std::move(*text);
        for (std::size_t pos = 0; pos <= existing.size();) {
            auto end = existing.find('\n', pos);
            if (end == std::string::npos) end = existing.size();
            if (trim(std::string_view(existing).substr(pos, end - pos)) == trim(line)) return false;
            pos = end + 1;
        }
    } else if (file.has_parent_path()) {
        if (auto st = ensure_dir(file.parent_path()); !st) return std::unexpected(st.error());
    }
    std::string block;
    if (!existing.empty() && existing.back() != '\n') block += '\n';
    if (!existing.empty()) block += '\n';
    block += comment + "\n" + line + "\n";
    int fd = ::open(file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return std::unexpected(errno_error(errno, "cannot open", file.string()));
    std::size_t done = 0;
    while (done < block.size()) {
        ssize_t n = ::write(fd, block.data() + done, block.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            int err = n < 0 ? errno : EIO;
            ::close(fd);
            return std::unexpected(errno_error(err, "cannot write", file.string()));
        }
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0) {
        int err = errno;
        ::close(fd);
        return std::unexpected(errno_error(err, "cannot write", file.string()));
    }
    ::close(fd);
    return true;
}

} // namespace goinstall::cli
