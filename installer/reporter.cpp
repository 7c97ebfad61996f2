#include "reporter.hpp"

#include <nlohmann/json.hpp>
#include <unistd.h>

#include "goinstall/base/strings.hpp"

namespace goinstall::cli {

namespace {

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

} // namespace

Reporter::Reporter(OutputMode mode) : m_mode(mode), m_tty(::isatty(STDERR_FILENO) == 1) {}

void Reporter::end_progress_line() {
    if (m_progress_shown) {
        std::fputs("\n", stderr);
        m_progress_shown = false;
    }
}

void Reporter::emit(const Event& e) {
    if (m_mode == OutputMode::json) {
        if (e.kind == EventKind::progress) {
            auto now = std::chrono::steady_clock::now();
            if (now - m_last_plain_progress < std::chrono::milliseconds(500)) return; // bounded rate
            m_last_plain_progress = now;
        }
        print_json(to_json(e));
        return;
    }
    if (e.kind == EventKind::attempt) {
        // Kept for the final error; retries and failovers already have their own lines.
        auto err = field_str(e, "error");
        std::string line = field_str(e, "mirror") + ": " + (err.empty() ? std::string("ok") : err);
        if (field_int(e, "bytes") > 0) line += " [" + human_bytes(static_cast<std::uint64_t>(field_int(e, "bytes"))) + "]";
        m_attempts.push_back(line + " → " + field_str(e, "decision"));
        return;
    }
    if (m_mode == OutputMode::quiet) {
        return;
    }
    if (e.kind == EventKind::download_start) {
        m_transfer_start = std::chrono::steady_clock::now();
        m_transfer_offset = field_int(e, "offset");
    }
    if (e.kind == EventKind::progress) {
        auto bytes = field_int(e, "bytes");
        auto total = field_int(e, "total");
        auto now = std::chrono::steady_clock::now();
        double secs = std::chrono::duration<double>(now - m_transfer_start).count();
        double speed = secs > 0.05 ? static_cast<double>(bytes - m_transfer_offset) / secs : 0.0;
        char line[160];
        if (total > 0) {
            double pct = 100.0 * static_cast<double>(bytes) / static_cast<double>(total);
            double eta = speed > 1 ? static_cast<double>(total - bytes) / speed : 0.0;
            std::snprintf(line, sizeof line, "  %5.1f%%  %s of %s  %s/s  ETA %.0f s  [%s]", pct,
                          human_bytes(static_cast<std::uint64_t>(bytes)).c_str(),
                          human_bytes(static_cast<std::uint64_t>(total)).c_str(),
                          human_bytes(static_cast<std::uint64_t>(speed)).c_str(), eta, field_str(e, "mirror").c_str());
        } else {
            std::snprintf(line, sizeof line, "  %s  %s/s  [%s]", human_bytes(static_cast<std::uint64_t>(bytes)).c_str(),
                          human_bytes(static_cast<std::uint64_t>(speed)).c_str(), field_str(e, "mirror").c_str());
        }
        if (m_tty) {
            std::fprintf(stderr, "\r\033[K%s", line);
            m_progress_shown = true;
        } else if (now - m_last_plain_progress >= std::chrono::seconds(5)) {
            m_last_plain_progress = now;
            std::fprintf(stderr, "%s\n", line);
        }
        return;
    }
    end_progress_line();
    const char* prefix = e.kind == EventKind::warning ? "goinstall: warning: " : "goinstall: ";
    std::fprintf(stderr, "%s%s\n", prefix, e.message.c_str());
}

void Reporter::result(const std::string& text, const Event& data) {
    end_progress_line();
    if (m_mode == OutputMode::json) {
        auto j = to_json(data);
        j["event"] = "result";
        j["ok"] = true;
        print_json(j);
        return;
    }
    if (!text.empty()) {
        std::fprintf(stdout, "%s\n", text.c_str());
        std::fflush(stdout);
    }
}

void Reporter::error(const Error& err, int exit_code) {
    end_progress_line();
    if (m_mode == OutputMode::json) {
        nlohmann::json j;
        j["event"] = "result";
        j["ok"] = false;
        j["error"] = {{"code", to_string(err.code())}, {"message", err.describe()}, {"exit_code", exit_code}};
        if (err.net()) {
            const auto& n = *err.net();
            j["error"]["net"] = {{"phase", to_string(n.phase)}, {"curl_code", n.curl_code},
                                 {"http_status", n.http_status}, {"url", n.url}};
        }
        print_json(j);
        return;
    }
    std::fprintf(stderr, "goinstall: error: %s\n", err.describe().c_str());
    if (m_attempts.size() > 1 && m_mode == OutputMode::text) {
        std::fprintf(stderr, "goinstall: attempts:\n");
        for (const auto& a : m_attempts) std::fprintf(stderr, "  %s\n", a.c_str());
    }
}

} // namespace goinstall::cli
