#include "segmented.hpp"

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include <fcntl.h>
#include <unistd.h>

#include "chunk_scheduler.hpp"
#include "connection_planner.hpp"
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
    std::vector<bool> lost;             // per worker: another mirror answered first (its request is cancelled)
    std::vector<bool> drop;             // per worker: close after the current range (a connection dropped)
    std::vector<bool> asked;            // per worker: it sent its first request (or ended)
    Clock::TimePoint last_ask{};        // when the latest first request was sent
    int running = 0;
    Clock& clock;

    void cancel(const std::vector<std::size_t>& workers) {
        for (std::size_t k : workers) {
            if (transfer[k] != nullptr) transfer[k]->cancel_and_notify();
        }
    }
};

// Writes one response's body at its offsets, piece by piece. Accepts a 206 for the range asked that
// may run past its end (a server that ignores the range end), or a 200 when the range starts at 0;
// the response continues through the pieces of its span, and past it while they are free (a
// stream), and is stopped at the first piece it may not write.
class SegmentSink final : public BodySink {
public:
    SegmentSink(int fd, Shared& shared, std::size_t worker, const ChunkScheduler::Assignment& a, std::uint64_t total)
        : m_fd(fd), m_shared(shared), m_worker(worker), m_chunk(a.chunk), m_pos(a.begin), m_begin(a.begin),
          m_end(a.piece_end), m_req_end(a.end), m_total(total) {}

    Status on_response(const Response& head) override {
        auto cr = parse_content_range(head.header("content-range"));
        const auto length = parse_u64(head.header("content-length"));
        const bool range_ok = head.status == 206 && cr && cr->first && *cr->first == m_begin && cr->last &&
                              *cr->last + 1 >= m_req_end && *cr->last < m_total && cr->total && *cr->total == m_total;
        const bool whole_ok = head.status == 200 && m_begin == 0 && (!length || *length == m_total);
        if (!range_ok && !whole_ok) {
            m_mismatch = true;
            const std::string got =
                head.status == 206 ? "Content-Range '" + sanitize_for_display(head.header("content-range"), 80) + "'"
                                   : "HTTP " + std::to_string(head.status);
            return fail(ErrorCode::network, "answered a range request for bytes " + std::to_string(m_begin) + "-" +
                                                std::to_string(m_req_end - 1) + "/" + std::to_string(m_total) +
                                                " with " + got);
        }
        m_resp_end = range_ok ? *cr->last + 1 : m_total;
        std::lock_guard lock(m_shared.mu);
        if (m_shared.sched.idle(m_worker)) {
            return fail(ErrorCode::cancelled, "another mirror answered first");
        }
        auto lost = m_shared.sched.answered(m_worker, m_resp_end > m_req_end);
        for (std::size_t k : lost) m_shared.lost[k] = true;
        m_shared.cancel(lost);
        m_shared.changed.notify_all();
        return {};
    }
    Status on_data(std::span<const unsigned char> data) override {
        while (!data.empty()) {
            if (m_stopped) {
                return fail(ErrorCode::cancelled, "range complete"); // the rest is someone else's
            }
            const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(data.size(), m_end - m_pos));
            std::size_t done = 0;
            while (done < n) {
                auto w = ::pwrite(m_fd, data.data() + done, n - done, static_cast<off_t>(m_pos + done));
                if (w < 0 && errno == EINTR) continue;
                if (w < 0) return std::unexpected(errno_error(errno, "cannot write", "the download's part file"));
                done += static_cast<std::size_t>(w);
            }
            m_pos += n;
            m_written += n;
            data = data.subspan(n);
            bool piece_done = false;
            {
                std::lock_guard lock(m_shared.mu);
                m_shared.sched.progress(m_worker, n, m_shared.clock.now());
                if (m_pos == m_end) {
                    next_chunk();
                    piece_done = true;
                }
            }
            // The coordinator cares about finished pieces (the contiguous prefix, the next
            // assignment); it looks at rates and silences on its own 100 ms tick. Waking it for
            // every 16 KiB write cost a lock hand-over per write on a fast link.
            if (piece_done) m_shared.changed.notify_all();
        }
        return {};
    }
    bool mismatch() const { return m_mismatch; }
    std::uint64_t written() const { return m_written; }

