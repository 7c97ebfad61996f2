#include "goinstall/sumdb/toolchain_version.hpp"

#include <algorithm>

#include "goinstall/base/strings.hpp"
#include "goinstall/platform/host.hpp"
#include "goinstall/release/platform_match.hpp"

namespace goinstall::sumdb {
namespace {

bool is_platform_word(std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); });
}

} // namespace

std::string toolchain_module_version(const Version& go, std::string_view goos, std::string_view goarch) {
    return std::string(k_toolchain_version_prefix) + to_string(go) + "." + normalize_os(std::string(goos)) + "-" +
           goarch_of_index_arch(goarch);
}

std::optional<ToolchainModuleVersion> parse_toolchain_module_version(std::string_view module_version) {
    if (!module_version.starts_with(k_toolchain_version_prefix)) return std::nullopt;
    std::string_view rest = module_version.substr(k_toolchain_version_prefix.size());
    const auto dot = rest.rfind('.'); // the platform has no dots; the Go version has some
    if (dot == std::string_view::npos) return std::nullopt;
    const std::string_view platform = rest.substr(dot + 1);
    const auto dash = platform.find('-');
    if (dash == std::string_view::npos) return std::nullopt;
    ToolchainModuleVersion out;
    out.goos = std::string(platform.substr(0, dash));
    out.goarch = std::string(platform.substr(dash + 1));
    if (!is_platform_word(out.goos) || !is_platform_word(out.goarch)) return std::nullopt;
    const std::string_view go = rest.substr(0, dot);
    if (!go.starts_with("go")) return std::nullopt;
    auto v = parse_version(go);
    if (!v) return std::nullopt;
    out.go = std::move(*v);
    return out;
}

std::vector<Version> toolchain_versions_from_list(std::string_view list_body, std::string_view goos,
                                                  std::string_view goarch) {
    std::vector<Version> out;
    for (const auto& line : split(list_body, '\n')) {
        auto v = parse_toolchain_module_version(trim(line));
        if (!v) continue;
        if (!goos.empty() && v->goos != goos) continue;
        if (!goarch.empty() && v->goarch != goarch) continue;
        out.push_back(std::move(v->go));
    }
    std::stable_sort(out.begin(), out.end(), [](const Version& a, const Version& b) { return a < b; });
    // go1.20 and go1.20.0 compare equal: keep the first spelling seen.
    out.erase(std::unique(out.begin(), out.end(), [](const Version& a, const Version& b) { return a == b; }),
              out.end());
    return out;
}

} // namespace goinstall::sumdb
