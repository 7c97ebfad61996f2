#pragma once
// Splitting archive names into components; shared by the path checks and the disk writer.

#include <string>
#include <string_view>
#include <vector>

namespace goinstall::archive_detail {

// Splits on '/', dropping empty and "." components ("./a//b/." → {"a", "b"}).
std::vector<std::string_view> path_components(std::string_view path);

// Joins components with '/'.
std::string join_components(const std::vector<std::string_view>& parts);

// True when `parts` starts with all of `prefix`.
bool has_prefix(const std::vector<std::string_view>& parts, const std::vector<std::string_view>& prefix);

} // namespace goinstall::archive_detail
