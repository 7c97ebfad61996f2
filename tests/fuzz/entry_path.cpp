// Fuzzes the archive path guards (lib/archive entry_path.hpp): safe_entry_path and
// symlink_target_safe. Input: "entry name\ntop dir\nsymlink target\nz" (a last line "z" means a
// zip archive).
// Properties:
// - an accepted name is normalised: relative, no empty, "." or ".." component, below top_dir,
//   and accepting it again returns it unchanged;
// - a symlink judged safe, resolved lexically from its directory, stays at top_dir or below.
#include "fuzz_check.hpp"

#include <vector>

#include "goinstall/archive/entry_path.hpp"

using namespace goinstall;

namespace {

std::vector<std::string> components(std::string_view path) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= path.size()) {
        auto end = path.find('/', start);
        if (end == std::string_view::npos) end = path.size();
        auto part = path.substr(start, end - start);
        if (!part.empty() && part != ".") out.emplace_back(part);
        start = end + 1;
    }
    return out;
}

bool below(const std::vector<std::string>& path, const std::vector<std::string>& top) {
    return path.size() >= top.size() && std::equal(top.begin(), top.end(), path.begin());
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto parts = fuzz::split_parts(fuzz::as_text(data, size), '\n', 4);
    const auto raw = parts[0];
    const auto top = parts[1];
    const auto target = parts[2];
    const bool zip = parts[3] == "z";
    const std::string shown = "entry '" + std::string(raw) + "' top '" + std::string(top) + "'";

    auto path = safe_entry_path(raw, top, zip);
    if (path) {
        FUZZ_CHECK(!path->empty() && path->front() != '/' && path->back() != '/', *path);
        const auto parts_out = components(*path);
        for (const auto& c : parts_out) FUZZ_CHECK(c != "..", *path);
        FUZZ_CHECK(below(parts_out, components(top)), shown);
        auto again = safe_entry_path(*path, top, zip);
        FUZZ_CHECK(again && *again == *path, shown);
    } else {
        FUZZ_CHECK(path.error().code() == ErrorCode::bad_archive, path.error().message());
    }

    if (symlink_target_safe(raw, target, top)) {
        auto where = components(raw);
        FUZZ_CHECK(!where.empty(), shown);
        where.pop_back();
        for (const auto& c : components(target)) {
            if (c == "..") {
                FUZZ_CHECK(!where.empty(), shown + " target '" + std::string(target) + "'");
                where.pop_back();
            } else {
                where.push_back(c);
            }
            // Every intermediate location stays inside too: a ".." never climbs above top_dir.
            FUZZ_CHECK(below(where, components(top)), shown + " target '" + std::string(target) + "'");
        }
    }
    return 0;
}