private:
    // A piece is written (under the lock): complete it, then go on to the next or stop.
    void next_chunk() {
        m_shared.cancel(m_shared.sched.complete(m_worker));
        std::optional<ChunkScheduler::Assignment> a;
        if (m_pos < m_resp_end) a = m_shared.sched.extend(m_worker, m_chunk + 1, m_shared.clock.now());
        if (!a) {
            m_stopped = true;
            return;
        }
        m_chunk = a->chunk;
        m_end = std::min(a->piece_end, m_resp_end);
    }

    int m_fd;
    Shared& m_shared;
    std::size_t m_worker;
    std::size_t m_chunk;
    std::uint64_t m_pos, m_begin, m_end, m_req_end, m_total; // m_end: the current piece's
    std::uint64_t m_resp_end = 0;
    std::uint64_t m_written = 0;
    bool m_mismatch = false;
    bool m_stopped = false;
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
    // One session for all of this worker's ranges: they may ride one kept-alive connection. A
    // request that failed or was cancelled mid-body leaves the session usable (it reconnects).
    auto session = transport.session();
    bool lost_race = false;
    for (;;) {
        CancelToken token;
        std::optional<ChunkScheduler::Assignment> a;
        bool open = false;
        {
            std::unique_lock lock(sh.mu);
            if (sh.lost[w]) { // it lost the start race: it asks again, for a bounded range
                sh.lost[w] = false;
                lost_race = true;
            }
            if (sh.drop[w]) {
                sh.sched.release(w, true);
                break;
            }
            a = sh.sched.race(w, sh.clock.now()); // nobody has answered yet: race for the same chunk
            if (!a) a = sh.sched.next(w, sh.clock.now());
            if (a) {
                sh.transfer[w] = &token;
                open = sh.sched.open_request(w);
                if (!sh.asked[w]) { // the next mirror's head start runs from here
                    sh.asked[w] = true;
                    sh.last_ask = sh.clock.now();
                    sh.changed.notify_all();
                }
            } else if (!sh.sched.all_done() && !sh.sched.retired(w)) {
                // Others still hold chunks: wait, then see whether one stalled or lags.
                sh.changed.wait_for(lock, std::chrono::milliseconds(200));
                continue;
            }
        }
        if (!a) break;
        Request req{.url = url, .limits = options.limits};
        req.range_start = a->begin;
        // Open-ended while no other mirror has answered: one request may then carry the whole file.
        req.range_end = open ? 0 : a->end - 1;
        SegmentSink sink(fd, sh, w, *a, target.expected_size);
        auto r = session->fetch(req, sink, &token);
        log.bytes += sink.written();
        bool retire = false;
        {
            std::lock_guard lock(sh.mu);
            sh.transfer[w] = nullptr;
            if (sh.lost[w]) { // cancelled because another mirror answered first: not a failure
                sh.lost[w] = false;
                lost_race = true;
                continue;
            }
            if (sh.sched.idle(w)) {
                if (sink.written() > 0) failures = 0;
                continue; // its chunks are complete, or another worker finished them and cancelled us
            }
            std::string why =
                !r ? r.error().describe() : (!r->ok() ? "HTTP " + std::to_string(r->status) : "the range ended early");
            // A mirror that does not serve ranges of the same file, or fails for good, or keeps
            // failing, is out of this phase.
            Decision d = !r ? classify(r.error()) : (r->ok() ? Decision::retry_same : Decision::next_mirror);
            retire =
                sink.mismatch() || d != Decision::retry_same || ++failures >= k_tries_per_mirror || token.cancelled();
            log.attempt.error = why;
            if (!r && r.error().net()) log.attempt.curl_code = r.error().net()->curl_code;
            if (r) log.attempt.http_status = r->status;
            sh.sched.release(w, retire);
            sh.changed.notify_all();
        }
        if (retire) break;
    }
    log.attempt.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(sh.clock.now() - t0);
    {
        std::lock_guard lock(sh.mu);
        if (lost_race && log.bytes == 0 && !sh.sched.ever_answered(w)) {
            log.attempt.lost_race = true;
            log.attempt.error = "another mirror answered first";
            log.attempt.curl_code = 0;
        }
    }
    log.attempt.bytes = log.bytes;
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

