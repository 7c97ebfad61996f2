#include "goinstall/download/downloader.hpp"

#include <atomic>
#include <random>
#include <sys/stat.h>
#include <unistd.h>

#include "goinstall/base/strings.hpp"
#include "goinstall/base/url.hpp"
#include "goinstall/fs/files.hpp"
#include "failover_run.hpp"
#include "part_file.hpp"
#include "prefix_hasher.hpp"
#include "segmented.hpp"

namespace goinstall {

namespace {

std::uint64_t existing_size(const std::filesystem::path& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
}

} // namespace

Downloader::Downloader(Transport& transport, Clock& clock, EventSink& events, JitterFn jitter)
    : m_transport(transport), m_clock(clock), m_events(events), m_jitter(std::move(jitter)) {
    if (!m_jitter) {
        m_jitter = [] {
            static thread_local std::mt19937_64 rng{std::random_device{}()};
            return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
        };
    }
}

Result<DownloadResult> Downloader::download(const DownloadTarget& target, const std::filesystem::path& dir,
                                            const DownloadOptions& options, const CancelToken* cancel,
                                            std::vector<Attempt>* attempts_out) {
    const auto& mirrors = options.mirrors;
    if (mirrors.empty()) {
        return fail(ErrorCode::usage, "no mirror to download " + target.filename + " from");
    }
    if (!target.compute_only && !is_hex(target.expected_sha256, 64)) {
        return fail(ErrorCode::no_checksum, "no valid SHA-256 for " + target.filename);
    }
    if (auto st = ensure_dir(dir); !st) {
        return std::unexpected(st.error());
    }
    const auto part_path = dir / (target.filename + ".part");
    const auto meta_path = dir / (target.filename + ".part.meta");
    const auto final_path = dir / target.filename;

    // Keep what an earlier run fetched, unless it cannot be a prefix of this file.
    PartMeta meta = load_part_meta(meta_path);
    std::uint64_t existing = existing_size(part_path);
    if ((target.expected_size != 0 && existing > target.expected_size) ||
        (meta.expected_size != 0 && target.expected_size != 0 && meta.expected_size != target.expected_size)) {
        existing = 0;
    }
    if (target.expected_size != 0) {
        auto avail = free_bytes(dir);
        auto needed = target.expected_size - existing;
        if (avail != 0 && avail < needed) {
            return fail(ErrorCode::disk_full, "not enough space in " + dir.string() + ": the download needs " +
                                                  human_bytes(needed) + ", " + human_bytes(avail) + " is free");
        }
    }
    if (meta.segment_size != 0) { // a segmented .part may have holes: trust its completed chunks only
        existing = std::min(existing, segments_prefix(meta, target.expected_size));
    }

    DownloadResult result;
    std::optional<std::size_t> served_by;
    std::vector<Attempt> local_log;
    AttemptLog log(attempts_out != nullptr ? *attempts_out : local_log, m_events);
    // Large file: fetch ranges from all mirrors at once first, more than one connection to a mirror
    // when that measurably pays (segmented.hpp); the loop below then verifies the file, or resumes
    // what that phase could not fetch.
    const bool segmented = options.connections != 1 && !mirrors.empty() && target.expected_size != 0 &&
                           target.expected_size >= options.segmented_min_size && existing < target.expected_size;
    // The SHA-256 of the prefix the segmented phase writes is computed while it runs, so that after
    // its last byte only what the hasher had not reached is read back (issue 15).
    std::optional<PrefixHasher::Prefix> prehashed;
    if (segmented) {
        PrefixHasher hasher(part_path);
        HashingObserver observer(options.observer, hasher);
        DownloadOptions seg_options = options;
        seg_options.observer = &observer;
        auto seg = segmented_fetch(m_transport, m_clock, m_events, target, part_path, meta_path, meta, existing,
                                   seg_options, cancel);
        result.bytes_transferred += seg.bytes_transferred;
        for (auto& a : seg.attempts) log.record(a, /*segmented=*/true);
        if (cancel != nullptr && cancel->cancelled()) { // the sidecar keeps every finished chunk
            return fail(ErrorCode::cancelled, "cancelled while downloading " + target.filename);
        }
        prehashed = hasher.finish(seg.contiguous);
        existing = seg.contiguous;
        served_by = seg.served_by;
        if (existing < target.expected_size) { // from here on a plain prefix (what follows it is dropped)
            meta = PartMeta{.expected_size = target.expected_size};
            (void)save_part_meta(meta_path, meta);
        }
    }
    const std::uint64_t hashed = prehashed ? prehashed->bytes : 0;
    auto sink_or = prehashed ? PartFileSink::open(part_path, existing, std::move(prehashed->state), hashed)
                             : PartFileSink::open(part_path, existing);
    result.rehashed_bytes = existing - std::min(hashed, existing);
    if (!sink_or) {
        return std::unexpected(sink_or.error());
    }
    PartFileSink& sink = *sink_or;
    sink.set_observer(options.observer);
    return run_failover({.transport = m_transport,
                         .clock = m_clock,
                         .events = m_events,
                         .jitter = m_jitter,
                         .target = target,
                         .options = options,
                         .cancel = cancel,
                         .part_path = part_path,
                         .meta_path = meta_path,
                         .final_path = final_path,
                         .served_by = served_by},
                        sink, meta, result, log);
}

} // namespace goinstall
