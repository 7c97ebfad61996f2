#pragma once
// How many connections a segmented download keeps to each mirror (pure logic on the injected
// clock's time points; issue 15). A mirror starts with one connection. Every window the planner
// measures each mirror's rate (all its connections together). It tries more connections to a
// mirror once its rate has settled (it grew by less than `min_gain` over the window before, so it
// is out of slow start) or, on a link too noisy to settle, after three unsettled windows. It keeps them
// when the mirror's total over the next full window grew by at least `min_gain` of what it was (a
// lossy or far link: each stream is capped by its window and round trip, several streams add up).
// On a noisy link (its rate never settled, or fell by more than `min_gain` from one window to the
// next: a lossy link's window can show half its rate or twice it) a trial that shows less gets a
// second window, and is then kept unless the total over both fell below 1 - `min_gain` of what it
// was: a connection too many costs little, one too few halves a lossy link's rate. One that does
// not pay off is dropped (one stream already fills the link, or the mirror caps per client); the
// mirror gets one more trial four windows later, and then no more. A trial adds one connection,
// and twice as many as the last one after each that paid off (1, 2, 4: a lossy link needs many
// streams), a window after the last was judged. Mirrors are tried side by side, the fastest
// first, never beyond `max_total` connections in all, and only while `min_windows_left` windows'
// worth of the file is left, so that a trial can pay for itself (a fast loopback download ends
// before the first window does; a 100 Mbit/s one of 64 MB is done 3.5 s after its rate settles).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace goinstall {

class ConnectionPlanner {
public:
    using TimePoint = std::chrono::steady_clock::time_point;

    struct Options {
        std::chrono::milliseconds window{1000};
        std::chrono::milliseconds max_window{3000};
        double min_gain = 0.2; // a trial connection must add this share of the mirror's total
        std::size_t max_total = 4;
        std::size_t min_windows_left = 6; // no trial when the rest of the file takes fewer windows
    };
    struct Change {
        enum class Action { add, keep, drop }; // keep: a trial connection paid off (no change to make)
        std::size_t mirror = 0;
        Action action = Action::add;
        std::size_t count = 1; // connections to add or drop
        double before = 0;     // the mirror's total rate before (bytes/s)
        double after = 0;      // ... and with the trial connection (drops and later trials)
        std::string reason;    // "mirror total grew from X to Y B/s", ...
    };

    ConnectionPlanner(Options options, std::size_t mirrors, TimePoint start);

    // Called now and then (any rate is fine: it acts at window ends). `bytes[m]`: bytes mirror m
    // delivered so far; `connections[m]`: its live connections (0: not answering yet or gone);
    // `remaining`: bytes still missing. Returns the changes to make now (at most one per mirror);
    // the caller makes them (adds or drops connections) before the next call.
    std::vector<Change> sample(TimePoint now, const std::vector<std::uint64_t>& bytes,
                               const std::vector<std::size_t>& connections, std::uint64_t remaining);

    // The longest request -> first byte time of the answering mirrors (0: unknown); windows are
    // at least 8 of it.
    void set_round_trip(std::chrono::nanoseconds rtt) { m_rtt = rtt; }
    std::chrono::nanoseconds window() const;

    // The rate of mirror m over the last full window (0 before one).
    double rate(std::size_t mirror) const { return m_mirrors[mirror].rate; }

private:
    struct Trial {
        double before = 0;
        TimePoint added{};
        std::size_t count = 1;
        bool noisy = false;       // the windows before it were noisy (see sample())
        std::size_t windows = 0;  // whole windows judged so far
        double first_after = 0;   // the first one's rate
        double first_seconds = 0; // ... and length
    };
    struct Mirror {
        std::uint64_t last_bytes = 0;
        double rate = 0;           // over the last full window
        double prev_rate = 0;      // ... and the one before
        bool steady = false;       // the last window's rate grew by less than min_gain over the one before
        std::size_t unsettled = 0; // windows in a row whose rate grew by more than min_gain (or
                                   // had none before), since its last trial was added or judged
        bool capped = false;       // two trials did not pay off: no more connections to it
        std::size_t failed = 0;
        TimePoint retry_at{}; // after a trial that did not pay off, the next no sooner than this
        std::size_t step = 1; // connections its next trial adds
        std::optional<Trial> trial;
    };
    Options m_opt;
    std::vector<Mirror> m_mirrors;
    TimePoint m_window_start;
    std::chrono::nanoseconds m_rtt{0};
};

} // namespace goinstall
