// The HTTP layer of triage, through the real Transport: status, a sanitized body snippet, the Date
// header (for the clock check), a short throughput sample, and the captive-portal probe.
#include <chrono>

#include "goinstall/base/strings.hpp"
#include "goinstall/base/url.hpp"
#include "goinstall/triage/triage.hpp"

namespace goinstall::triage {

namespace {

using Clock = std::chrono::steady_clock;

Millis since(Clock::time_point t) { return std::chrono::duration_cast<Millis>(Clock::now() - t); }

// Keeps the head and counts body bytes; stops the transfer (with a marked error) once the sample
// is big or old enough.
class SampleSink final : public BodySink {
public:
    SampleSink(std::uint64_t max_bytes, Millis max_time) : m_max_bytes(max_bytes), m_max_time(max_time) {}
    Status on_response(const Response& head) override {
        m_head = head;
        m_got_head = true;
        m_start = Clock::now();
        return {};
    }
    Status on_data(std::span<const unsigned char> data) override {
        m_bytes += data.size();
        if (m_bytes >= m_max_bytes || since(m_start) >= m_max_time) {
            m_elapsed = since(m_start);
            m_stopped = true;
            return fail(ErrorCode::cancelled, "triage: sample complete");
        }
        return {};
    }
    bool stopped() const { return m_stopped; }
    bool got_head() const { return m_got_head; }
    const Response& head() const { return m_head; }
    std::uint64_t bytes() const { return m_bytes; }
    Millis elapsed() const { return m_stopped ? m_elapsed : since(m_start); }

private:
    std::uint64_t m_max_bytes;
    Millis m_max_time;
    Response m_head;
    bool m_got_head = false;
    bool m_stopped = false;
    std::uint64_t m_bytes = 0;
    Clock::time_point m_start = Clock::now();
    Millis m_elapsed{0};
};

void take_head(HttpObservation& o, const Response& r) {
    o.status = r.status;
    o.content_type = sanitize_for_display(r.header("content-type"), 80);
    o.location = redact_url(r.header("location"));
    o.effective_url = redact_url(r.effective_url);
    if (auto d = r.header("date"); !d.empty()) o.server_date = parse_http_date(d);
    if (auto ra = r.header("retry-after"); !ra.empty()) {
        if (auto n = parse_u64(trim(ra))) {
            o.retry_after_seconds = *n;
        } else if (auto when = parse_http_date(ra); when && o.server_date) {
            o.retry_after_seconds = static_cast<std::uint64_t>(std::max<std::int64_t>(0, *when - *o.server_date));
        }
    }
}

// A body snippet safe to print: HTML reduced to its text, control characters replaced, short.
std::string snippet_of(const std::string& body, const std::string& content_type) {
    std::string text;
    if (content_type.find("html") != std::string::npos) {
        bool in_tag = false;
        for (char c : body) {
            if (c == '<')
                in_tag = true;
            else if (c == '>')
                in_tag = false, text += ' ';
            else if (!in_tag)
                text += c;
        }
    } else {
        text = body;
    }
    std::string collapsed;
    for (char c : text) {
        bool space = c == ' ' || c == '\n' || c == '\r' || c == '\t';
        if (space && (collapsed.empty() || collapsed.back() == ' ')) continue;
        collapsed += space ? ' ' : c;
    }
    return sanitize_for_display(trim(collapsed), 160);
}

} // namespace

HttpObservation check_http(Transport& transport, const HttpCheck& check, const CancelToken* cancel) {
    HttpObservation o;
    o.attempted = true;
    auto started = Clock::now();
    Request req;
    req.url = check.url;
    req.secure_only = check.secure_only;
    req.limits.connect_timeout = check.connect_timeout;
    req.limits.total_timeout = check.total_timeout;
    req.limits.stall_time = std::chrono::seconds(std::max<std::int64_t>(1, check.total_timeout.count() / 1000));
    SampleSink sink(check.sample_bytes, check.sample_time);
    auto r = transport.fetch(req, sink, cancel, {});
    o.elapsed = since(started);
    if (sink.got_head()) {
        take_head(o, sink.head());
        o.sample_bytes = sink.bytes();
        o.sample_time = sink.elapsed();
        o.sample_complete = r.has_value();
        double secs = static_cast<double>(o.sample_time.count()) / 1000.0;
        o.bytes_per_second = secs > 0.001 ? static_cast<double>(o.sample_bytes) / secs : 0;
        // A sample that took under a millisecond (loopback), whether the body ended or the sample
        // was cut at its size (a server answering more than asked), is fast, not "0 B/s".
        if ((o.sample_complete || sink.stopped()) && o.bytes_per_second == 0 && o.sample_bytes > 0) {
            o.bytes_per_second = static_cast<double>(o.sample_bytes) * 1000.0;
        }
        if (r || sink.stopped()) return o;
        // The body failed after the head: a mid-transfer failure of its own.
    }
    if (!r) {
        const Error& e = r.error();
        o.transport_failed = true;
        o.error_code = e.code();
        o.error = sanitize_for_display(e.message(), 200);
        if (e.net()) {
            o.phase = e.net()->phase;
            o.curl_code = e.net()->curl_code;
            if (e.net()->http_status && !o.status) o.status = e.net()->http_status;
        }
        return o;
    }
    take_head(o, *r);
    o.snippet = snippet_of(r->error_body, o.content_type);
    return o;
}

CaptiveObservation check_captive(Transport& transport, const std::string& url, Millis timeout,
                                 const CancelToken* cancel) {
    CaptiveObservation c;
    c.attempted = true;
    c.url = redact_url(url);
    auto started = Clock::now();
    Request req;
    req.url = url;
    req.max_redirects = 3;
    req.limits.connect_timeout = timeout;
    req.limits.total_timeout = timeout;
    req.limits.max_body_bytes = 64 * 1024;
    StringSink sink;
    auto r = transport.fetch(req, sink, cancel, {});
    c.elapsed = since(started);
    if (!r) {
        c.error = sanitize_for_display(r.error().message(), 160);
        return c;
    }
    c.status = r->status;
    if (auto d = r->header("date"); !d.empty()) c.server_date = parse_http_date(d);
    auto probe = parse_url(url);
    auto final_url = parse_url(r->effective_url);
    bool moved =
        probe && final_url && (final_url->host != probe->host || final_url->path_and_query != probe->path_and_query);
    if (moved) c.final_url = redact_url(r->effective_url);
    // A clean network answers 204 with no body; a portal redirects, or answers 200 with its page.
    c.portal = moved || (r->status != 204 && r->status >= 200 && r->status < 400);
    if (c.portal && c.final_url.empty()) c.final_url = c.url;
    return c;
}

} // namespace goinstall::triage
