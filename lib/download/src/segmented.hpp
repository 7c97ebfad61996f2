#pragma once
// Segmented download: byte ranges of one file fetched from several mirrors at once into the
// ".part" (pwrite at their offsets), one connection per mirror, ranges handed out by a
// ChunkScheduler. A phase before Downloader's sequential loop: it ends with the .part holding a
// contiguous prefix (all of it when every chunk arrived), which the sequential loop then resumes
// or verifies, so retries, failover and the SHA-256 check stay in one place.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "goinstall/base/cancel.hpp"
#include "goinstall/base/clock.hpp"
#include "goinstall/base/events.hpp"
#include "goinstall/download/downloader.hpp"
#include "part_file.hpp"

namespace goinstall {

struct SegmentedResult {
    std::uint64_t contiguous = 0; // [0, contiguous) of the .part is written
    std::uint64_t bytes_transferred = 0;
    std::vector<Attempt> attempts;        // one per mirror asked
    std::optional<std::size_t> served_by; // index of the mirror that sent the most bytes
};

// Chunk size of segmented downloads: 4 MiB (aria2's default piece size is 1 MiB; larger chunks cost
// fewer requests, smaller ones balance better at the end; 4 MiB is ~35 chunks for a Go archive).
inline constexpr std::uint64_t k_segment_size = 4ULL << 20;
// Connections of a segmented download when DownloadOptions::connections is 0.
inline constexpr std::size_t k_default_connections = 4;

// Fetches `target` (expected_size must be known) from options.mirrors in parallel into
// `part_path`, starting from what `meta` (the sidecar) and `existing` (a sequential .part's size)
// say is there. Records completed chunks in the sidecar as it goes. Mirrors are raced as in the
// sequential loop: the first is asked for the rest of the file (open-ended), the next one only
// after options.head_start without an answer; once one has answered, the others join with bounded
// ranges. A 206 that runs past the range asked is used (the stream continues while the chunks after
// it are free); a mirror that answers a range with a 200 (past offset 0), another start or another
// total size is dropped from this phase. Never fails: whatever is missing is left to the
// sequential loop.
SegmentedResult segmented_fetch(Transport& transport, Clock& clock, EventSink& events, const DownloadTarget& target,
                                const std::filesystem::path& part_path, const std::filesystem::path& meta_path,
                                const PartMeta& meta, std::uint64_t existing, const DownloadOptions& options,
                                const CancelToken* cancel);

// "0-3,5,9-11" ↔ chunk flags.
std::string format_segments(const std::vector<bool>& done);
std::vector<bool> parse_segments(const std::string& text, std::size_t chunks);
// Bytes from offset 0 covered by the sidecar's completed segments.
std::uint64_t segments_prefix(const PartMeta& meta, std::uint64_t total);

} // namespace goinstall
