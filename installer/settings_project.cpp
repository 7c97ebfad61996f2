#include <system_error>

#include "goinstall/release/project_version.hpp"
#include "settings.hpp"

namespace goinstall::cli {

namespace {

// "./go.mod", "../../.go-version"; the absolute path when the file is not above or below `cwd`.
std::string shown_path(const std::filesystem::path& file, const std::filesystem::path& cwd) {
    auto rel = file.lexically_relative(cwd);
    if (rel.empty()) return file.string();
    auto text = rel.string();
    return text.starts_with("..") ? text : "./" + text;
}

const char* origin_name(ProjectVersionOrigin o) {
    switch (o) {
    case ProjectVersionOrigin::toolchain_line: return "toolchain_line";
    case ProjectVersionOrigin::go_line: return "go_line";
    case ProjectVersionOrigin::go_version_file: break;
    }
    return "go_version_file";
}

} // namespace

Result<std::optional<ProjectSpec>> project_version_spec(const Env& env) {
    std::error_code ec;
    auto cwd = std::filesystem::current_path(ec);
    if (ec) return fail(ErrorCode::filesystem, "cannot find the current directory: " + ec.message());
    std::optional<std::filesystem::path> home;
    if (auto h = env.get("HOME"); h && !h->empty()) home = std::filesystem::path(*h);
    auto found = find_project_version(cwd, home);
    if (!found) return std::unexpected(found.error());
    if (!*found) return std::optional<ProjectSpec>{};
    const auto& pv = **found;
    ProjectSpec out;
    out.spec = pv.spec.text;
    out.file = pv.file;
    out.origin = origin_name(pv.origin);
    std::string what = pv.spec.text;
    if (pv.spec.kind == VersionSpec::Kind::line) {
        what += " (newest " + pv.spec.text + ".x)";
    }
    out.message = what + " from " + describe(pv.origin, shown_path(pv.file, cwd));
    return out;
}

} // namespace goinstall::cli
