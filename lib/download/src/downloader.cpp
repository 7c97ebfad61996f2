#include "goinstall/download/downloader.hpp"

#include <atomic>
#include <random>
#include <sys/stat.h>
#include <unistd.h>

#include "goinstall/base/strings.hpp"
#include "goinstall/base/url.hpp"
#include "goinstall/fs/files.hpp"
#include "failover.hpp"
#include "part_file.hpp"
#include "race.hpp"
#include "segmented.hpp"

namespace goinstall {

namespace {

bool strong_etag(const std::string& etag) { return !etag.empty() && !etag.starts_with("W/"); }

std::uint64_t existing_size(const std::filesystem::path& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
}

Error http_status_error(const Response& r, const std::string& url, std::chrono::system_clock::time_point now) {
    std::string msg = url + " answered HTTP " + std::to_string(r.status);
    auto snippet = sanitize_for_display(r.error_body, 120);
    if (!snippet.empty() && r.header("content-type").find("html") == std::string::npos) {
        msg += " (" + snippet + ")";
    }
    NetDetail d{.phase = NetPhase::http, .http_status = r.status, .url = url};
    if (auto ra = r.header("retry-after"); !ra.empty()) {
        d.retry_after_seconds = parse_retry_after(ra, now);
    }
    return Error(ErrorCode::network, msg).with_net(d);
}

// Picks the error to report when every mirror failed: a checksum or TLS problem says more than a
// 404, which says more than a connection failure (RESEARCH §4: report the most informative error).
int informativeness(const Error& e) {
    switch (e.code()) {
    case ErrorCode::checksum: return 5;
    case ErrorCode::tls:
    case ErrorCode::proxy_auth: return 4;
    default: break;
    }
    if (e.net() && e.net()->http_status >= 400) return 3;
    if (e.net() && e.net()->phase == NetPhase::body) return 2;
    return 1;
}

// One line on why a mirror is being left behind.
std::string failover_reason(const Error& e, const std::string& filename) {
    if (e.net() && (e.net()->http_status == 404 || e.net()->http_status == 410)) {
        return "does not have " + filename + " (HTTP " + std::to_string(e.net()->http_status) + ")";
    }
    if (e.net() && e.net()->http_status == 403) {
        return "refused access (HTTP 403: blocked, or a WAF)";
    }
    if (e.code() == ErrorCode::checksum) {
        return "served bytes that do not match the official checksum";
    }
    return "failed: " + e.message();
}

} // namespace

namespace {

// One download's sequential phase: the driver of the failover state machine (failover.hpp). Each
// round asks the first idle mirror (and, past the head start, the next one too), turns every
// outcome into a MirrorEvent and carries out the action the transition names.
class FailoverRun {
public:
    struct Setup {
        Transport& transport;
        Clock& clock;
        EventSink& events;
        const JitterFn& jitter;
        const DownloadTarget& target;
        const DownloadOptions& options;
        const CancelToken* cancel;
        std::filesystem::path part_path, meta_path, final_path;
        std::optional<std::size_t> served_by; // the segmented phase's main mirror, credited for a complete .part
    };

    FailoverRun(Setup setup, PartFileSink& sink, PartMeta& meta, DownloadResult& result, AttemptLog& log)
        : m(std::move(setup)), m_sink(sink), m_meta(meta), m_result(result), m_log(log),
          m_board(m.options.mirrors.size(), m.options.max_attempts_per_mirror),
          m_deadline(m.clock.now() + m.options.deadline) {}

    Result<DownloadResult> run() {
        while (true) {
            if (cancelled()) return cancelled_error();
            auto primary = m_board.idle_from(0);
            if (!primary || m.clock.now() >= m_deadline) break;
            if (m.served_by && m_sink.size() == m.target.expected_size &&
                m_board.state(*m.served_by) == MirrorState::idle) {
                primary = m.served_by; // the file is here: verify it under the mirror that sent it
            }
            auto secondary = m.options.head_start.count() > 0 ? m_board.idle_from(*primary + 1) : std::nullopt;
            const std::uint64_t offset = m_sink.size();
            auto outcomes = transfer(*primary, secondary, offset);

            // Judge each outcome; the winner's last.
            std::stable_sort(outcomes.begin(), outcomes.end(),
                             [](const auto& a, const auto& b) { return !a.won && b.won; });
            for (auto& o : outcomes) {
                if (auto done = judge(o, offset)) return std::move(*done);
            }
            if (auto i = m_board.backing_off()) back_off(*i);
        }
        Error e =
            m_best_error ? *m_best_error : Error(ErrorCode::network, "download of " + m.target.filename + " timed out");
        if (m.options.mirrors.size() > 1) {
            e.with_context("every mirror failed for " + m.target.filename);
        }
        return std::unexpected(std::move(e));
    }

private:
    const Mirror& mirror(std::size_t i) const { return m.options.mirrors[i]; }
    std::string url(std::size_t i) const { return join_url(mirror(i).base_url, m.target.filename); }
    bool cancelled() const { return m.cancel != nullptr && m.cancel->cancelled(); }
    Result<DownloadResult> cancelled_error() const {
        return fail(ErrorCode::cancelled, "cancelled while downloading " + m.target.filename);
    }