std::vector<bool> pieces_from_meta(const PartMeta& meta, std::uint64_t total, std::uint64_t piece) {
    const auto pieces = static_cast<std::size_t>((total + piece - 1) / piece);
    std::vector<bool> done(pieces, false);
    const std::uint64_t old = meta.segment_size;
    if (old == 0 || meta.expected_size != total || total == 0) return done;
    const auto segments = parse_segments(meta.segments, static_cast<std::size_t>((total + old - 1) / old));
    for (std::size_t i = 0; i < pieces; ++i) { // done when every segment it overlaps is
        const std::uint64_t begin = i * piece;
        const std::uint64_t last = std::min(total, begin + piece) - 1;
        bool all = true;
        for (std::uint64_t k = begin / old; k <= last / old && all; ++k) all = segments[k];
        done[i] = all;
    }
    return done;
}

SegmentedResult segmented_fetch(Transport& transport, Clock& clock, EventSink& events, const DownloadTarget& target,
                                const std::filesystem::path& part_path, const std::filesystem::path& meta_path,
                                const PartMeta& meta, std::uint64_t existing, const DownloadOptions& options,
                                const CancelToken* cancel) {
    SegmentedResult result;
    const std::uint64_t total = target.expected_size;
    const std::vector<bool> done = pieces_from_meta(meta, total, k_piece_size);
    int fd = ::open(part_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        return result; // the sequential loop reports the error
    }
    const std::size_t max_conn =
        options.connections > 0 ? static_cast<std::size_t>(options.connections) : k_default_connections;
    const std::size_t initial = std::min(options.mirrors.size(), max_conn); // one per mirror first
    const ChunkScheduler::Options sched_options{
        .min_span = k_span_min,
        .max_span = k_span_max,
        .stall_ceiling = std::max<std::chrono::milliseconds>(options.limits.stall_time, std::chrono::seconds(1))};
    Shared sh{.sched = ChunkScheduler(total, k_piece_size, initial, done, sched_options),
              .transfer = std::vector<CancelToken*>(initial),
              .lost = std::vector<bool>(initial),
              .drop = std::vector<bool>(initial),
              .asked = std::vector<bool>(initial),
              .clock = clock};
    sh.sched.prefilled(existing);                // a sequential .part's prefix (and an old sidecar's) is kept
    std::vector<std::size_t> mirror_of(initial); // worker -> mirror
    for (std::size_t w = 0; w < initial; ++w) mirror_of[w] = w;
    if (options.observer != nullptr) {
        options.observer->on_open(fd);
    }
    PartMeta seg_meta{.expected_size = total, .segment_size = k_piece_size};
    auto save = [&] {
        seg_meta.segments = format_segments(sh.sched.done());
        (void)save_part_meta(meta_path, seg_meta);
    };
    std::deque<WorkerLog> logs(initial); // a deque: workers keep references while others are added
    std::vector<std::thread> threads;
    events.emit(Event{EventKind::download_start, "downloading " + target.filename + " from up to " +
                                                     std::to_string(initial) + " mirrors at once (" +
                                                     human_bytes(k_span_min) + " to " + human_bytes(k_span_max) +
                                                     " ranges)"}
                    .with("mirror", options.mirrors[0].name)
                    .with("offset", static_cast<std::int64_t>(sh.sched.contiguous()))
                    .with("size", static_cast<std::int64_t>(total))
                    .with("connections", static_cast<std::int64_t>(initial)));
    auto start_worker = [&](std::size_t w) { // under sh.mu
        ++sh.running;
        threads.emplace_back([&, w, m = mirror_of[w]] {
            run_worker(transport, sh, w, options.mirrors[m], target, options, fd, logs[w]);
            std::lock_guard worker_lock(sh.mu);
            --sh.running;
            sh.asked[w] = true;
            sh.changed.notify_all();
        });
    };
    // More connections to a mirror while that raises its total (connection_planner.hpp).
    ConnectionPlanner planner({.max_total = max_conn}, options.mirrors.size(), clock.now());
    using Action = ConnectionPlanner::Change::Action;
    auto apply = [&](const ConnectionPlanner::Change& change, std::vector<std::size_t>& live) { // under sh.mu
        const std::size_t m = change.mirror;
        for (std::size_t n = 0; n < change.count && change.action == Action::add; ++n) {
            const std::size_t w = sh.sched.add_worker();
            sh.sched.set_from_top(w, true); // on trial: see ChunkScheduler::set_from_top
            sh.transfer.push_back(nullptr);
            sh.lost.push_back(false);
            sh.drop.push_back(false);
            sh.asked.push_back(true);
            mirror_of.push_back(m);
            logs.emplace_back();
            start_worker(w);
            ++live[m];
        }
        for (std::size_t w = 0; w < threads.size() && change.action == Action::keep; ++w) {
            if (mirror_of[w] == m) sh.sched.set_from_top(w, false); // kept: it joins like any other
        }
        for (std::size_t w = threads.size(), n = 0; w-- > 0 && n < change.count && change.action == Action::drop;) {
            if (mirror_of[w] == m && !sh.drop[w] && !sh.sched.retired(w)) { // the mirror's newest connections
                sh.drop[w] = true;
                --live[m];
                ++n;
            }
        }
        events.emit(Event{EventKind::info,
                          options.mirrors[m].name + ": " + std::to_string(live[m]) + " connection(s): " + change.reason}
                        .with("mirror", options.mirrors[m].name)
                        .with("connections", static_cast<std::int64_t>(live[m]))
                        .with("reason", change.reason));
    };
    auto plan = [&] { // under sh.mu
        std::vector<std::uint64_t> bytes(options.mirrors.size());
        std::vector<std::size_t> live(options.mirrors.size());
        std::chrono::nanoseconds rtt{0};
        for (std::size_t w = 0; w < threads.size(); ++w) {
            bytes[mirror_of[w]] += sh.sched.bytes(w);
            if (sh.sched.ever_answered(w) && !sh.sched.retired(w) && !sh.drop[w]) {
                ++live[mirror_of[w]];
                rtt = std::max(rtt, sh.sched.rtt(w));
            }
        }
        planner.set_round_trip(rtt);
        // What is left to fetch: with several streams the contiguous prefix lags what has arrived.
        const std::uint64_t have = sh.sched.written();
        for (const auto& change : planner.sample(clock.now(), bytes, live, total - std::min(total, have))) {
            apply(change, live);
        }
    };
    // Coordinate: start mirrors as the race allows (the next one after the head start while none
    // has answered, all the others once one has), add or drop connections, publish the contiguous
    // prefix, save the sidecar about once a second, cancel.
    auto last_save = clock.now();
    std::uint64_t last_prefix = 0;
    std::vector<bool> last_done;
    {
        std::unique_lock lock(sh.mu);
        while (true) {
            const bool stopping = sh.sched.all_done() || (cancel != nullptr && cancel->cancelled());
            // The head start runs from the previous mirror's request, not its thread's start (a
            // thread may be scheduled late on a loaded machine).
            const bool asked = threads.empty() || sh.asked[threads.size() - 1];
            if (threads.size() < initial && !stopping) {
                const bool head_start_over =
                    options.head_start.count() > 0 && asked && clock.now() >= sh.last_ask + options.head_start;
                if (threads.empty() || sh.sched.any_answered() || head_start_over || sh.running == 0) {
                    start_worker(threads.size());
                    continue;
                }
            }
            if (sh.running == 0 && (threads.size() >= initial || stopping)) break;
            if (threads.size() < initial && options.head_start.count() > 0 && !stopping && asked) {
                clock.wait_until(sh.changed, lock, sh.last_ask + options.head_start); // the head start, on the clock
            } else {
                sh.changed.wait_for(lock, std::chrono::milliseconds(100));
            }
            if (cancel != nullptr && cancel->cancelled()) {
                for (auto* t : sh.transfer) {
                    if (t != nullptr) t->cancel_and_notify();
                }
                for (std::size_t w = 0; w < sh.sched.workers(); ++w) sh.sched.release(w, true);
            }
            if (threads.size() >= initial && !sh.sched.all_done() && sh.running > 0 &&
                !(cancel != nullptr && cancel->cancelled())) {
                plan();
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
    // One attempt per mirror (its first connection's), with the bytes of all its connections.
    for (std::size_t w = initial; w < threads.size(); ++w) {
        logs[mirror_of[w]].bytes += logs[w].bytes;
        logs[mirror_of[w]].attempt.bytes += logs[w].bytes;
    }
    std::uint64_t most = 0;
    for (std::size_t w = 0; w < std::min(initial, threads.size()); ++w) { // mirrors never started made no attempt
        result.bytes_transferred += logs[w].bytes;
        result.attempts.push_back(logs[w].attempt);
        if (logs[w].bytes > most) {
            most = logs[w].bytes;
            result.served_by = w;
        }
    }
    return result;
}

} // namespace goinstall
