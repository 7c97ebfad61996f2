#pragma once
// Helpers shared by the fuzz targets: property checks that abort with a message (libFuzzer then
// saves the input as a crash), and splitting one input into several text arguments.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace goinstall::fuzz {

[[noreturn]] inline void property_failed(const char* what, const char* file, int line, const std::string& detail) {
    std::fprintf(stderr, "\n%s:%d: property failed: %s\n%s\n", file, line, what, detail.c_str());
    std::abort();
}

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

// Splits `text` at the first `count - 1` occurrences of `sep`; missing parts are empty. Seeds stay
// readable text files: "NO_PROXY value\nhost\nport".
inline std::vector<std::string_view> split_parts(std::string_view text, char sep, std::size_t count) {
    std::vector<std::string_view> parts;
    while (parts.size() + 1 < count) {
        auto at = text.find(sep);
        if (at == std::string_view::npos) break;
        parts.push_back(text.substr(0, at));
        text.remove_prefix(at + 1);
    }
    parts.push_back(text);
    parts.resize(count);
    return parts;
}

} // namespace goinstall::fuzz

// FUZZ_CHECK(cond, detail): when cond is false, prints the property and `detail` and aborts.
#define FUZZ_CHECK(cond, detail)                                                                                       \
    do {                                                                                                               \
        if (!(cond)) ::goinstall::fuzz::property_failed(#cond, __FILE__, __LINE__, (detail));                          \
    } while (false)
