#pragma once
// Tiny toolchain trees for the install tests: a VERSION file and a bin/go shell script.

#include <filesystem>
#include <optional>
#include <string>

#include "../fakes/temp_dir.hpp"

namespace goinstall::test {

// A `go` that checks it was run as `go version` with GOTOOLCHAIN=local and no GOFLAGS, then prints
// `line`.
inline std::string go_printing(const std::string& line) {
    return "#!/bin/sh\n"
           "[ \"$1\" = version ] || { echo \"bad argument $1\"; exit 3; }\n"
           "[ \"$GOTOOLCHAIN\" = local ] || { echo \"GOTOOLCHAIN=$GOTOOLCHAIN\"; exit 4; }\n"
           "[ -z \"$GOFLAGS\" ] || { echo \"GOFLAGS=$GOFLAGS\"; exit 5; }\n"
           "echo '" +
           line + "'\n";
}

// Builds <dir>/VERSION (when given) and <dir>/bin/go (when given, mode 0755).
inline void make_toolchain(const std::filesystem::path& dir, const std::optional<std::string>& version_file,
                           const std::optional<std::string>& go_script) {
    std::filesystem::create_directories(dir);
    if (version_file) {
        write_text(dir / "VERSION", *version_file);
    }
    if (go_script) {
        write_text(dir / "bin/go", *go_script);
        std::filesystem::permissions(dir / "bin/go", std::filesystem::perms(0755));
    }
}

inline void make_toolchain(const std::filesystem::path& dir, const std::string& version) {
    make_toolchain(dir, version + "\ntime 2023-10-05T00:00:00Z\n",
                   go_printing("go version " + version + " linux/amd64"));
}

} // namespace goinstall::test
