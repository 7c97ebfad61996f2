#include "goinstall/install/layout.hpp"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "goinstall/base/strings.hpp"
#include "goinstall/release/version.hpp"

namespace goinstall {

std::filesystem::path Layout::toolchain_dir(const std::string& version) const {
    return m_prefix ? *m_prefix / "go" : m_root / version;
}

namespace {

// The version part of a toolchain directory name: "go1.21.3", or "go1.21.3" of "go1.21.3.linux-arm64"
// (another platform's toolchain, installed beside the host's).
std::optional<Version> dir_version(const std::string& name) {
    if (!name.starts_with("go")) return std::nullopt;
    if (auto v = parse_version(name)) return v;
    auto dot = name.rfind('.');
    if (dot == std::string::npos || name.find('-', dot) == std::string::npos) return std::nullopt;
    return parse_version(name.substr(0, dot));
}

} // namespace

std::string toolchain_name(const std::string& version, const Platform& platform) {
    return platform == host_platform() ? version : version + "." + platform.os + "-" + platform.arch;
}

bool is_toolchain_dir_name(const std::string& name) { return dir_version(name).has_value(); }

std::optional<std::string> read_version_file(const std::filesystem::path& dir) {
    // Non-blocking open: a VERSION that is a FIFO (or a symlink to one) must not hang the check.
    const int fd = ::open((dir / "VERSION").c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        return std::nullopt;
    }
    struct stat st {};
    std::string head(k_version_file_read_max, '\0');
    std::size_t got = 0;
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        while (got < head.size()) {
            const ssize_t n = ::read(fd, head.data() + got, head.size() - got);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            got += static_cast<std::size_t>(n);
        }
    }
    ::close(fd);
    head.resize(got);
    auto t = std::string(trim(std::string_view(head).substr(0, head.find('\n'))));
    if (t.empty()) {
        return std::nullopt;
    }
    return t;
}

std::optional<std::string> current_version(const Layout& layout) {
    std::error_code ec;
    auto target = std::filesystem::read_symlink(layout.current_link(), ec);
    if (ec) {
        return std::nullopt;
    }
    // goinstall writes a bare name; anything else (an absolute or nested target) is not ours.
    if (target.has_parent_path()) {
        return std::nullopt;
    }
    auto name = target.filename().string();
    if (!is_toolchain_dir_name(name) || !std::filesystem::is_directory(layout.root() / name, ec)) {
        return std::nullopt;
    }
    return name;
}

std::vector<InstalledToolchain> list_installed(const Layout& layout) {
    std::vector<InstalledToolchain> out;
    std::error_code ec;
    auto active = current_version(layout);
    for (const auto& entry : std::filesystem::directory_iterator(layout.root(), ec)) {
        auto name = entry.path().filename().string();
        if (!is_toolchain_dir_name(name) || !entry.is_directory(ec) || entry.is_symlink(ec)) {
            continue;
        }
        out.push_back({name, entry.path(), active && *active == name});
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
        auto va = dir_version(a.version), vb = dir_version(b.version);
        if (*va != *vb) return *va > *vb;
        return a.version < b.version; // the host's "go1.21.3" before "go1.21.3.linux-arm64"
    });
    return out;
}

} // namespace goinstall
