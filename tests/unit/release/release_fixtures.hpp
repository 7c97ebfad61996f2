#pragma once
// Shared helpers for the release tests: fixture loading (tests/fixtures, see SOURCES.md there).

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "goinstall/release/index.hpp"

namespace goinstall::test {

inline std::string read_fixture(const std::string& name) {
    std::ifstream in(std::string(GOINSTALL_FIXTURES_DIR) + "/" + name, std::ios::binary);
    if (!in) throw std::runtime_error("missing fixture " + name);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

// The parsed full index (go-dl-index-all.json), parsed once per test run.
inline const ReleaseIndex& all_index() {
    static const ReleaseIndex index = [] {
        auto parsed = parse_index(read_fixture("go-dl-index-all.json"), "https://go.dev/dl/?mode=json&include=all");
        if (!parsed) throw std::runtime_error(parsed.error().describe());
        return std::move(*parsed);
    }();
    return index;
}

inline const Release* find_release(const ReleaseIndex& index, std::string_view version) {
    for (const auto& r : index.releases)
        if (r.version.text == version) return &r;
    return nullptr;
}

} // namespace goinstall::test
