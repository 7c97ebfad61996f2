#pragma once
// Renders library events for people (stderr, a progress bar on terminals) or for programs
// (--json: one JSON object per line on stdout, nothing else there).

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "goinstall/base/error.hpp"
#include "goinstall/base/events.hpp"

namespace goinstall::cli {

enum class OutputMode { text, quiet, json };

class Reporter : public EventSink {
public:
    explicit Reporter(OutputMode mode);
    void emit(const Event& event) override;

    // A result line for the user: stdout in text mode; a {"event":"result",...} object in JSON.
    void result(const std::string& text, const Event& data);
    // The final error (stderr in text/quiet, a JSON object on stdout in json mode).
    void error(const Error& err, int exit_code);
    OutputMode mode() const { return m_mode; }

private:
    void end_progress_line();
    OutputMode m_mode;
    bool m_tty = false;
    bool m_progress_shown = false;
    std::chrono::steady_clock::time_point m_last_plain_progress{};
    std::chrono::steady_clock::time_point m_transfer_start{};
    std::int64_t m_transfer_offset = 0;
    std::vector<std::string> m_attempts; // the attempt log, printed with a final error
};

} // namespace goinstall::cli
