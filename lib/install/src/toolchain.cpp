#include "goinstall/install/toolchain.hpp"

#include <sys/stat.h>

#include "goinstall/base/strings.hpp"
#include "goinstall/fs/files.hpp"

namespace goinstall {

Status check_toolchain(const std::filesystem::path& dir, const std::string& version, const ToolchainCheck& check) {
    auto found = read_version_file(dir);
    if (!found) {
        return fail(ErrorCode::toolchain_check, "the archive has no go/VERSION file; it is not a Go toolchain");
    }
    if (*found != version) {
        return fail(ErrorCode::toolchain_check,
                    "the archive contains " + sanitize_for_display(*found, 40) + ", not " + version);
    }
    const std::string target_os = check.target_os.empty() && check.run_go ? host_platform().os : check.target_os;
    auto is_file = [](const std::filesystem::path& p) {
        struct stat st {};
        return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
    };
    auto go = dir / "bin" / "go";
    auto exe = dir / "bin" / "go.exe";
    if (target_os.empty()) {
        // Another platform's tree of unknown OS: either binary will do.
        if (is_file(go) || is_file(exe)) return {};
        return fail(ErrorCode::toolchain_check, "the archive has no go/bin/go");
    }
    const bool windows = target_os == "windows";
    if (!is_file(windows ? exe : go)) {
        const bool other = is_file(windows ? go : exe);
        return fail(ErrorCode::toolchain_check,
                    std::string("the archive has no go/bin/") + (windows ? "go.exe" : "go") +
                        (other ? (windows ? " (only go/bin/go: not a Windows toolchain)"
                                          : " (only go/bin/go.exe: a Windows toolchain, not " +
                                                sanitize_for_display(target_os, 20) + ")")
                               : ""));
    }
    if (!check.run_go) {
        return {};
    }
    auto line = run_go_version(windows ? exe : go, check.timeout, check.cancel, check.env);
    if (!line) {
        return std::unexpected(line.error());
    }
    // "go version go1.21.3 linux/amd64"
    if (!line->starts_with("go version " + version + " ")) {
        return fail(ErrorCode::toolchain_check,
                    "bin/go reports '" + sanitize_for_display(*line, 120) + "', expected go version " + version);
    }
    return {};
}

Status check_toolchain(const std::filesystem::path& dir, const std::string& version, bool run_go,
                       std::chrono::milliseconds timeout, const CancelToken* cancel) {
    ToolchainCheck check;
    check.run_go = run_go;
    check.timeout = timeout;
    check.cancel = cancel;
    return check_toolchain(dir, version, check);
}

Status commit_toolchain(const Layout& layout, const std::filesystem::path& staged, const std::string& version) {
    auto dest = layout.toolchain_dir(version);
    auto replaced = replace_dir(staged, dest);
    if (!replaced) {
        return std::unexpected(replaced.error());
    }
    if (auto st = fsync_dir(dest.parent_path()); !st) {
        return st;
    }
    if (*replaced) {
        // The previous tree now sits at `staged`; it is no longer visible, so its removal can fail
        // without harm (clean_leftovers or the caller's staging cleanup gets it later).
        (void)remove_tree(staged);
    }
    return {};
}

Status use_version(const Layout& layout, const std::string& version) {
    std::error_code ec;
    if (!is_toolchain_dir_name(version) || !std::filesystem::is_directory(layout.root() / version, ec)) {
        std::string have;
        for (const auto& t : list_installed(layout)) {
            have += (have.empty() ? "" : ", ") + t.version;
        }
        return fail(ErrorCode::not_found,
                    version + " is not installed" +
                        (have.empty() ? std::string(" (nothing is installed)") : " (installed: " + have + ")"));
    }
    // A relative target keeps the root relocatable.
    return replace_symlink(version, layout.current_link());
}

Status uninstall_version(const Layout& layout, const std::string& version, bool* was_active) {
    std::error_code ec;
    auto dir = layout.root() / version;
    if (!is_toolchain_dir_name(version) || !std::filesystem::is_directory(dir, ec)) {
        return fail(ErrorCode::not_found, version + " is not installed");
    }
    bool active = current_version(layout) == version;
    if (active) {
        if (auto st = remove_file(layout.current_link()); !st) return st;
    }
    auto trash = make_unique_dir(layout.root(), ".goinstall-trash-");
    if (!trash) {
        return std::unexpected(trash.error());
    }
    auto moved = *trash / version;
    if (auto st = rename_path(dir, moved, "cannot remove", dir.string()); !st) {
        (void)remove_tree(*trash);
        return st;
    }
    (void)fsync_dir(layout.root());
    if (was_active != nullptr) {
        *was_active = active;
    }
    return remove_tree(*trash);
}

namespace {

// Staging trees, trash and temporaries of the switch that only a live run may own.
bool is_staging_leftover(const std::string& name) {
    return name.starts_with(".goinstall-staging-") || name.starts_with(".goinstall-trash-") ||
           (name.starts_with(".go") && name.find(".old-") != std::string::npos) || name.starts_with(".current.tmp-");
}

// Downloads: a .part (and its .meta) is kept for resuming unless it has not been touched for
// k_part_max_age; anything else there — a whole archive left by a run killed after verifying it,
// a temporary of an interrupted metadata write — is never read again.
bool is_download_leftover(const std::filesystem::directory_entry& entry, std::filesystem::file_time_type now) {
    std::error_code ec;
    if (!entry.is_regular_file(ec) && !entry.is_symlink(ec)) return false;
    auto name = entry.path().filename().string();
    if (!name.starts_with(".") && (name.ends_with(".part") || name.ends_with(".part.meta"))) {
        auto mtime = entry.last_write_time(ec);
        return !ec && now - mtime >= k_part_max_age;
    }
    return true;
}

} // namespace

bool has_leftovers(const Layout& layout) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(layout.staging_parent(), ec)) {
        if (is_staging_leftover(entry.path().filename().string())) return true;
    }
    const auto now = std::filesystem::file_time_type::clock::now();
    for (const auto& entry : std::filesystem::directory_iterator(layout.downloads_dir(), ec)) {
        if (is_download_leftover(entry, now)) return true;
    }
    return false;
}

void clean_leftovers(const Layout& layout) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(layout.staging_parent(), ec)) {
        if (is_staging_leftover(entry.path().filename().string())) (void)remove_tree(entry.path());
    }
    const auto now = std::filesystem::file_time_type::clock::now();
    for (const auto& entry : std::filesystem::directory_iterator(layout.downloads_dir(), ec)) {
        if (is_download_leftover(entry, now)) (void)remove_file(entry.path());
    }
}

} // namespace goinstall