    RaceEntrant make_request(std::size_t i) const {
        Request req{.url = url(i), .limits = m.options.limits};
        req.range_start = m_sink.size();
        // If-Range only with a validator from the same URL; elsewhere the final SHA-256 pins the
        // content (RESEARCH §4). Strong ETag first, else Last-Modified.
        if (req.range_start > 0 && m_meta.url == redact_url(req.url)) {
            req.if_range = strong_etag(m_meta.etag) ? m_meta.etag : m_meta.last_modified;
        }
        return RaceEntrant{i, req};
    }

    // Runs the primary (and, if it is slow to answer, the secondary) unless the file is complete,
    // and feeds the state machine the events of the race.
    std::vector<RaceOutcome> transfer(std::size_t primary, std::optional<std::size_t> secondary, std::uint64_t offset) {
        (void)m_board.apply(primary, MirrorEvent::start);
        std::vector<RaceOutcome> outcomes;
        if (m.target.expected_size != 0 && offset == m.target.expected_size) {
            outcomes.push_back(RaceOutcome{.mirror = primary, .response = Response{.status = 200}, .won = true});
        } else {
            outcomes = race(primary, secondary, offset);
        }
        if (outcomes.size() > 1) {
            (void)m_board.apply(primary, MirrorEvent::rival_joined);
            (void)m_board.apply(outcomes[1].mirror, MirrorEvent::join_race);
        }
        for (const auto& o : outcomes) {
            if (o.won) (void)m_board.apply(o.mirror, MirrorEvent::answered);
        }
        return outcomes;
    }

    std::vector<RaceOutcome> race(std::size_t primary, std::optional<std::size_t> secondary, std::uint64_t offset) {
        const auto& target = m.target;
        auto first = make_request(primary);
        std::optional<RaceEntrant> second;
        if (secondary) second = make_request(*secondary);
        m_sink.expect_from(offset, target.expected_size);
        m.events.emit(Event{EventKind::download_start, (offset > 0 ? "resuming " : "downloading ") + target.filename +
                                                           " from " + mirror(primary).name +
                                                           (offset > 0 ? " at " + human_bytes(offset) : "")}
                          .with("mirror", mirror(primary).name)
                          .with("url", redact_url(first.request.url))
                          .with("offset", static_cast<std::int64_t>(offset))
                          .with("size", static_cast<std::int64_t>(target.expected_size)));
        std::atomic<std::uint64_t> reported{0};
        std::atomic<std::size_t> reporting_mirror{primary};
        auto progress = [&](std::size_t i, std::uint64_t got, std::uint64_t) {
            reported = offset + got;
            reporting_mirror = i;
            m.events.emit(Event{EventKind::progress, ""}
                              .with("bytes", static_cast<std::int64_t>(offset + got))
                              .with("total", static_cast<std::int64_t>(target.expected_size))
                              .with("mirror", mirror(i).name));
        };
        auto outcomes =
            race_fetch(m.transport, m.clock, m_sink, first, second, m.options.head_start, m.cancel, progress);
        m_result.bytes_transferred += m_sink.received();
        // curl's progress callback is periodic, so its last call may predate the last bytes:
        // a transfer that completed the file always ends with a 100 % progress event.
        if (target.expected_size != 0 && offset + m_sink.received() == target.expected_size &&
            reported.load() != target.expected_size) {
            m.events.emit(Event{EventKind::progress, ""}
                              .with("bytes", static_cast<std::int64_t>(target.expected_size))
                              .with("total", static_cast<std::int64_t>(target.expected_size))
                              .with("mirror", mirror(reporting_mirror.load()).name));
        }
        // Record the validators of the bytes now in the .part as soon as a response was
        // accepted, even when its body then broke off: that is when a resume needs them.
        if (m_sink.head_accepted()) {
            const auto& won = outcomes[outcomes[0].won ? 0 : outcomes.size() - 1];
            // Redacted: the .meta stays on disk and must not hold the URL's credentials.
            m_meta = PartMeta{.url = redact_url(url(won.mirror)),
                              .etag = m_sink.head().header("etag"),
                              .last_modified = m_sink.head().header("last-modified"),
                              .expected_size = target.expected_size};
            (void)save_part_meta(m.meta_path, m_meta);
        }
        return outcomes;
    }

