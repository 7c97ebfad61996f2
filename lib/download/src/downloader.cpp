#include "goinstall/download/downloader.hpp"

#include <atomic>

#include <random>
#include <sys/stat.h>
#include <unistd.h>

#include "goinstall/base/strings.hpp"
#include "goinstall/base/url.hpp"
#include "goinstall/fs/files.hpp"
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
// 404, which says more than a connection failure (docs/field-notes.md#retry-timeouts-resume: report
// the most informative error).
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
    std::vector<Attempt> local_log;
    std::vector<Attempt>& attempt_log = attempts_out != nullptr ? *attempts_out : local_log;
    // Large file, several mirrors: fetch ranges from all of them at once first (segmented.hpp);
    // the loop below then verifies the file, or resumes what that phase could not fetch.
    const bool segmented = options.connections != 1 && mirrors.size() >= 2 && target.expected_size != 0 &&
                           target.expected_size >= options.segmented_min_size && existing < target.expected_size;
    if (segmented) {
        auto seg = segmented_fetch(m_transport, m_clock, m_events, target, part_path, meta_path, meta, existing,
                                   options, cancel);
        result.bytes_transferred += seg.bytes_transferred;
        for (auto& a : seg.attempts) {
            attempt_log.push_back(a);
            m_events.emit(Event{EventKind::attempt, ""}
                              .with("mirror", a.mirror)
                              .with("url", a.url)
                              .with("bytes", static_cast<std::int64_t>(a.bytes))
                              .with("http_status", static_cast<std::int64_t>(a.http_status))
                              .with("curl_code", static_cast<std::int64_t>(a.curl_code))
                              .with("error", a.error)
                              .with("decision", std::string(a.error.empty() ? "done" : to_string(a.decision)))
                              .with("segmented", true)
                              .with("elapsed_ms", static_cast<std::int64_t>(a.elapsed.count())));
        }
        if (cancel != nullptr && cancel->cancelled()) { // the sidecar keeps every finished chunk
            return fail(ErrorCode::cancelled, "cancelled while downloading " + target.filename);
        }
        existing = seg.contiguous;
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
    // Every attempt is kept and reported as it ends (it feeds --json, the final error and triage).
    struct Log {
        std::vector<Attempt>& list;
        EventSink& events;
        void push_back(const Attempt& a) {
            list.push_back(a);
            events.emit(Event{EventKind::attempt, ""}
                            .with("mirror", a.mirror)
                            .with("url", a.url)
                            .with("resumed_from", static_cast<std::int64_t>(a.resumed_from))
                            .with("bytes", static_cast<std::int64_t>(a.bytes))
                            .with("http_status", static_cast<std::int64_t>(a.http_status))
                            .with("curl_code", static_cast<std::int64_t>(a.curl_code))
                            .with("error", a.error)
                            .with("decision", std::string(a.error.empty() ? "done" : to_string(a.decision)))
                            .with("lost_race", a.lost_race)
                            .with("elapsed_ms", static_cast<std::int64_t>(a.elapsed.count())));
        }
    } log{attempt_log, m_events};
    std::optional<Error> best_error;
    bool restarted_after_mismatch = false;
    const auto deadline = m_clock.now() + options.deadline;
    const std::size_t n = mirrors.size();
    std::vector<int> tries(n, 0);
    std::vector<bool> dead(n, false); // failed for good, or out of attempts: skipped for the rest of the run

    auto live_from = [&](std::size_t from) -> std::optional<std::size_t> {
        for (std::size_t i = from; i < n; ++i) {
            if (!dead[i] && tries[i] < options.max_attempts_per_mirror) return i;
        }
        return std::nullopt;
    };
    auto make_request = [&](std::size_t i) {
        const std::string url = join_url(mirrors[i].base_url, target.filename);
        Request req{.url = url, .limits = options.limits};
        req.range_start = sink.size();
        // If-Range only with a validator from the same URL; elsewhere the final SHA-256 pins the
        // content (docs/field-notes.md#retry-timeouts-resume). Strong ETag first, else
        // Last-Modified.
        if (req.range_start > 0 && meta.url == redact_url(url)) {
            req.if_range = strong_etag(meta.etag) ? meta.etag : meta.last_modified;
        }
        return RaceEntrant{i, req};
    };
    auto retire = [&](std::size_t i, const Error& why) {
        dead[i] = true;
        auto next = live_from(0);
        m_events.emit(Event{EventKind::failover, mirrors[i].name + " " + failover_reason(why, target.filename) +
                                                     (next ? "; trying " + mirrors[*next].name : std::string())}
                          .with("from", mirrors[i].name)
                          .with("to", next ? mirrors[*next].name : std::string())
                          .with("reason", why.message()));
    };
    auto succeed = [&](std::size_t i, const std::string& digest) -> Result<DownloadResult> {
        if (auto st = sink.sync(); !st) return std::unexpected(st.error());
        if (::rename(part_path.c_str(), final_path.c_str()) != 0) {
            return std::unexpected(errno_error(errno, "cannot rename", part_path.string()));
        }
        ::unlink(meta_path.c_str());
        result.path = final_path;
        result.sha256 = digest;
        result.mirror = mirrors[i].name;
        result.attempts = attempt_log;
        if (!target.compute_only) {
            m_events.emit(Event{EventKind::verified, "verified SHA-256 " + digest + " (" + mirrors[i].name + ")"}
                              .with("sha256", digest)
                              .with("mirror", mirrors[i].name));
        }
        return result;
    };

    while (true) {
        if (cancel != nullptr && cancel->cancelled()) {
            return fail(ErrorCode::cancelled, "cancelled while downloading " + target.filename);
        }
        auto primary = live_from(0);
        if (!primary || m_clock.now() >= deadline) break;
        auto secondary = options.head_start.count() > 0 ? live_from(*primary + 1) : std::nullopt;

        // Run the primary (and, if it is slow to answer, the secondary) unless the file is complete.
        const std::uint64_t offset = sink.size();
        std::vector<RaceOutcome> outcomes;
        if (target.expected_size != 0 && offset == target.expected_size) {
            outcomes.push_back(RaceOutcome{.mirror = *primary, .response = Response{.status = 200}, .won = true});
        } else {
            auto first = make_request(*primary);
            std::optional<RaceEntrant> second;
            if (secondary) second = make_request(*secondary);
            sink.expect_from(offset, target.expected_size);
            m_events.emit(Event{EventKind::download_start,
                                (offset > 0 ? "resuming " : "downloading ") + target.filename + " from " +
                                    mirrors[*primary].name + (offset > 0 ? " at " + human_bytes(offset) : "")}
                              .with("mirror", mirrors[*primary].name)
                              .with("url", redact_url(first.request.url))
                              .with("offset", static_cast<std::int64_t>(offset))
                              .with("size", static_cast<std::int64_t>(target.expected_size)));
            std::atomic<std::uint64_t> reported{0};
            std::atomic<std::size_t> reporting_mirror{*primary};
            auto progress = [&](std::size_t i, std::uint64_t got, std::uint64_t) {
                reported = offset + got;
                reporting_mirror = i;
                m_events.emit(Event{EventKind::progress, ""}
                                  .with("bytes", static_cast<std::int64_t>(offset + got))
                                  .with("total", static_cast<std::int64_t>(target.expected_size))
                                  .with("mirror", mirrors[i].name));
            };
            outcomes = race_fetch(m_transport, sink, first, second, options.head_start, cancel, progress);
            result.bytes_transferred += sink.received();
            // curl's progress callback is periodic, so its last call may predate the last bytes:
            // a transfer that completed the file always ends with a 100 % progress event.
            if (target.expected_size != 0 && offset + sink.received() == target.expected_size &&
                reported.load() != target.expected_size) {
                m_events.emit(Event{EventKind::progress, ""}
                                  .with("bytes", static_cast<std::int64_t>(target.expected_size))
                                  .with("total", static_cast<std::int64_t>(target.expected_size))
                                  .with("mirror", mirrors[reporting_mirror.load()].name));
            }
            // Record the validators of the bytes now in the .part as soon as a response was
            // accepted, even when its body then broke off: that is when a resume needs them.
            if (sink.head_accepted()) {
                const auto& won = outcomes[outcomes[0].won ? 0 : outcomes.size() - 1];
                // Redacted: the .meta stays on disk and must not hold the URL's credentials.
                meta = PartMeta{.url = redact_url(join_url(mirrors[won.mirror].base_url, target.filename)),
                                .etag = sink.head().header("etag"),
                                .last_modified = sink.head().header("last-modified"),
                                .expected_size = target.expected_size};
                (void)save_part_meta(meta_path, meta);
            }
        }

        // Judge each outcome; the winner's last.
        std::stable_sort(outcomes.begin(), outcomes.end(), [](const auto& a, const auto& b) { return !a.won && b.won; });
        std::optional<std::size_t> retry_mirror;
        std::optional<Error> retry_error;
        for (auto& o : outcomes) {
            const std::size_t i = o.mirror;
            Attempt attempt{.mirror = mirrors[i].name,
                            .url = redact_url(join_url(mirrors[i].base_url, target.filename)),
                            .resumed_from = offset,
                            .bytes = o.won ? sink.received() : 0,
                            .elapsed = o.elapsed};
            if (o.lost) {
                attempt.lost_race = true;
                attempt.error = "another mirror answered first";
                attempt.decision = Decision::next_mirror;
                log.push_back(attempt);
                continue;
            }
            ++tries[i];
            std::optional<Error> err;
            bool verify = false;
            if (!o.response) {
                err = o.response.error();
                if (err->code() == ErrorCode::cancelled && cancel != nullptr && cancel->cancelled()) {
                    log.push_back(attempt);
                    return fail(ErrorCode::cancelled, "cancelled while downloading " + target.filename);
                }
                if (sink.range_rejected()) {
                    (void)sink.restart(); // the server's ranges cannot be trusted: start over
                }
            } else if (o.response->status == 416) {
                // Range not satisfiable: we may already hold the whole file
                // (docs/field-notes.md#retry-timeouts-resume).
                auto cr = parse_content_range(o.response->header("content-range"));
                if (cr && cr->total && *cr->total == sink.size()) {
                    verify = true;
                } else {
                    (void)sink.restart();
                    err = http_status_error(*o.response, attempt.url, m_clock.wall_now());
                }
            } else if (!o.response->ok()) {
                err = http_status_error(*o.response, attempt.url, m_clock.wall_now());
            } else if (target.expected_size != 0 && sink.size() < target.expected_size) {
                err = Error(ErrorCode::network, "download from " + attempt.url + " ended early: got " +
                                                    std::to_string(sink.size()) + " of " +
                                                    std::to_string(target.expected_size) + " bytes")
                          .with_net(NetDetail{.phase = NetPhase::body, .url = attempt.url});
            } else {
                verify = true;
            }
            if (verify) {
                auto digest = sink.hex_digest();
                if (target.compute_only || to_lower(digest) == to_lower(target.expected_sha256)) {
                    attempt.decision = Decision::stop;
                    log.push_back(attempt);
                    return succeed(i, digest);
                }
                // Bytes that hash wrong are useless: drop them.
                const std::uint64_t got_size = sink.size();
                bool was_resumed = offset > 0 && !sink.restarted_on_200();
                (void)sink.restart();
                ::unlink(meta_path.c_str());
                meta = PartMeta{};
                if (was_resumed && !restarted_after_mismatch) {
                    // The kept bytes may be the bad ones: restart once from zero, same mirror.
                    restarted_after_mismatch = true;
                    --tries[i];
                    attempt.error = "checksum mismatch after resuming; restarting from zero";
                    attempt.decision = Decision::retry_same;
                    log.push_back(attempt);
                    m_events.emit(Event{EventKind::retry, "checksum mismatch after resuming " + target.filename +
                                                              "; downloading it again from the start"}
                                      .with("mirror", mirrors[i].name));
                    continue;
                }
                err = Error(ErrorCode::checksum,
                            "checksum mismatch for " + target.filename + " from " + mirrors[i].name + ": expected " +
                                target.expected_sha256 + ", got " + digest +
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
            attempt.decision = classify(*err);
            if (attempt.decision == Decision::retry_same && tries[i] >= options.max_attempts_per_mirror) {
                attempt.decision = Decision::next_mirror; // out of attempts here: the action taken
            }
            log.push_back(attempt);
            if (!best_error || informativeness(*err) >= informativeness(*best_error)) {
                best_error = *err;
            }
            if (attempt.decision == Decision::stop) {
                return std::unexpected(*err);
            }
            if (attempt.decision == Decision::next_mirror || tries[i] >= options.max_attempts_per_mirror) {
                retire(i, *err);
            } else if (o.won || outcomes.size() == 1) {
                retry_mirror = i;
                retry_error = *err;
            }
        }
        if (!retry_mirror || dead[*retry_mirror]) {
            continue;
        }
        // Transient failure on the mirror in use: back off, unless that would overrun the deadline.
        auto retry_after = retry_error->net() ? retry_error->net()->retry_after_seconds : std::nullopt;
        auto delay = backoff_delay(tries[*retry_mirror], m_jitter(), retry_after);
        if (m_clock.now() + delay >= deadline) {
            retire(*retry_mirror, *retry_error);
            continue;
        }
        m_events.emit(Event{EventKind::retry, retry_error->describe() + "; retrying " + mirrors[*retry_mirror].name +
                                                  " in " + std::to_string(delay.count() / 1000) + "." +
                                                  std::to_string(delay.count() % 1000 / 100) + " s"}
                          .with("mirror", mirrors[*retry_mirror].name)
                          .with("attempt", static_cast<std::int64_t>(tries[*retry_mirror] + 1))
                          .with("delay_ms", static_cast<std::int64_t>(delay.count())));
        // Sleep in slices so that Ctrl-C is not kept waiting for a long Retry-After.
        auto until = m_clock.now() + delay;
        while (m_clock.now() < until) {
            if (cancel != nullptr && cancel->cancelled()) break;
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - m_clock.now());
            m_clock.sleep_for(std::min(left, std::chrono::milliseconds(200)));
        }
    }
    Error e = best_error ? *best_error : Error(ErrorCode::network, "download of " + target.filename + " timed out");
    if (n > 1) {
        e.with_context("every mirror failed for " + target.filename);
    }
    return std::unexpected(std::move(e));
}

} // namespace goinstall
