#include "goinstall/download/downloader.hpp"

#include <random>
#include <sys/stat.h>
#include <unistd.h>

#include "goinstall/base/strings.hpp"
#include "goinstall/base/url.hpp"
#include "goinstall/fs/files.hpp"
#include "part_file.hpp"

namespace goinstall {

namespace {

bool strong_etag(const std::string& etag) { return !etag.empty() && !etag.starts_with("W/"); }

std::uint64_t existing_size(const std::filesystem::path& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
}

Error http_status_error(const Response& r, const std::string& url) {
    std::string msg = url + " answered HTTP " + std::to_string(r.status);
    auto snippet = sanitize_for_display(r.error_body, 120);
    if (!snippet.empty() && r.header("content-type").find("html") == std::string::npos) {
        msg += " (" + snippet + ")";
    }
    NetDetail d{.phase = NetPhase::http, .http_status = r.status, .url = url};
    if (auto ra = r.header("retry-after"); !ra.empty()) {
        d.retry_after_seconds = parse_retry_after(ra, std::chrono::system_clock::now());
    }
    return Error(ErrorCode::network, msg).with_net(d);
}

// Picks the error to report when every mirror failed: a checksum or TLS problem says more than a
// 404, which says more than a connection failure.
int informativeness(const Error& e) {
    switch (e.code()) {
    case ErrorCode::checksum: return 5;
    case ErrorCode::tls: return 4;
    case ErrorCode::proxy_auth: return 4;
    default: break;
    }
    if (e.net() && e.net()->http_status >= 400) return 3;
    if (e.net() && e.net()->phase == NetPhase::body) return 2;
    return 1;
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
    if (options.mirrors.empty()) {
        return fail(ErrorCode::usage, "no mirror to download " + target.filename + " from");
    }
    if (!is_hex(target.expected_sha256, 64)) {
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
    auto sink_or = PartFileSink::open(part_path, existing);
    if (!sink_or) {
        return std::unexpected(sink_or.error());
    }
    PartFileSink& sink = *sink_or;

    DownloadResult result;
    std::vector<Attempt>& log = attempts_out != nullptr ? *attempts_out : result.attempts;
    std::optional<Error> best_error;
    bool restarted_after_mismatch = false;
    const auto deadline = m_clock.now() + options.deadline;

    for (std::size_t mi = 0; mi < options.mirrors.size(); ++mi) {
        const Mirror& mirror = options.mirrors[mi];
        const std::string url = join_url(mirror.base_url, target.filename);
        const std::string shown_url = redact_url(url);
        for (int attempt_no = 1; attempt_no <= options.max_attempts_per_mirror; ++attempt_no) {
            if (cancel != nullptr && cancel->cancelled()) {
                return fail(ErrorCode::cancelled, "cancelled while downloading " + target.filename);
            }
            Attempt attempt{.mirror = mirror.name, .url = shown_url, .resumed_from = sink.size()};
            const auto started = m_clock.now();
            Result<Response> response = Response{};
            bool complete_already = target.expected_size != 0 && sink.size() == target.expected_size;
            if (!complete_already) {
                Request req{.url = url, .limits = options.limits};
                req.range_start = sink.size();
                // If-Range only with a strong validator from the same URL; elsewhere the final
                // SHA-256 pins the content (RESEARCH §4).
                if (req.range_start > 0 && meta.url == url) {
                    req.if_range = strong_etag(meta.etag) ? meta.etag : meta.last_modified;
                }
                sink.expect_from(req.range_start, target.expected_size);
                m_events.emit(Event{EventKind::download_start,
                                    (req.range_start > 0 ? "resuming " : "downloading ") + target.filename + " from " +
                                        mirror.name + (req.range_start > 0 ? " at " + human_bytes(req.range_start) : "")}
                                  .with("mirror", mirror.name)
                                  .with("url", shown_url)
                                  .with("offset", static_cast<std::int64_t>(req.range_start))
                                  .with("size", static_cast<std::int64_t>(target.expected_size)));
                const std::uint64_t base = req.range_start;
                ProgressFn progress = [&](std::uint64_t got, std::uint64_t) {
                    m_events.emit(Event{EventKind::progress, ""}
                                      .with("bytes", static_cast<std::int64_t>(base + got))
                                      .with("total", static_cast<std::int64_t>(target.expected_size))
                                      .with("mirror", mirror.name));
                };
                auto before = sink.size();
                response = m_transport.fetch(req, sink, cancel, progress);
                auto after = sink.size();
                result.bytes_transferred += after >= before ? after - before : after;
                if (response && response->ok()) {
                    meta = PartMeta{.url = url,
                                    .etag = response->header("etag"),
                                    .last_modified = response->header("last-modified"),
                                    .expected_size = target.expected_size};
                    (void)save_part_meta(meta_path, meta);
                }
            }
            attempt.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(m_clock.now() - started);
            attempt.bytes = sink.size() - std::min(sink.size(), attempt.resumed_from);

            std::optional<Error> err;
            if (!response) {
                err = response.error();
            } else if (response->status == 416) {
                // Range not satisfiable: we may already hold the whole file (RESEARCH §4).
                auto cr = parse_content_range(response->header("content-range"));
                if (!(cr && cr->total && *cr->total == sink.size())) {
                    (void)sink.restart();
                    err = http_status_error(*response, shown_url);
                }
            } else if (!response->ok()) {
                err = http_status_error(*response, shown_url);
            } else if (target.expected_size != 0 && sink.size() != target.expected_size) {
                err = Error(ErrorCode::network, "download from " + shown_url + " ended early: got " +
                                                    std::to_string(sink.size()) + " of " +
                                                    std::to_string(target.expected_size) + " bytes")
                          .with_net(NetDetail{.phase = NetPhase::body, .url = shown_url});
            }
            if (!err) {
                auto digest = sink.hex_digest();
                if (to_lower(digest) == to_lower(target.expected_sha256)) {
                    if (auto st = sink.sync(); !st) {
                        return std::unexpected(st.error());
                    }
                    if (::rename(part_path.c_str(), final_path.c_str()) != 0) {
                        return std::unexpected(errno_error(errno, "cannot rename", part_path.string()));
                    }
                    ::unlink(meta_path.c_str());
                    attempt.decision = Decision::stop;
                    log.push_back(attempt);
                    result.path = final_path;
                    result.sha256 = digest;
                    result.mirror = mirror.name;
                    if (attempts_out != nullptr) {
                        result.attempts = *attempts_out;
                    }
                    m_events.emit(Event{EventKind::verified, "verified SHA-256 " + digest}
                                      .with("sha256", digest)
                                      .with("mirror", mirror.name));
                    return result;
                }
                // Bytes that hash wrong are useless: drop them.
                bool was_resumed = attempt.resumed_from > 0 && !sink.restarted_on_200();
                (void)sink.restart();
                ::unlink(meta_path.c_str());
                meta = PartMeta{};
                if (was_resumed && !restarted_after_mismatch) {
                    // The earlier bytes may be the bad ones: restart once from zero here.
                    restarted_after_mismatch = true;
                    attempt.error = "checksum mismatch after resuming; restarting from zero";
                    attempt.decision = Decision::retry_same;
                    log.push_back(attempt);
                    m_events.emit(Event{EventKind::retry, "checksum mismatch after resuming " + target.filename +
                                                              "; downloading it again from the start"});
                    --attempt_no;
                    continue;
                }
                err = Error(ErrorCode::checksum, "checksum mismatch for " + target.filename + " from " + mirror.name +
                                                     ": expected " + target.expected_sha256 + ", got " + digest);
            }

            attempt.error = err->describe();
            if (err->net()) {
                attempt.http_status = err->net()->http_status;
                attempt.curl_code = err->net()->curl_code;
            }
            attempt.decision = classify(*err);
            log.push_back(attempt);
            if (!best_error || informativeness(*err) >= informativeness(*best_error)) {
                best_error = *err;
            }
            if (attempt.decision == Decision::stop) {
                return std::unexpected(*err);
            }
            if (attempt.decision == Decision::next_mirror || attempt_no == options.max_attempts_per_mirror) {
                break;
            }
            auto retry_after = err->net() ? err->net()->retry_after_seconds : std::nullopt;
            auto delay = backoff_delay(attempt_no, m_jitter(), retry_after);
            if (m_clock.now() + delay >= deadline) {
                break; // waiting would overrun the deadline: fail over instead
            }
            m_events.emit(Event{EventKind::retry, err->describe() + "; retrying in " +
                                                      std::to_string(delay.count() / 1000) + "." +
                                                      std::to_string(delay.count() % 1000 / 100) + " s"}
                              .with("mirror", mirror.name)
                              .with("attempt", static_cast<std::int64_t>(attempt_no + 1))
                              .with("delay_ms", static_cast<std::int64_t>(delay.count())));
            m_clock.sleep_for(delay);
        }
        if (mi + 1 < options.mirrors.size()) {
            m_events.emit(Event{EventKind::failover, mirror.name + " failed (" +
                                                         (best_error ? best_error->message() : std::string("?")) +
                                                         "); trying " + options.mirrors[mi + 1].name}
                              .with("from", mirror.name)
                              .with("to", options.mirrors[mi + 1].name));
        }
        if (m_clock.now() >= deadline) {
            break;
        }
    }
    Error e = best_error ? *best_error : Error(ErrorCode::network, "download failed");
    if (options.mirrors.size() > 1) {
        e.with_context("every mirror failed for " + target.filename);
    }
    return std::unexpected(std::move(e));
}

} // namespace goinstall
