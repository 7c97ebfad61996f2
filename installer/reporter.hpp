#pragma once
// Renders library events for people (stderr, a progress bar on terminals) or for programs
// (--json: one JSON object per line on stdout, nothing else there; schema in docs/json.md).
//
// text:  events as "goinstall: ..." lines on stderr; download progress as a bar redrawn in place
//        on a terminal (TERM set and not "dumb"), else as a plain line per quarter / 5 s; results
//        on stdout. No colour is ever used (so NO_COLOR has nothing to turn off).
// quiet: errors only on stderr; stdout keeps what a query verb was asked for (list, current,
//        env, ls-remote, config) but not the confirmations of install/use.
// json:  every event (progress at most twice a second, plus the final 100 %), then one
//        {"event":"result","ok":...} object.

#include <chrono>
#include <cstdio>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "goinstall/base/error.hpp"
#include "goinstall/base/events.hpp"
#include "goinstall/platform/env.hpp"
#include "progress.hpp"

namespace goinstall::cli {

enum class OutputMode { text, quiet, json };

class Reporter : public EventSink {
public:
    // `env` is read here only (TERM, COLUMNS), not kept.
    Reporter(OutputMode mode, const Env& env);
    void emit(const Event& event) override;

    // A result line for the user: stdout in text mode; a {"event":"result",...} object in JSON.
    void result(const std::string& text, const Event& data);
    // The same with a structured JSON payload (merged into the result object in JSON mode).
    void result_json(const std::string& text, const nlohmann::json& data);
    // The final error (stderr in text/quiet, a JSON object on stdout in json mode).
    void error(const Error& err, int exit_code);
    OutputMode mode() const { return m_mode; }

private:
    void clear_progress();
    void line(const std::string& text);
    OutputMode m_mode;
    bool m_bar = false;            // progress as a redrawn bar (a terminal that understands \r and ESC[K)
    bool m_progress_shown = false; // a bar is on screen now
    ProgressMeter m_meter;
    std::chrono::steady_clock::time_point m_last_json_progress{};
    std::vector<std::string> m_attempts; // the attempt log, printed with a final error
};

} // namespace goinstall::cli
