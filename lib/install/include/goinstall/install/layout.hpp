#pragma once
// Where toolchains live.
//   root mode:   <root>/go1.21.3/ (the archive's go/ folder, renamed), <root>/current → go1.21.3
//   prefix mode: exactly <prefix>/go/, as the official instructions install it
// Either way: <root>/.downloads holds resumable .part files. Extraction goes to
// <parent>/.goinstall-staging-XXXXXX, where parent is the root (or the prefix), so the commit is a
// rename on one filesystem. The lock is <root>/.lock (or <prefix>/.goinstall.lock).

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "goinstall/base/error.hpp"
#include "goinstall/platform/host.hpp"

namespace goinstall {

class Layout {
public:
    explicit Layout(std::filesystem::path root, std::optional<std::filesystem::path> prefix = std::nullopt)
        : m_root(std::move(root)), m_prefix(std::move(prefix)) {}

    const std::filesystem::path& root() const { return m_root; }
    bool prefix_mode() const { return m_prefix.has_value(); }

    // Where `version` ("go1.21.3") is installed: <root>/<version>, or <prefix>/go.
    std::filesystem::path toolchain_dir(const std::string& version) const;
    std::filesystem::path current_link() const { return m_root / "current"; }
    std::filesystem::path downloads_dir() const { return m_root / ".downloads"; }
    // The directory that holds staging trees and the destination: the root, or the prefix.
    std::filesystem::path staging_parent() const { return m_prefix ? *m_prefix : m_root; }
    std::filesystem::path lock_path() const { return m_prefix ? *m_prefix / ".goinstall.lock" : m_root / ".lock"; }

private:
    std::filesystem::path m_root;
    std::optional<std::filesystem::path> m_prefix;
};

// Directory name for a toolchain: "go1.21.3" for the host platform, "go1.21.3.windows-amd64" otherwise.
std::string toolchain_name(const std::string& version, const Platform& platform);

// True for names goinstall gives toolchain directories ("go1.21.3", "go1.22rc1").
bool is_toolchain_dir_name(const std::string& name);

struct InstalledToolchain {
    std::string version;
    std::filesystem::path path;
    bool active = false;
};

// Toolchains under the root, newest first; `active` marks the one `current` points at.
std::vector<InstalledToolchain> list_installed(const Layout& layout);

// The version `current` points at, if it points at an installed toolchain.
std::optional<std::string> current_version(const Layout& layout);

// How much of a VERSION file is read ("go1.22.5\ntime 2024-...\n" is ~40 bytes).
inline constexpr std::size_t k_version_file_read_max = 1024;

// The version recorded in a toolchain tree: the first line of <dir>/VERSION, trimmed, from at most
// its first k_version_file_read_max bytes (a longer first line comes back cut there). nullopt when
// it is missing, not a regular file, unreadable or blank.
std::optional<std::string> read_version_file(const std::filesystem::path& dir);

} // namespace goinstall
