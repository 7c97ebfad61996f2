#include "reporter.hpp"

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string_view>
#include <sys/ioctl.h>
#include <unistd.h>

#include "goinstall/base/strings.hpp"

namespace goinstall::cli {

namespace {

constexpr std::size_t k_max_line = 4000; // a message longer than this is cut with "..."

nlohmann::json to_json(const Event& e) {
    nlohmann::json j;
    j["event"] = to_string(e.kind);
    if (!e.message.empty()) {
        j["message"] = e.message;
    }
    for (const auto& [k, v] : e.fields) {
        std::visit([&, key = k](const auto& x) { j[key] = x; }, v);
    }
    return j;
}

void print_json(const nlohmann::json& j) {
    // error_handler_t::replace: a stray invalid byte must not abort the output.
    auto s = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    std::fprintf(stdout, "%s\n", s.c_str());
    std::fflush(stdout);
}

std::int64_t field_int(const Event& e, const char* key) {
    for (const auto& [k, v] : e.fields) {
        if (k == key) {
            if (const auto* i = std::get_if<std::int64_t>(&v)) return *i;
        }
    }
    return 0;
}

std::string field_str(const Event& e, const char* key) {
    for (const auto& [k, v] : e.fields) {
        if (k == key) {
            if (const auto* s = std::get_if<std::string>(&v)) return *s;
        }
    }
    return {};
}

// A terminal that can redraw a line: stderr is a tty and TERM is set and not "dumb".
bool bar_terminal(const Env& env) {
    if (::isatty(STDERR_FILENO) != 1) return false;
    const auto term = env.get("TERM");
    return term && !term->empty() && *term != "dumb";
}

int terminal_width(const Env& env) {
    struct winsize ws {};
    if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20) return ws.ws_col;
    if (const auto c = env.get("COLUMNS")) {
        if (auto n = parse_u64(*c); n && *n >= 20 && *n <= 1000) return static_cast<int>(*n);
    }
    return 80;
}

std::uint64_t u64(std::int64_t v) { return v > 0 ? static_cast<std::uint64_t>(v) : 0; }

} // namespace

Reporter::Reporter(OutputMode mode, const Env& env)
    : m_mode(mode), m_bar(mode == OutputMode::text && bar_terminal(env)),
      m_meter(m_bar ? ProgressMeter::Style::bar : ProgressMeter::Style::lines, m_bar ? terminal_width(env) : 80) {}

void Reporter::clear_progress() {
    if (m_progress_shown) {
        std::fputs("\r\033[K", stderr);
        m_progress_shown = false;
    }
}

void Reporter::line(const std::string& text) {
    clear_progress();
    std::fprintf(stderr, "goinstall: %s\n", text.c_str());
}

void Reporter::emit(const Event& e) {
    const auto now = std::chrono::steady_clock::now();
    if (m_mode == OutputMode::json) {
        if (e.kind == EventKind::progress) {
            // At most two a second, and always the last one of a transfer.
            const bool complete = field_int(e, "total") > 0 && field_int(e, "bytes") >= field_int(e, "total");
            if (!complete && now - m_last_json_progress < std::chrono::milliseconds(500)) return;
            m_last_json_progress = now;
        }
        print_json(to_json(e));
        return;
    }
    if (e.kind == EventKind::attempt) {
        // Kept for the final error; retries and failovers already have their own lines.
        auto err = field_str(e, "error");
        std::string entry = field_str(e, "mirror") + ": " + (err.empty() ? std::string("ok") : err);
        if (field_int(e, "bytes") > 0) entry += " [" + human_bytes(u64(field_int(e, "bytes"))) + "]";
        m_attempts.push_back(entry + " → " + field_str(e, "decision"));
        if (m_mode == OutputMode::text) {
            auto summary = m_meter.finish(now);
            if (summary && err.empty()) line(*summary);
        }
        return;
    }
    if (m_mode == OutputMode::quiet) {
        return;
    }
    if (e.kind == EventKind::download_start) {
        auto url = field_str(e, "url");
        auto name = url.substr(url.find_last_of('/') + 1);
        m_meter.start(now, name.substr(0, name.find('?')), field_str(e, "mirror"), u64(field_int(e, "offset")),
                      u64(field_int(e, "size")));
    }
    if (e.kind == EventKind::progress) {
        auto text = m_meter.update(now, u64(field_int(e, "bytes")), u64(field_int(e, "total")), field_str(e, "mirror"));
        if (!text) return;
        if (m_bar) {
            std::fprintf(stderr, "\r\033[K%s", text->c_str());
            std::fflush(stderr);
            m_progress_shown = true;
        } else {
            line(*text);
        }
        return;
    }
    clear_progress();
    // Messages quote servers, paths and user input: whatever slipped past the sanitising at the
    // source, no control character reaches the terminal and each message stays one line.
    std::fprintf(stderr, "goinstall: %s%s\n", e.kind == EventKind::warning ? "warning: " : "",
                 sanitize_for_display(e.message, k_max_line).c_str());
}

void Reporter::result(const std::string& text, const Event& data) {
    clear_progress();
    if (m_mode == OutputMode::json) {
        auto j = to_json(data);
        j["event"] = "result";
        j["ok"] = true;
        print_json(j);
        return;
    }
    // --quiet keeps the answers of query verbs but not the confirmations of actions.
    const bool confirmation = data.kind == EventKind::installed || data.kind == EventKind::switched ||
                              data.kind == EventKind::already_installed;
    if (m_mode == OutputMode::quiet && confirmation) return;
    if (!text.empty()) {
        std::fprintf(stdout, "%s\n", text.c_str());
        std::fflush(stdout);
    }
}

void Reporter::result_json(const std::string& text, const nlohmann::json& data) {
    clear_progress();
    if (m_mode == OutputMode::json) {
        nlohmann::json j = {{"event", "result"}, {"ok", true}};
        j.update(data);
        print_json(j);
        return;
    }
    if (!text.empty()) {
        std::fprintf(stdout, "%s\n", text.c_str());
        std::fflush(stdout);
    }
}

void Reporter::error(const Error& err, int exit_code) {
    clear_progress();
    if (m_mode == OutputMode::json) {
        nlohmann::json j;
        j["event"] = "result";
        j["ok"] = false;
        j["error"] = {{"code", to_string(err.code())}, {"message", err.describe()}, {"exit_code", exit_code}};
        if (err.net()) {
            const auto& n = *err.net();
            j["error"]["net"] = {{"phase", to_string(n.phase)},
                                 {"curl_code", n.curl_code},
                                 {"http_status", n.http_status},
                                 {"url", n.url}};
        }
        print_json(j);
        return;
    }
    std::fprintf(stderr, "goinstall: error: %s\n", sanitize_for_display(err.describe(), k_max_line).c_str());
    if (m_attempts.size() > 1 && m_mode == OutputMode::text) {
        std::fprintf(stderr, "goinstall: attempts:\n");
        for (const auto& a : m_attempts) std::fprintf(stderr, "  %s\n", sanitize_for_display(a, k_max_line).c_str());
    }
}

} // namespace goinstall::cli
