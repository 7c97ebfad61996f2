#pragma once
// Versions of the module golang.org/toolchain: "v0.0.1-<go version>.<GOOS>-<GOARCH>" (golang/go
// src/cmd/go/internal/toolchain/select.go: gotoolchainModule, gotoolchainVersion).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "goinstall/release/version.hpp"

namespace goinstall::sumdb {

inline constexpr std::string_view k_toolchain_module = "golang.org/toolchain";
inline constexpr std::string_view k_toolchain_version_prefix = "v0.0.1-";

struct ToolchainModuleVersion {
    Version go;         // go1.21.3, go1.22rc1, go1.20, go1.4beta1 (lib/release's parsing and order)
    std::string goos;   // "linux"
    std::string goarch; // Go's name: "amd64", "arm" (never the tarball's "armv6l")
};

// "v0.0.1-go1.21.3.linux-amd64" for (go1.21.3, linux, amd64). The Go version is spelt as given
// (to_string(go)); the arch is turned into Go's name first ("armv6l" → "arm", "x86_64" → "amd64").
std::string toolchain_module_version(const Version& go, std::string_view goos, std::string_view goarch);

// The inverse. nullopt when the prefix is missing, the Go version does not parse, or the platform is
// not "<os>-<arch>" of lowercase letters and digits.
std::optional<ToolchainModuleVersion> parse_toolchain_module_version(std::string_view module_version);

// The Go versions in an "@v/list" body (one module version per line), as cmd/go's dlToGo reads it:
// platform stripped, duplicates removed, sorted oldest first. Lines that do not parse are skipped.
// With goos/goarch given, only versions listed for that platform.
std::vector<Version> toolchain_versions_from_list(std::string_view list_body, std::string_view goos = {},
                                                  std::string_view goarch = {});

} // namespace goinstall::sumdb
