#pragma once
// Fetches the release index, keeping an on-disk copy (with its ETag/Last-Modified) so that
// ls-remote and re-installs work offline.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "goinstall/base/cancel.hpp"
#include "goinstall/base/clock.hpp"
#include "goinstall/base/error.hpp"
#include "goinstall/base/events.hpp"
#include "goinstall/net/transport.hpp"
#include "goinstall/release/index.hpp"

namespace goinstall {

inline constexpr const char* k_default_index_url = "https://go.dev/dl/?mode=json&include=all";
// 1 GB hostile indexes must not exhaust memory; the real include=all index is ~2.2 MB (RESEARCH §1).
inline constexpr std::uint64_t k_max_index_bytes = 64ULL << 20;

struct IndexOptions {
    std::string url = k_default_index_url;  // https://, file://, or a local path
    std::vector<std::string> fallback_urls; // tried in order when `url` fails (e.g. golang.google.cn)
    std::filesystem::path cache_dir;        // empty: no cache
    bool offline = false;                   // use the cache only
    bool allow_insecure = false;            // accept a plain-http index URL
    TransferLimits limits;                  // a total timeout is applied if none is set
};

struct IndexResult {
    ReleaseIndex index;
    std::string source; // redacted URL or path it came from
    bool from_cache = false;
    std::chrono::seconds cache_age{0}; // when from_cache
};

// Fetches (conditionally, when a cached copy exists) and parses the index, trying `url` and then
// each fallback URL. When every source fails and a cached copy exists, returns the cached copy and
// emits a warning giving the failure and the copy's age. Without a cache the error of the primary
// source is returned, naming its URL. The cache is keyed by `url`, whichever source answered.
Result<IndexResult> load_index(Transport& transport, Clock& clock, EventSink& events, const IndexOptions& options,
                               const CancelToken* cancel);

// Reads and parses an index file of at most k_max_index_bytes (`source` names it in errors).
Result<ReleaseIndex> read_index_file(const std::filesystem::path& path, std::string_view source);

// The cached copies of release indexes in `cache_dir`: the one load_index keeps for
// `preferred_url` first (when given), then the others newest first.
std::vector<std::filesystem::path> cached_index_files(const std::filesystem::path& cache_dir,
                                                      const std::string& preferred_url);

// "3 min", "2 h", "5 days".
std::string describe_age(std::chrono::seconds age);

} // namespace goinstall
