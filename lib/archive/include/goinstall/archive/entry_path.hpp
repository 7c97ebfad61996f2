#pragma once
// Pure checks on the names inside an archive: where an entry may be written and where a symlink
// may point. extract_archive applies them to every entry; they are public so tests and callers
// can use them alone.

#include <cstddef>
#include <string>
#include <string_view>

#include "goinstall/base/error.hpp"

namespace goinstall {

// The longest entry name component and whole name (and symlink target) accepted, in bytes:
// NAME_MAX of Linux, macOS and the BSDs, and macOS's PATH_MAX (1024, with its NUL). A genuine Go
// tree's longest name is about 150 bytes; a longer one could only fail later as a file-system
// error (ENAMETOOLONG), so it is refused as an unsafe archive instead.
inline constexpr std::size_t k_max_name_component = 255;
inline constexpr std::size_t k_max_name_bytes = 1023;

// Validates the raw name of an archive entry and returns it normalised: "." and empty components
// dropped, no leading or trailing '/', e.g. "./go//bin/go/" → "go/bin/go".
// Fails with ErrorCode::bad_archive (the message quotes the sanitised raw name) when the name is
// empty, contains NUL, is longer than k_max_name_bytes or has a component longer than
// k_max_name_component, is absolute, has any ".." component, names nothing ("." or "./"), or is
// not `top_dir` or below it. With `is_zip` it also rejects any backslash and a leading drive
// letter ("C:..."). An empty `top_dir` accepts every remaining relative name.
Result<std::string> safe_entry_path(std::string_view raw, std::string_view top_dir, bool is_zip);

// True when a symlink at `link_path` (normalised, relative to the destination) with contents
// `target` provably resolves inside `top_dir`: the target is non-empty, relative and no longer than
// the limits above, and, after
// dropping "." and empty components, all ".." components come first ("../../a/b", not
// "a/../../b") and never climb above `top_dir`, and the final location is `top_dir` or below.
// The stricter-than-lexical shape matters: ".." after a name could step back out of another
// symlink ("d/../../x" where d -> ".."), and climbing above top_dir and back in would point
// outside once the tree is moved. Together with extract_archive never writing through a symlink,
// this makes every extracted link resolve inside top_dir.
bool symlink_target_safe(std::string_view link_path, std::string_view target, std::string_view top_dir);

} // namespace goinstall
