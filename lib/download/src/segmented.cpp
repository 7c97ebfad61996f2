#include "segmented.hpp"

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <fcntl.h>
#include <unistd.h>

#include "chunk_scheduler.hpp"
#include "goinstall/base/strings.hpp"
#include "goinstall/base/url.hpp"
#include "goinstall/download/policy.hpp"

namespace goinstall {

namespace {

constexpr int k_tries_per_mirror = 3;

// Shared state of one segmented download; every field under `mu`.
struct Shared {
    std::mutex mu;
    std::condition_variable changed;
    ChunkScheduler sched;
    std::vector<CancelToken*> transfer; // per worker, the running transfer's token (or null)
    int running = 0;
    Clock& clock;
};

// Writes one range's body at its offsets; accepts only the exact 206 asked for.
class SegmentSink final : public BodySink {
public:
    SegmentSink(int fd, Shared& shared, std::size_t worker, std::uint64_t begin, std::uint64_t end, std::uint64_t total)
        : m_fd(fd), m_shared(shared), m_worker(worker), m_pos(begin), m_begin(begin), m_end(end), m_total(total) {}

    Status on_response(const Response& head) override {
        auto cr = parse_content_range(head.header("content-range"));
        if (head.status != 206 || !cr || !cr->first || *cr->first != m_begin || !cr->last || *cr->last + 1 != m_end ||
            !cr->total || *cr->total != m_total) {
            m_mismatch = true;
            const std::string got = head.status == 206 ? "Content-Range '" + sanitize_for_display(head.header("content-range"), 80) + "'"
                                                       : "HTTP " + std::to_string(head.status);
            return fail(ErrorCode::network, "answered a range request for bytes " + std::to_string(m_begin) + "-" +
                                                std::to_string(m_end - 1) + "/" + std::to_string(m_total) + " with " + got);
        }
        return {};
    }
    Status on_data(std::span<const unsigned char> data) override {
        if (data.size() > m_end - m_pos) {
            return fail(ErrorCode::network, "sent more than the range asked for");
        }
        std::size_t done = 0;
        while (done < data.size()) {
            auto n = ::pwrite(m_fd, data.data() + done, data.size() - done, static_cast<off_t>(m_pos + done));
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) return std::unexpected(errno_error(errno, "cannot write", "the download's part file"));
            done += static_cast<std::size_t>(n);
        }
        m_pos += data.size();
        {
            std::lock_guard lock(m_shared.mu);
            m_shared.sched.progress(m_worker, data.size(), m_shared.clock.now());
        }
        m_shared.changed.notify_all();
        return {};
    }
    bool mismatch() const { return m_mismatch; }
    bool complete() const { return m_pos == m_end; }
    std::uint64_t written() const { return m_pos - m_begin; }

private:
    int m_fd;
    Shared& m_shared;
    std::size_t m_worker;
    std::uint64_t m_pos, m_begin, m_end, m_total;
    bool m_mismatch = false;
};

struct WorkerLog {
    Attempt attempt;
    std::uint64_t bytes = 0;
};

void run_worker(Transport& transport, Shared& sh, std::size_t w, const Mirror& mirror, const DownloadTarget& target,
                const DownloadOptions& options, int fd, WorkerLog& log) {
    const std::string url = join_url(mirror.base_url, target.filename);
    log.attempt.mirror = mirror.name;
    log.attempt.url = redact_url(url);
    const auto t0 = sh.clock.now();
    int failures = 0;
    for (;;) {
        CancelToken token;
        std::optional<ChunkScheduler::Assignment> a;
        {
            std::unique_lock lock(sh.mu);
            a = sh.sched.next(w, sh.clock.now());
            if (a) {
                sh.transfer[w] = &token;
            } else if (!sh.sched.all_done() && !sh.sched.retired(w)) {
                // Others still hold chunks: wait, then see whether one stalled or lags.
                sh.changed.wait_for(lock, std::chrono::milliseconds(200));
                continue;
            }
        }
        if (!a) break;
        Request req{.url = url, .limits = options.limits};
        req.range_start = a->begin;
        req.range_end = a->end - 1;
        SegmentSink sink(fd, sh, w, a->begin, a->end, target.expected_size);
        auto r = transport.fetch(req, sink, &token);
        log.bytes += sink.written();
        bool retire = false;
        {
            std::lock_guard lock(sh.mu);
            sh.transfer[w] = nullptr;
            if (sh.sched.idle(w)) {
                continue; // another worker finished this chunk and cancelled us
            }
            if (r && r->ok() && sink.complete()) {
                for (std::size_t other : sh.sched.complete(w)) {
                    if (sh.transfer[other] != nullptr) sh.transfer[other]->cancel_and_notify();
                }
                failures = 0;
                sh.changed.notify_all();
                continue;
            }
            std::string why = !r ? r.error().describe()
                                 : (!r->ok() ? "HTTP " + std::to_string(r->status) : "the range ended early");
            // A mirror that does not serve exact ranges of the same file, or fails for good, or
            // keeps failing, is out of this phase.
            Decision d = !r ? classify(r.error()) : (r->ok() ? Decision::retry_same : Decision::next_mirror);
            retire = sink.mismatch() || d != Decision::retry_same || ++failures >= k_tries_per_mirror ||
                     token.cancelled();
            log.attempt.error = why;
            if (!r && r.error().net()) log.attempt.curl_code = r.error().net()->curl_code;
            if (r) log.attempt.http_status = r->status;
            sh.sched.release(w, retire);
            sh.changed.notify_all();
        }
        if (retire) break;
    }
    log.attempt.bytes = log.bytes;
    log.attempt.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(sh.clock.now() - t0);
    if (log.attempt.error.empty() || log.bytes > 0) {
        log.attempt.decision = Decision::stop;
    } else {
        log.attempt.decision = Decision::next_mirror;
    }
}

} // namespace

