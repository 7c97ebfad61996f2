#pragma once
// Fetches the release index, keeping an on-disk copy (with its ETag/Last-Modified) so that
// ls-remote and re-installs work offline.

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "goinstall/base/cancel.hpp"
#include "goinstall/base/clock.hpp"
#include "goinstall/base/error.hpp"
#include "goinstall/base/events.hpp"
#include "goinstall/net/transport.hpp"
#include "goinstall/release/index.hpp"

namespace goinstall {

inline constexpr const char* k_default_index_url = "https://go.dev/dl/?mode=json&include=all";

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

// "3 min", "2 h", "5 days".
std::string describe_age(std::chrono::seconds age);

} // namespace goinstall
