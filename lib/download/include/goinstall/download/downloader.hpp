#pragma once
// Downloads one file from an ordered list of mirrors into a resumable ".part" file, hashing as it
// goes, and hands back the verified file. Knows URLs, sizes and hashes — not releases.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "goinstall/base/cancel.hpp"
#include "goinstall/base/clock.hpp"
#include "goinstall/base/error.hpp"
#include "goinstall/base/events.hpp"
#include "goinstall/download/policy.hpp"
#include "goinstall/net/transport.hpp"

namespace goinstall {

struct Mirror {
    std::string name;     // "official", "aliyun", or the URL itself for ad-hoc mirrors
    std::string base_url; // the file's URL is base_url + filename
};

struct DownloadTarget {
    std::string filename;            // as the index names it
    std::string expected_sha256;     // lowercase hex, always required
    std::uint64_t expected_size = 0; // 0 = unknown
    // Compute the SHA-256 but accept any: the caller verifies the file afterwards by other means
    // (a module zip's h1: hash). expected_sha256 may then be empty; no `verified` event is emitted.
    bool compute_only = false;
};

// Watches the ".part" file while it is written, for a consumer that reads it as it grows (streaming
// extraction). Called from download threads, in order; implementations must not block.
class PartObserver {
public:
    virtual ~PartObserver() = default;
    // The .part file is open; `fd` is valid during the call only (duplicate it to keep it).
    virtual void on_open(int fd) = 0;
    // Bytes [0, size) of the .part are written (not yet verified). Called with non-decreasing sizes
    // until on_truncate.
    virtual void on_contiguous(std::uint64_t size) = 0;
    // The .part is about to be emptied and rewritten from zero: what was read from it is stale.
    virtual void on_truncate() = 0;
};

// Connections of a segmented download when DownloadOptions::connections is 0. 8: a lossy far link
// needs that many streams to carry what aria2's tuned -x5 does (issue 15, profile A); the planner
// only keeps the ones that raise a mirror's rate.
inline constexpr std::size_t k_default_connections = 8;

struct DownloadOptions {
    std::vector<Mirror> mirrors;
    TransferLimits limits;
    int max_attempts_per_mirror = 3;
    std::chrono::milliseconds deadline{std::chrono::minutes(30)}; // for the whole download
    // Happy-eyeballs head start: when the mirror being tried has not answered within this, the next
    // one is started too and the first to answer wins (RFC 8305 uses 250 ms for addresses; mirrors
    // are farther apart, so a little more).
    std::chrono::milliseconds head_start{400};
    // Segmented download (byte ranges from several mirrors at once) for files of at least
    // segmented_min_size: up to this many connections in all. One per mirror first (as mirrors
    // answer); then more to a mirror while each addition raises that mirror's measured total (a
    // lossy or far link; one fast mirror stays one stream). 0 = the default
    // (k_default_connections); 1 = off (one connection, one mirror at a time).
    int connections = 0;
    std::uint64_t segmented_min_size = 16ULL << 20;
    PartObserver* observer = nullptr; // not owned; may be null
    // --mirror auto: the route probes `mirrors` for the file and tries the fastest first (read by
    // the routes that choose mirrors, not by the Downloader).
    bool rank_mirrors = false;
    // Bytes per second each mirror showed when probed (index as `mirrors`; 0 or missing: unknown).
    // Single-stream mode hands a slow transfer over to a mirror that showed at least twice its rate
    // without scouting it first.
    std::vector<double> expected_rates;
};

// One attempt, as recorded in the attempt log (URLs redacted).
struct Attempt {
    std::string mirror;
    std::string url;
    std::uint64_t resumed_from = 0;
    std::uint64_t bytes = 0;
    long http_status = 0;
    int curl_code = 0;
    std::string error; // empty on success
    Decision decision = Decision::stop;
    bool lost_race = false; // cancelled because another mirror answered first
    std::chrono::milliseconds elapsed{0};
};

struct DownloadResult {
    std::filesystem::path path; // the complete, verified file (dir/filename)
    std::string sha256;
    std::string mirror;                  // the mirror that served the last byte
    std::uint64_t bytes_transferred = 0; // over the network in this run
    std::vector<Attempt> attempts;
    // Bytes of the .part read back to hash before the transfer went on or was verified (a resumed
    // prefix; after a segmented phase only what its PrefixHasher had not reached).
    std::uint64_t rehashed_bytes = 0;
};

// Randomness for backoff jitter, behind a function so tests are deterministic.
using JitterFn = std::function<double()>;

class Downloader {
public:
    Downloader(Transport& transport, Clock& clock, EventSink& events, JitterFn jitter = {});

    // Fetches target into `dir` (created if missing) as dir/<filename>.part, resuming a previous
    // .part when one is there (its bytes are re-hashed), then verifies the SHA-256 and renames it to
    // dir/<filename>. On failure the .part is kept for a later resume unless its bytes were proven
    // wrong. Errors carry the most informative failure and the attempt log is in `attempts_out`.
    Result<DownloadResult> download(const DownloadTarget& target, const std::filesystem::path& dir,
                                    const DownloadOptions& options, const CancelToken* cancel,
                                    std::vector<Attempt>* attempts_out = nullptr);

private:
    Transport& m_transport;
    Clock& m_clock;
    EventSink& m_events;
    JitterFn m_jitter;
};

} // namespace goinstall
