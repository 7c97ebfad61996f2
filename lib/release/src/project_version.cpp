#include "goinstall/release/project_version.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <system_error>
#include <vector>

#include "goinstall/base/strings.hpp"
#include "goinstall/release/version.hpp"

namespace goinstall {

namespace {

constexpr std::size_t k_max_file_bytes = 1 << 20; // go.mod files of big projects are ~10-100 KiB

std::string_view strip_bom(std::string_view text) {
    if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
    return text;
}

// Splits on '\n', dropping a trailing '\r' from each line.
std::vector<std::string_view> lines_of(std::string_view text) {
    std::vector<std::string_view> out;
    while (!text.empty()) {
        auto nl = text.find('\n');
        auto line = text.substr(0, nl);
        if (line.ends_with('\r')) line.remove_suffix(1);
        out.push_back(line);
        if (nl == std::string_view::npos) break;
        text.remove_prefix(nl + 1);
    }
    return out;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

// One line of go.mod as tokens (modfile's lexer: `//` comments, "..." and `...` strings, '(' and ')'
// as tokens of their own). An unterminated string runs to the end of the line.
std::vector<std::string> tokens_of(std::string_view line) {
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i < line.size()) {
        char c = line[i];
        if (is_space(c)) {
            ++i;
        } else if (line.substr(i).starts_with("//")) {
            break;
        } else if (c == '(' || c == ')') {
            out.emplace_back(1, c);
            ++i;
        } else if (c == '"' || c == '`') {
            std::string tok;
            ++i;
            while (i < line.size() && line[i] != c) {
                if (c == '"' && line[i] == '\\' && i + 1 < line.size()) ++i;
                tok += line[i++];
            }
            ++i; // the closing quote
            out.push_back(std::move(tok));
        } else {
            std::size_t j = i;
            while (j < line.size() && !is_space(line[j]) && line[j] != '(' && line[j] != ')' &&
                   !line.substr(j).starts_with("//")) {
                ++j;
            }
            out.emplace_back(line.substr(i, j - i));
            i = j;
        }
    }
    return out;
}

std::string at(const std::string& source, int line) { return source + ":" + std::to_string(line); }

Result<std::string> read_capped(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        int e = errno;
        return fail(e == EACCES ? ErrorCode::permission : ErrorCode::filesystem,
                    "cannot read " + file.string() + ": " + std::strerror(e));
    }
    std::string text(k_max_file_bytes + 1, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    if (in.bad()) return fail(ErrorCode::filesystem, "cannot read " + file.string());
    text.resize(static_cast<std::size_t>(in.gcount()));
    if (text.size() > k_max_file_bytes) {
        return fail(ErrorCode::usage, file.string() + ": larger than 1 MiB; not a version file");
    }
    return text;
}

bool is_file(const std::filesystem::path& p) {
    std::error_code ec;
    return std::filesystem::is_regular_file(p, ec);
}

} // namespace

Result<GoModDirectives> parse_go_mod(std::string_view text, const std::string& source) {
    GoModDirectives d;
    int block_start = 0; // line of an open "verb (" block, 0 outside
    int n = 0;
    for (auto raw : lines_of(strip_bom(text))) {
        ++n;
        auto toks = tokens_of(raw);
        if (toks.empty()) continue;
        if (block_start != 0) {
            if (toks.front() == ")") block_start = 0;
            continue;
        }
        if (toks.size() >= 2 && toks.back() == "(") {
            block_start = n;
            continue;
        }
        const bool is_go = toks.front() == "go";
        if (!is_go && toks.front() != "toolchain") continue;
        if (toks.size() != 2) {
            return fail(ErrorCode::usage, at(source, n) + ": usage: " + toks.front() + (is_go ? " 1.23" : " go1.23.4") +
                                              " (one argument)");
        }
        auto& slot = is_go ? d.go : d.toolchain;
        if (slot) {
            return fail(ErrorCode::usage, at(source, n) + ": repeated " + toks.front() + " line (first on line " +
                                              std::to_string(is_go ? d.go_line : d.toolchain_line) + ")");
        }
        slot = toks[1];
        (is_go ? d.go_line : d.toolchain_line) = n;
    }
    if (block_start != 0) {
        return fail(ErrorCode::usage, at(source, block_start) + ": block opened with '(' is never closed");
    }
    return d;
}

Result<VersionSpec> parse_go_version_file(std::string_view text, const std::string& source) {
    for (auto line : lines_of(strip_bom(text))) {
        line = line.substr(0, line.find('#')); // the rest of the line is a comment
        std::size_t i = 0;
        while (i < line.size() && is_space(line[i])) ++i;
        std::size_t j = i;
        while (j < line.size() && !is_space(line[j])) ++j;
        if (i == j) continue;
        auto tok = line.substr(i, j - i);
        auto spec = parse_version_spec(tok);
        if (!spec) {
            return fail(ErrorCode::usage, source + ": '" + sanitize_for_display(tok, 60) +
                                              "' is not a Go version (e.g. 1.22.5, go1.22.5 or 1.22)");
        }
        return spec;
    }
    return fail(ErrorCode::usage, source + ": no version in the file (e.g. a line '1.22.5')");
}

std::string describe(ProjectVersionOrigin origin, const std::filesystem::path& file) {
    switch (origin) {
    case ProjectVersionOrigin::toolchain_line: return file.string() + " toolchain line";
    case ProjectVersionOrigin::go_line: return file.string() + " go line";
    case ProjectVersionOrigin::go_version_file: break;
    }
    return file.string();
}

Result<std::optional<ProjectVersion>> version_from_go_mod(const GoModDirectives& d, const std::string& source) {
    if (d.toolchain && *d.toolchain != "default") {
        std::string name = *d.toolchain;
        // A custom toolchain "go1.21.3-bigcorp" is built from go1.21.3 (https://go.dev/doc/toolchain).
        if (auto dash = name.find('-'); dash != std::string::npos) name.resize(dash);
        auto v = name.starts_with("go") ? parse_version(name) : std::nullopt;
        if (!v) {
            return fail(ErrorCode::usage, at(source, d.toolchain_line) + ": toolchain '" +
                                              sanitize_for_display(*d.toolchain, 60) +
                                              "' is not a Go toolchain name (e.g. go1.22.5)");
        }
        // "go1.21" names the release go1.21.0 (== go1.20 style first releases under compare()); the
        // spec text carries the patch so that it reads as an exact version, not a release line.
        const bool two_numbers = std::count(v->text.begin(), v->text.end(), '.') == 1 && v->is_stable();
        VersionSpec spec{.kind = VersionSpec::Kind::exact, .version = *v, .text = v->text + (two_numbers ? ".0" : "")};
        return ProjectVersion{spec, ProjectVersionOrigin::toolchain_line, {}, d.toolchain_line};
    }
    if (!d.go) return std::optional<ProjectVersion>{};
    auto v = d.go->starts_with("go") ? std::nullopt : parse_version(*d.go);
    if (!v) {
        return fail(ErrorCode::usage, at(source, d.go_line) + ": go '" + sanitize_for_display(*d.go, 60) +
                                          "' is not a Go version (e.g. go 1.22 or go 1.22.5)");
    }
    // Two numbers and no pre-release: a language version → its release line; otherwise a release.
    const bool language = std::count(d.go->begin(), d.go->end(), '.') == 1 && v->is_stable();
    VersionSpec spec{
        .kind = language ? VersionSpec::Kind::line : VersionSpec::Kind::exact, .version = *v, .text = *d.go};
    return ProjectVersion{spec, ProjectVersionOrigin::go_line, {}, d.go_line};
}

Result<std::optional<ProjectVersion>> find_project_version(const std::filesystem::path& start,
                                                           const std::optional<std::filesystem::path>& home) {
    const auto from = start.lexically_normal();
    std::optional<std::filesystem::path> stop;
    if (home && !home->empty()) {
        auto h = home->lexically_normal();
        if (h.filename().empty()) h = h.parent_path(); // "/home/u/" → "/home/u"
        auto rel = from.lexically_relative(h);
        if (!rel.empty() && *rel.begin() != "..") stop = h;
    }
    // The directories to look in, nearest first.
    std::vector<std::filesystem::path> dirs;
    for (auto dir = from;; dir = dir.parent_path()) {
        if (dir.filename().empty() && dir != dir.root_path()) dir = dir.parent_path(); // trailing '/'
        dirs.push_back(dir);
        if ((stop && dir == *stop) || dir == dir.root_path() || dir.parent_path() == dir || dirs.size() > 4096) break;
    }
    for (const auto& dir : dirs) {
        auto file = dir / ".go-version";
        if (!is_file(file)) continue;
        auto text = read_capped(file);
        if (!text) return std::unexpected(text.error());
        auto spec = parse_go_version_file(*text, file.string());
        if (!spec) return std::unexpected(spec.error());
        return ProjectVersion{*spec, ProjectVersionOrigin::go_version_file, file, 0};
    }
    for (const auto& dir : dirs) {
        auto file = dir / "go.mod";
        if (!is_file(file)) continue;
        auto text = read_capped(file);
        if (!text) return std::unexpected(text.error());
        auto d = parse_go_mod(*text, file.string());
        if (!d) return std::unexpected(d.error());
        auto pv = version_from_go_mod(*d, file.string());
        if (!pv) return std::unexpected(pv.error());
        if (!*pv) return fail(ErrorCode::usage, file.string() + ": no go or toolchain line to take the version from");
        (*pv)->file = file;
        return pv;
    }
    return std::optional<ProjectVersion>{};
}

} // namespace goinstall