    // Turns one outcome into an event, logs the attempt and carries out the action. Returns the
    // download's result when the action ends it.
    std::optional<Result<DownloadResult>> judge(const RaceOutcome& o, std::uint64_t offset) {
        const std::size_t i = o.mirror;
        const auto& target = m.target;
        Attempt attempt{.mirror = mirror(i).name,
                        .url = redact_url(url(i)),
                        .resumed_from = offset,
                        .bytes = o.won ? m_sink.received() : 0,
                        .elapsed = o.elapsed};
        if (o.lost) {
            attempt.lost_race = true;
            attempt.error = "another mirror answered first";
            attempt.decision = m_board.apply(i, MirrorEvent::lost_race).decision;
            m_log.record(attempt);
            return std::nullopt;
        }
        std::optional<Error> err;
        bool verify = false;
        if (!o.response) {
            err = o.response.error();
            if (err->code() == ErrorCode::cancelled && cancelled()) {
                attempt.decision = m_board.apply(i, MirrorEvent::fatal, true).decision;
                m_log.record(attempt);
                return cancelled_error();
            }
            if (m_sink.range_rejected()) {
                (void)m_sink.restart(); // the server's ranges cannot be trusted: start over
            }
        } else if (o.response->status == 416) {
            // Range not satisfiable: we may already hold the whole file (RESEARCH §4).
            auto cr = parse_content_range(o.response->header("content-range"));
            if (cr && cr->total && *cr->total == m_sink.size()) {
                verify = true;
            } else {
                (void)m_sink.restart();
                err = http_status_error(*o.response, attempt.url, m.clock.wall_now());
            }
        } else if (!o.response->ok()) {
            err = http_status_error(*o.response, attempt.url, m.clock.wall_now());
        } else if (target.expected_size != 0 && m_sink.size() < target.expected_size) {
            err = Error(ErrorCode::network, "download from " + attempt.url + " ended early: got " +
                                                std::to_string(m_sink.size()) + " of " +
                                                std::to_string(target.expected_size) + " bytes")
                      .with_net(NetDetail{.phase = NetPhase::body, .url = attempt.url});
        } else {
            verify = true;
        }
        if (verify) {
            auto digest = m_sink.hex_digest();
            if (target.compute_only || to_lower(digest) == to_lower(target.expected_sha256)) {
                attempt.decision = m_board.apply(i, MirrorEvent::verified, true).decision;
                m_log.record(attempt);
                return succeed(i, digest);
            }
            // Bytes that hash wrong are useless: drop them.
            const std::uint64_t got_size = m_sink.size();
            const bool was_resumed = offset > 0 && !m_sink.restarted_on_200();
            (void)m_sink.restart();
            ::unlink(m.meta_path.c_str());
            m_meta = PartMeta{};
            if (was_resumed && !m_restarted_after_mismatch) {
                // The kept bytes may be the bad ones: restart once from zero (not counted).
                m_restarted_after_mismatch = true;
                attempt.error = "checksum mismatch after resuming; restarting from zero";
                attempt.decision = m_board.apply(i, MirrorEvent::mismatch_restart).decision;
                m_log.record(attempt);
                m.events.emit(Event{EventKind::retry, "checksum mismatch after resuming " + target.filename +
                                                          "; downloading it again from the start"}
                                  .with("mirror", mirror(i).name));
                return std::nullopt;
            }
            err = Error(ErrorCode::checksum, "checksum mismatch for " + target.filename + " from " + mirror(i).name +
                                                 ": expected " + target.expected_sha256 + ", got " + digest +
                                                 (target.expected_size != 0 && got_size != target.expected_size
                                                      ? " (" + std::to_string(got_size) + " bytes; the index lists " +
                                                            std::to_string(target.expected_size) + ")"
                                                      : std::string()));
        }
        attempt.error = err->describe();
        if (err->net()) {
            attempt.http_status = err->net()->http_status;
            attempt.curl_code = err->net()->curl_code;
        }
        const auto step = m_board.apply(i, event_for(classify(*err)), true);
        attempt.decision = step.decision;
        m_log.record(attempt);
        if (!m_best_error || informativeness(*err) >= informativeness(*m_best_error)) {
            m_best_error = *err;
        }
        switch (step.action) {
        case FailoverAction::abort: return std::unexpected(*err);
        case FailoverAction::retire: retire(i, *err); break;
        case FailoverAction::back_off: m_backoff_error = *err; break;
        default: break;
        }
        return std::nullopt;
    }

