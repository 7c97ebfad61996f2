#include "goinstall/archive/entry_path.hpp"

#include "goinstall/archive/extract.hpp"

#include <algorithm>

#include "goinstall/base/strings.hpp"
#include "path_parts.hpp"

namespace goinstall {

namespace archive_detail {

std::vector<std::string_view> path_components(std::string_view path) {
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    while (start <= path.size()) {
        std::size_t end = path.find('/', start);
        if (end == std::string_view::npos) {
            end = path.size();
        }
        std::string_view part = path.substr(start, end - start);
        if (!part.empty() && part != ".") {
            parts.push_back(part);
        }
        start = end + 1;
    }
    return parts;
}

std::string join_components(const std::vector<std::string_view>& parts) {
    std::string out;
    for (std::string_view part : parts) {
        if (!out.empty()) {
            out.push_back('/');
        }
        out.append(part);
    }
    return out;
}

bool has_prefix(const std::vector<std::string_view>& parts, const std::vector<std::string_view>& prefix) {
    return parts.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), parts.begin());
}

} // namespace archive_detail

using archive_detail::has_prefix;
using archive_detail::path_components;

namespace {

// The length limits of entry_path.hpp.
bool name_too_long(std::string_view name) {
    if (name.size() > k_max_name_bytes) return true;
    const auto parts = path_components(name);
    return std::any_of(parts.begin(), parts.end(), [](std::string_view p) { return p.size() > k_max_name_component; });
}

bool starts_with_drive_letter(std::string_view raw) {
    return raw.size() >= 2 && raw[1] == ':' && ((raw[0] >= 'a' && raw[0] <= 'z') || (raw[0] >= 'A' && raw[0] <= 'Z'));
}

} // namespace

Result<std::string> safe_entry_path(std::string_view raw, std::string_view top_dir, bool is_zip) {
    auto reject = [&](std::string_view why) {
        return fail(ErrorCode::bad_archive,
                    "unsafe entry \"" + sanitize_for_display(raw) + "\" in archive: " + std::string(why));
    };
    if (raw.empty()) {
        return reject("empty name");
    }
    if (raw.find('\0') != std::string_view::npos) {
        return reject("name contains a NUL byte");
    }
    if (name_too_long(raw)) {
        return reject("name too long (over " + std::to_string(k_max_name_bytes) + " bytes, or a component over " +
                      std::to_string(k_max_name_component) + ")");
    }
    if (is_zip && raw.find('\\') != std::string_view::npos) {
        return reject("zip entry name contains a backslash");
    }
    if (is_zip && starts_with_drive_letter(raw)) {
        return reject("zip entry name starts with a drive letter");
    }
    if (raw.front() == '/') {
        return reject("absolute path");
    }
    auto parts = path_components(raw);
    if (std::find(parts.begin(), parts.end(), "..") != parts.end()) {
        return reject("path contains \"..\"");
    }
    if (parts.empty()) {
        return reject("name refers to the destination directory itself");
    }
    if (!has_prefix(parts, path_components(top_dir))) {
        return reject("outside the top directory \"" + sanitize_for_display(top_dir) + "\"");
    }
    return archive_detail::join_components(parts);
}

bool symlink_target_safe(std::string_view link_path, std::string_view target, std::string_view top_dir) {
    if (target.empty() || target.front() == '/' || target.find('\0') != std::string_view::npos ||
        name_too_long(target)) {
        return false;
    }
    auto location = path_components(link_path);
    if (location.empty()) {
        return false;
    }
    location.pop_back(); // a relative target resolves from the link's directory
    const auto top = path_components(top_dir);
    if (!has_prefix(location, top)) {
        return false;
    }
    bool seen_name = false;
    for (std::string_view part : path_components(target)) {
        if (part == "..") {
            if (seen_name || location.size() <= top.size()) {
                return false;
            }
            location.pop_back();
        } else {
            seen_name = true;
            location.push_back(part);
        }
    }
    return true; // only names were pushed after the last "..", so `top` is still a prefix
}

unsigned module_mode(std::string_view rel) {
    const auto slash = rel.rfind('/');
    const std::string_view base = slash == std::string_view::npos ? rel : rel.substr(slash + 1);
    const bool exec_helper =
        base.starts_with("go_") && base.ends_with("_exec") && std::count(base.begin(), base.end(), '_') >= 3;
    if (rel.starts_with("bin/") || rel.starts_with("pkg/tool/") || rel.ends_with(".bash") || rel.ends_with(".sh") ||
        rel.ends_with(".pl") || rel.ends_with(".rc") || exec_helper) {
        return 0755;
    }
    return 0644;
}

} // namespace goinstall
