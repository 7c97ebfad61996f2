#pragma once
// The Go version a project asks for: a `.go-version` file, else the `toolchain` or `go` line of
// the nearest go.mod. Pure parsers plus one directory walk.
//
// The rule (documented in README "Version from the project"):
//   .go-version        first token that is not a '#' comment: 1.22.5, go1.22.5, 1.22, 1.22rc1,
//                      latest; the same grammar as the command line.
//   toolchain goV      exactly that release ("-suffix" of a custom toolchain name dropped;
//                      "toolchain default" counts as no toolchain line).
//   go 1.N.P / 1.NrcK  exactly that release: what the go command itself switches to when its own
//                      toolchain is older (https://go.dev/doc/toolchain).
//   go 1.N             a language version, not a release: the newest stable 1.N.x. The go command
//                      would settle for the oldest that qualifies (1.N.0 from 1.21 on, per
//                      golang/go#62278); any 1.N.x satisfies the minimum, and the newest has the
//                      security fixes.

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "goinstall/base/error.hpp"
#include "goinstall/release/version_spec.hpp"

namespace goinstall {

// What a go.mod (or go.work) says about the toolchain. Empty optionals: no such line.
struct GoModDirectives {
    std::optional<std::string> go;        // "1.22", "1.21.0", "1.21rc2"
    std::optional<std::string> toolchain; // "go1.22.5", "go1.21.3-custom", "default"
    int go_line = 0, toolchain_line = 0;  // 1-based line numbers, for messages
};

// Reads the `go` and `toolchain` directives of a go.mod text following Go's modfile grammar:
// `//` comments, CRLF or LF, a UTF-8 byte-order mark, parenthesised blocks (skipped), quoted
// tokens. Fails (usage, "<source>:<line>: ...") on a repeated go or toolchain line, a directive
// with no or several arguments, or an unterminated block.
Result<GoModDirectives> parse_go_mod(std::string_view text, const std::string& source);

// Reads a .go-version file: the first whitespace-separated token that does not start a '#'
// comment (CRLF, BOM and blank lines are fine). Fails (usage, naming `source` and the value)
// when there is no token or it is not a version spec.
Result<VersionSpec> parse_go_version_file(std::string_view text, const std::string& source);

// Where a project version came from.
enum class ProjectVersionOrigin { go_version_file, toolchain_line, go_line };

// "go.mod toolchain line", "go.mod go line", ".go-version" (with the file name as found).
std::string describe(ProjectVersionOrigin origin, const std::filesystem::path& file);

// The version spec a go.mod's directives ask for (rule above), with its origin; nullopt when the
// file has neither line (or only "toolchain default" and no go line). Fails (usage, naming
// "<source>:<line>" and the value) for a value that is not a Go version.
struct ProjectVersion {
    VersionSpec spec;
    ProjectVersionOrigin origin = ProjectVersionOrigin::go_version_file;
    std::filesystem::path file; // the file it came from (absolute when found by the walk)
    int line = 0;               // the line in it (0 for .go-version)
};
Result<std::optional<ProjectVersion>> version_from_go_mod(const GoModDirectives& d, const std::string& source);

// Looks for the project's version starting in `start` (absolute): the nearest `.go-version` in
// `start` or a parent, else the nearest go.mod (as the go command finds its main module). The walk
// goes up to the filesystem root, except that when `start` is inside `home` it stops after
// `home` (a stranger's /home/.go-version is not yours; ~/.go-version is a personal default).
// Returns nullopt when nothing is found. Fails when a file found cannot be read (filesystem /
// permission), is larger than 1 MiB, or names no usable version (usage) -- a go.mod with neither
// a go nor a toolchain line is such a failure, not a reason to keep looking further up.
Result<std::optional<ProjectVersion>> find_project_version(const std::filesystem::path& start,
                                                           const std::optional<std::filesystem::path>& home);

} // namespace goinstall
