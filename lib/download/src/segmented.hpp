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

// Piece size of segmented downloads: 256 KiB, the bookkeeping unit: the resume map records
// finished pieces, and one request spans several of them, as many as the connection's
// bandwidth-delay product calls for (chunk_scheduler.hpp), from 1 MiB to 16 MiB (a Go archive is
// ~70 MiB: a fast connection then costs a handful of requests). The piece is also the smallest
// share of the end, where spans are cut to ceil(free pieces / connections): on a lossy far link a
// connection carries ~125 kB/s, and a last 1 MiB piece took 8 s while the others sat idle (issue
// 15, profile A). Builds before this one cut 1 MiB pieces or 4 MiB segments; their sidecars are
// mapped onto pieces (pieces_from_meta).
inline constexpr std::uint64_t k_piece_size = 256ULL << 10;
inline constexpr std::uint64_t k_span_min = 1ULL << 20;
inline constexpr std::uint64_t k_span_max = 16ULL << 20;

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
// The pieces of `piece` bytes that the sidecar's completed segments (of meta.segment_size bytes,
// whatever size the build that wrote it used) cover entirely; none when the sidecar is for another
// size of file or not segmented. Exact when the old size is a multiple of `piece` (4 MiB is).
std::vector<bool> pieces_from_meta(const PartMeta& meta, std::uint64_t total, std::uint64_t piece);

} // namespace goinstall
