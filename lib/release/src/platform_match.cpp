#include "goinstall/release/platform_match.hpp"

#include <algorithm>
#include <charconv>
#include <tuple>

namespace goinstall {
namespace {

// Index os values are GOOS names, all of which start with a lowercase letter; the bogus go1 release
// says os "4" (its filename go1.4-bootstrap-… was split at the wrong dot,
// docs/field-notes.md#release-index).
bool is_goos_like(std::string_view os) { return !os.empty() && os.front() >= 'a' && os.front() <= 'z'; }

// "10.8" after "-osx" in old darwin names (go1.4.2.darwin-amd64-osx10.8.tar.gz,
// docs/field-notes.md#release-index); nullopt when the name has no such suffix.
std::optional<std::pair<int, int>> osx_suffix(std::string_view filename) {
    auto at = filename.find("-osx");
    if (at == std::string_view::npos) return std::nullopt;
    const char* p = filename.data() + at + 4;
    const char* end = filename.data() + filename.size();
    std::pair<int, int> v{0, 0};
    auto r = std::from_chars(p, end, v.first);
    if (r.ec == std::errc{} && r.ptr < end && *r.ptr == '.') std::from_chars(r.ptr + 1, end, v.second);
    return v;
}

// Lower is better; the last element (index position) makes the choice total and deterministic.
using Rank = std::tuple<int, int, int, int, int, std::size_t>;

Rank rank(const ReleaseFile& f, bool windows, std::size_t position) {
    const bool preferred_ext = windows ? f.filename.ends_with(".zip") : f.filename.ends_with(".tar.gz");
    auto osx = osx_suffix(f.filename);
    // Prefer a name that spells the index arch: go1.21rc2 lists linux "armv6l" twice, as
    // linux-arm.tar.gz and linux-armv6l.tar.gz.
    const bool spells_arch = f.filename.find("-" + f.arch + ".") != std::string::npos ||
                             f.filename.find("-" + f.arch + "-") != std::string::npos;
    return {preferred_ext ? 0 : 1,  osx ? 1 : 0,         osx ? -osx->first : 0,
            osx ? -osx->second : 0, spells_arch ? 0 : 1, position};
}

bool eligible(const ReleaseFile& f, const Platform& want) {
    if (f.kind != "archive" || !is_goos_like(f.os) || f.os != want.os) return false;
    if (goarch_of_index_arch(f.arch) != want.arch) return false;
    // Windows installs need the .zip; the .msi is an installer and never an archive.
    return want.os != "windows" || f.filename.ends_with(".zip");
}

} // namespace

std::string goarch_of_index_arch(std::string_view index_arch) {
    // docs/field-notes.md#release-index: linux 32-bit ARM is "armv6l"; go1.6beta1 says "arm6";
    // go1.23+ BSD/windows say "arm".
    if (index_arch == "armv6l" || index_arch == "arm6" || index_arch == "arm") return "arm";
    return normalize_arch(std::string(index_arch));
}

const ReleaseFile* find_archive(const Release& release, const Platform& platform) {
    const Platform want{normalize_os(platform.os), goarch_of_index_arch(platform.arch)};
    const bool windows = want.os == "windows";
    const ReleaseFile* best = nullptr;
    Rank best_rank{};
    for (std::size_t i = 0; i < release.files.size(); ++i) {
        const auto& f = release.files[i];
        if (!eligible(f, want)) continue;
        auto r = rank(f, windows, i);
        if (!best || r < best_rank) {
            best = &f;
            best_rank = r;
        }
    }
    return best;
}

std::vector<Platform> archive_platforms(const Release& release) {
    std::vector<Platform> out;
    for (const auto& f : release.files) {
        if (f.kind != "archive" || !is_goos_like(f.os)) continue;
        Platform p{f.os, goarch_of_index_arch(f.arch)};
        if (std::find(out.begin(), out.end(), p) == out.end() && find_archive(release, p)) out.push_back(p);
    }
    std::sort(out.begin(), out.end(),
              [](const Platform& a, const Platform& b) { return std::tie(a.os, a.arch) < std::tie(b.os, b.arch); });
    return out;
}

Platform platform_of(const ReleaseFile& file) { return {normalize_os(file.os), goarch_of_index_arch(file.arch)}; }

bool built_for(const ReleaseFile& file, const Platform& platform) {
    return platform_of(file) == Platform{normalize_os(platform.os), normalize_arch(platform.arch)};
}

std::string platform_list(const Release& release) {
    std::string out;
    for (const auto& p : archive_platforms(release)) {
        out += (out.empty() ? "" : ", ") + p.os + "/" + p.arch;
    }
    return out;
}

} // namespace goinstall