std::string format_segments(const std::vector<bool>& done) {
    std::string out;
    for (std::size_t i = 0; i < done.size();) {
        if (!done[i]) {
            ++i;
            continue;
        }
        std::size_t j = i;
        while (j + 1 < done.size() && done[j + 1]) ++j;
        out += (out.empty() ? "" : ",") + std::to_string(i) + (j > i ? "-" + std::to_string(j) : "");
        i = j + 1;
    }
    return out;
}

std::vector<bool> parse_segments(const std::string& text, std::size_t chunks) {
    std::vector<bool> done(chunks, false);
    for (const auto& part : split(text, ',')) {
        auto dash = part.find('-');
        auto a = parse_u64(part.substr(0, dash));
        auto b = dash == std::string::npos ? a : parse_u64(part.substr(dash + 1));
        if (!a || !b || *a > *b) continue;
        for (std::uint64_t i = *a; i <= *b && i < chunks; ++i) done[i] = true;
    }
    return done;
}

std::uint64_t segments_prefix(const PartMeta& meta, std::uint64_t total) {
    if (meta.segment_size == 0 || total == 0) return 0;
    const auto chunks = static_cast<std::size_t>((total + meta.segment_size - 1) / meta.segment_size);
    auto done = parse_segments(meta.segments, chunks);
    std::uint64_t n = 0;
    for (std::size_t i = 0; i < chunks && done[i]; ++i) n = std::min(total, (i + 1) * meta.segment_size);
    return n;
}

SegmentedResult segmented_fetch(Transport& transport, Clock& clock, EventSink& events, const DownloadTarget& target,
                                const std::filesystem::path& part_path, const std::filesystem::path& meta_path,
                                const PartMeta& meta, std::uint64_t existing, const DownloadOptions& options,
                                const CancelToken* cancel) {
    SegmentedResult result;
    const std::uint64_t total = target.expected_size;
    const auto chunks = static_cast<std::size_t>((total + k_segment_size - 1) / k_segment_size);
    std::vector<bool> done(chunks, false);
    if (meta.segment_size == k_segment_size && meta.expected_size == total) {
        done = parse_segments(meta.segments, chunks);
    }
    for (std::size_t i = 0; i < chunks; ++i) { // a sequential .part's prefix counts too
        if (std::min(total, (i + 1) * k_segment_size) <= existing) done[i] = true;
    }
    int fd = ::open(part_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        return result; // the sequential loop reports the error
    }
    const std::size_t max_conn = options.connections > 0 ? static_cast<std::size_t>(options.connections) : 4;
    const std::size_t workers = std::min(options.mirrors.size(), max_conn);
    Shared sh{.sched = ChunkScheduler(total, k_segment_size, workers, done), .transfer = std::vector<CancelToken*>(workers),
              .clock = clock};
    if (options.observer != nullptr) {
        options.observer->on_open(fd);
    }
    PartMeta seg_meta{.expected_size = total, .segment_size = k_segment_size};
    auto save = [&] {
        seg_meta.segments = format_segments(sh.sched.done());
        (void)save_part_meta(meta_path, seg_meta);
    };
    std::vector<WorkerLog> logs(workers);
    std::vector<std::thread> threads;
    sh.running = static_cast<int>(workers);
    events.emit(Event{EventKind::download_start, "downloading " + target.filename + " from " + std::to_string(workers) +
                                                     " mirrors at once (" + human_bytes(k_segment_size) + " ranges)"}
                    .with("mirror", options.mirrors[0].name)
                    .with("offset", static_cast<std::int64_t>(sh.sched.contiguous()))
                    .with("size", static_cast<std::int64_t>(total))
                    .with("connections", static_cast<std::int64_t>(workers)));
    for (std::size_t w = 0; w < workers; ++w) {
        threads.emplace_back([&, w] {
            run_worker(transport, sh, w, options.mirrors[w], target, options, fd, logs[w]);
            std::lock_guard lock(sh.mu);
            --sh.running;
            sh.changed.notify_all();
        });
    }
    // Coordinate: publish the contiguous prefix, save the sidecar about once a second, cancel.
    auto last_save = clock.now();
    std::uint64_t last_prefix = 0;
    std::vector<bool> last_done;
    {
        std::unique_lock lock(sh.mu);
        while (sh.running > 0) {
            sh.changed.wait_for(lock, std::chrono::milliseconds(100));
            if (cancel != nullptr && cancel->cancelled()) {
                for (auto* t : sh.transfer) {
                    if (t != nullptr) t->cancel_and_notify();
                }
                for (std::size_t w = 0; w < workers; ++w) sh.sched.release(w, true);
            }
            const std::uint64_t prefix = sh.sched.contiguous();
            if (prefix != last_prefix && options.observer != nullptr) {
                options.observer->on_contiguous(prefix);
                events.emit(Event{EventKind::progress, ""}
                                .with("bytes", static_cast<std::int64_t>(prefix))
                                .with("total", static_cast<std::int64_t>(total))
                                .with("mirror", std::string("segmented")));
            }
            last_prefix = prefix;
            if (clock.now() - last_save >= std::chrono::seconds(1) && sh.sched.done() != last_done) {
                last_done = sh.sched.done();
                save();
                last_save = clock.now();
            }
        }
    }
    for (auto& t : threads) t.join();
    save();
    result.contiguous = sh.sched.contiguous();
    if (options.observer != nullptr) options.observer->on_contiguous(result.contiguous);
    ::close(fd);
    for (auto& l : logs) {
        result.bytes_transferred += l.bytes;
        result.attempts.push_back(l.attempt);
    }
    return result;
}

} // namespace goinstall