    static MirrorEvent event_for(Decision d) {
        switch (d) {
        case Decision::retry_same: return MirrorEvent::transient;
        case Decision::next_mirror: return MirrorEvent::unfit;
        case Decision::stop: break;
        }
        return MirrorEvent::fatal;
    }

    // Transient failure on the mirror in use: back off on the clock, unless that would overrun the
    // deadline.
    void back_off(std::size_t i) {
        const Error why = m_backoff_error.value_or(Error(ErrorCode::network, "transient failure"));
        auto retry_after = why.net() ? why.net()->retry_after_seconds : std::nullopt;
        auto delay = backoff_delay(m_board.tries(i), m.jitter(), retry_after);
        if (m.clock.now() + delay >= m_deadline) {
            (void)m_board.apply(i, MirrorEvent::backoff_refused);
            retire(i, why);
            return;
        }
        m.events.emit(Event{EventKind::retry, why.describe() + "; retrying " + mirror(i).name + " in " +
                                                  std::to_string(delay.count() / 1000) + "." +
                                                  std::to_string(delay.count() % 1000 / 100) + " s"}
                          .with("mirror", mirror(i).name)
                          .with("attempt", static_cast<std::int64_t>(m_board.tries(i) + 1))
                          .with("delay_ms", static_cast<std::int64_t>(delay.count())));
        // Sleep in slices so that Ctrl-C is not kept waiting for a long Retry-After.
        const auto until = m.clock.now() + delay;
        while (m.clock.now() < until) {
            if (cancelled()) break;
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - m.clock.now());
            m.clock.sleep_for(std::min(left, std::chrono::milliseconds(200)));
        }
        (void)m_board.apply(i, MirrorEvent::backoff_done);
    }

    // The mirror is dead: say why, and which one is next.
    void retire(std::size_t i, const Error& why) {
        auto next = m_board.live_from(0);
        m.events.emit(Event{EventKind::failover, mirror(i).name + " " + failover_reason(why, m.target.filename) +
                                                     (next ? "; trying " + mirror(*next).name : std::string())}
                          .with("from", mirror(i).name)
                          .with("to", next ? mirror(*next).name : std::string())
                          .with("reason", why.message()));
    }

    Result<DownloadResult> succeed(std::size_t i, const std::string& digest) {
        if (auto st = m_sink.sync(); !st) return std::unexpected(st.error());
        if (::rename(m.part_path.c_str(), m.final_path.c_str()) != 0) {
            return std::unexpected(errno_error(errno, "cannot rename", m.part_path.string()));
        }
        ::unlink(m.meta_path.c_str());
        m_result.path = m.final_path;
        m_result.sha256 = digest;
        m_result.mirror = mirror(i).name;
        m_result.attempts = m_log.list();
        if (!m.target.compute_only) {
            m.events.emit(Event{EventKind::verified, "verified SHA-256 " + digest + " (" + mirror(i).name + ")"}
                              .with("sha256", digest)
                              .with("mirror", mirror(i).name));
        }
        return m_result;
    }

    Setup m;
    PartFileSink& m_sink;
    PartMeta& m_meta;
    DownloadResult& m_result;
    AttemptLog& m_log;
    MirrorBoard m_board;
    const Clock::TimePoint m_deadline;
    std::optional<Error> m_best_error;
    std::optional<Error> m_backoff_error;
    bool m_restarted_after_mismatch = false;
};

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
    if (segmented) {
        auto seg = segmented_fetch(m_transport, m_clock, m_events, target, part_path, meta_path, meta, existing,
                                   options, cancel);
        result.bytes_transferred += seg.bytes_transferred;
        for (auto& a : seg.attempts) log.record(a, /*segmented=*/true);
        if (cancel != nullptr && cancel->cancelled()) { // the sidecar keeps every finished chunk
            return fail(ErrorCode::cancelled, "cancelled while downloading " + target.filename);
        }
        existing = seg.contiguous;
        served_by = seg.served_by;
        if (existing < target.expected_size) { // from here on a plain prefix (what follows it is dropped)
            meta = PartMeta{.expected_size = target.expected_size};
            (void)save_part_meta(meta_path, meta);
        }
    }
    auto sink_or = PartFileSink::open(part_path, existing);
    if (!sink_or) {
        return std::unexpected(sink_or.error());
    }
    PartFileSink& sink = *sink_or;
    sink.set_observer(options.observer);
    FailoverRun run({.transport = m_transport,
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
    return run.run();
}

} // namespace goinstall
