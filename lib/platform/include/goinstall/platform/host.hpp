#pragma once
// The host platform in Go's names (GOOS/GOARCH).

#include <string>

namespace goinstall {

struct Platform {
    std::string os;   // "linux", "darwin", "windows", "freebsd", ...
    std::string arch; // "amd64", "arm64", "386", "arm", "ppc64le", "s390x", "riscv64", "loong64", ...
    bool operator==(const Platform&) const = default;
};

// The platform this binary was built for, in Go's names.
Platform host_platform();

// Maps common spellings to Go's names: x86_64→amd64, aarch64→arm64, i686/i386/x86→386,
// armv6l/armv7l/armhf→arm, ... Names Go already uses are returned unchanged (lowercased).
std::string normalize_arch(const std::string& arch);
std::string normalize_os(const std::string& os);

} // namespace goinstall
