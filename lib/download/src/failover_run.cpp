#include "failover_run.hpp"

#include <atomic>

#include "goinstall/base/strings.hpp"
#include "goinstall/base/url.hpp"
#include "goinstall/fs/files.hpp"
#include "handover_scout.hpp"
#include "race.hpp"
#include "stall_watch.hpp"

namespace goinstall {

namespace {

bool strong_etag(const std::string& etag) { return !etag.empty() && !etag.starts_with("W/"); }

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

// One download's sequential phase: the driver of the failover state machine (failover.hpp). Each
// round asks the first idle mirror (and, past the head start, the next one too), turns every
// outcome into a MirrorEvent and carries out the action the transition names.
class FailoverRun {
public:
    using Setup = FailoverSetup;

    FailoverRun(Setup setup, PartFileSink& sink, PartMeta& meta, DownloadResult& result, AttemptLog& log)
        : m(std::move(setup)), m_sink(sink), m_meta(meta), m_result(result), m_log(log),
          m_board(m.options.mirrors.size(), m.options.max_attempts_per_mirror),
          m_deadline(m.clock.now() + m.options.deadline),
          m_scout({m.transport, m.clock, m.events, m.target, m.options, m.cancel}) {
        for (std::size_t i = 0; i < m.options.mirrors.size(); ++i) m_order.push_back(i);
    }

    Result<DownloadResult> run() {
        while (true) {
            if (cancelled()) return cancelled_error();
            auto primary = idle_in_order(std::nullopt);
            if (!primary || m.clock.now() >= m_deadline) break;
            if (m.served_by && m_sink.size() == m.target.expected_size &&
                m_board.state(*m.served_by) == MirrorState::idle) {
                primary = m.served_by; // the file is here: verify it under the mirror that sent it
            }
            auto secondary = m.options.head_start.count() > 0 ? idle_in_order(primary) : std::nullopt;
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

    // The first mirror that may be asked now, in the current order of preference (after `after`).
    std::optional<std::size_t> idle_in_order(std::optional<std::size_t> after) const {
        bool past = !after;
        for (std::size_t i : m_order) {
            if (!past) {
                past = i == *after;
                continue;
            }
            if (m_board.idle_from(i) == i) return i;
        }
        return std::nullopt;
    }
    void move_in_order(std::size_t i, bool to_front) {
        std::erase(m_order, i);
        if (to_front) {
            m_order.insert(m_order.begin(), i);
        } else {
            m_order.push_back(i);
        }
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
        // Only the winner reports progress, from its transfer's thread: the pace watch is its own.
        CancelToken abandon;
        const auto t0 = m.clock.now();
        StallWatch watch({.ceiling = std::max(m.options.limits.stall_time, std::chrono::seconds(1))}, t0);
        m_abandon.reset();
        auto progress = [&](std::size_t i, std::uint64_t got, std::uint64_t) {
            reported = offset + got;
            reporting_mirror = i;
            m.events.emit(Event{EventKind::progress, ""}
                              .with("bytes", static_cast<std::int64_t>(offset + got))
                              .with("total", static_cast<std::int64_t>(target.expected_size))
                              .with("mirror", mirror(i).name));
            if (abandon.cancelled()) return;
            const auto now = m.clock.now();
            watch.observe(now, got);
            if (watch.silent(now)) {
                m_abandon = Abandon{.mirror = i, .reason = watch.describe_silence(now)};
                abandon.cancel();
                return;
            }
            if (auto h = m_scout.check(i, offset + got, watch.recent_rate(), std::chrono::nanoseconds(now - t0),
                                       m_order, m_board)) {
                m_abandon = Abandon{
                    .mirror = i, .reason = h->reason, .to = h->to, .from_rate = h->from_rate, .to_rate = h->to_rate};
                abandon.cancel();
            }
        };
        auto outcomes =
            race_fetch(m.transport, m.clock, m_sink, first, second, m.options.head_start, m.cancel, progress, &abandon);
        m_scout.stop(); // a scout still out belongs to this transfer
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
        if (!o.response && m_abandon && m_abandon->mirror == i && !cancelled()) {
            return abandoned(o, attempt);
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
            (void)remove_file(m.meta_path);
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

    // The transfer was left on purpose (silent, or slower than another mirror has shown): the next
    // round resumes the .part from its offset elsewhere.
    std::optional<Result<DownloadResult>> abandoned(const RaceOutcome& o, Attempt& attempt) {
        const std::size_t i = o.mirror;
        const Abandon why = *m_abandon;
        m_abandon.reset();
        attempt.bytes = m_sink.received();
        attempt.error = why.reason;
        const auto step = m_board.apply(i, MirrorEvent::abandoned, /*counts=*/m_sink.received() == 0);
        attempt.decision = step.decision;
        m_log.record(attempt);
        move_in_order(i, false);
        if (why.to) move_in_order(*why.to, true);
        const auto next = idle_in_order(std::nullopt);
        Event e{EventKind::failover,
                mirror(i).name + " " + why.reason + (next ? "; resuming from " + mirror(*next).name : std::string())};
        e.with("from", mirror(i).name)
            .with("to", next ? mirror(*next).name : std::string())
            .with("reason", why.reason)
            .with("offset", static_cast<std::int64_t>(m_sink.size()))
            .with("handover", why.to.has_value());
        if (why.to) e.with("from_rate", why.from_rate).with("to_rate", why.to_rate);
        m.events.emit(e);
        if (step.action == FailoverAction::retire) {
            m_best_error = Error(ErrorCode::network, mirror(i).name + " " + why.reason);
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
        if (auto st = rename_path(m.part_path, m.final_path, "cannot rename", m.part_path.string()); !st) {
            return std::unexpected(st.error());
        }
        (void)remove_file(m.meta_path);
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

    struct Abandon {
        std::size_t mirror = 0;
        std::string reason;
        std::optional<std::size_t> to; // a hand-over: the faster mirror
        double from_rate = 0, to_rate = 0;
    };

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
    std::vector<std::size_t> m_order; // mirrors in order of preference
    HandoverScout m_scout;            // runs beside the transfer in single-stream mode
    std::optional<Abandon> m_abandon; // set from the winner's progress callback
};

} // namespace

Result<DownloadResult> run_failover(FailoverSetup setup, PartFileSink& sink, PartMeta& meta, DownloadResult& result,
                                    AttemptLog& log) {
    FailoverRun run(std::move(setup), sink, meta, result, log);
    return run.run();
}

} // namespace goinstall
