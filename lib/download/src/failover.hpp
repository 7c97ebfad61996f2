#pragma once
// Mirror failover as an explicit state machine. Each mirror of a download is in one MirrorState;
// whatever happens to it is a MirrorEvent; `transition` (pure) says which state that leads to, what
// the downloader does about it and what the attempt log records. Downloader::download is the
// driver: it picks the mirrors to ask, runs the transfers (race.hpp), turns each outcome into an
// event and carries out the action.
//
//   idle ──start──▶ transferring ──rival_joined──▶ racing ──answered──▶ transferring
//   idle ──join_race──▶ racing ──lost_race──▶ idle
//   transferring|racing ──verified──▶ done            (finish)
//                       ──mismatch_restart──▶ idle    (retry_now, not counted)
//                       ──transient──▶ backing_off    (in use: back_off) | idle (a bystander) | dead
//                       ──unfit──▶ dead               (retire)
//                       ──fatal──▶ dead               (abort)
//                       ──abandoned──▶ idle (retry_now; the driver asks another mirror first) | dead
//   backing_off ──backoff_done──▶ idle | ──backoff_refused──▶ dead (retire)

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "goinstall/base/events.hpp"
#include "goinstall/download/downloader.hpp"
#include "goinstall/download/policy.hpp"

namespace goinstall {

enum class MirrorState : std::uint8_t {
    idle,         // may be asked: untried, or due another attempt
    transferring, // the mirror in use: asked alone, or the race's winner
    racing,       // asked alongside another mirror and has not won the .part
    backing_off,  // failed transiently while in use: waits on the clock before its next attempt
    dead,         // failed for good or out of attempts: skipped for the rest of the download
    done,         // served the verified file
};

enum class MirrorEvent : std::uint8_t {
    start,            // asked for the file, alone (the first mirror of a round)
    join_race,        // asked too: the mirror in use had not answered within the head start
    rival_joined,     // another mirror was asked alongside this one
    answered,         // its response head claimed the .part (won the race, or was alone)
    lost_race,        // cancelled because the other mirror answered first (not an attempt)
    verified,         // the file is complete and its SHA-256 matches
    mismatch_restart, // a resumed file hashed wrong: start over from zero, once (not an attempt)
    transient,        // the attempt failed; another one here may work (Decision::retry_same)
    unfit,            // the attempt failed; this mirror cannot serve the file (Decision::next_mirror)
    fatal,            // the attempt failed; no mirror can help (Decision::stop), or cancelled
    backoff_done,     // its backoff delay has passed on the clock
    backoff_refused,  // its backoff delay would overrun the download's deadline
    abandoned,        // left mid-transfer: it went silent, or a faster mirror takes the rest over
};

enum class FailoverAction : std::uint8_t {
    none,      // nothing beyond the state change
    fetch,     // send the request
    finish,    // keep the file: rename it, report it verified, return it
    retry_now, // no wait: the next round may ask this mirror again at once
    back_off,  // wait the backoff delay on the clock, then backoff_done (or backoff_refused)
    retire,    // report the failover: the mirror is dead
    abort,     // stop the whole download with this attempt's error
    invalid,   // the event cannot happen in this state (a driver bug); the state is unchanged
};

const char* to_string(MirrorState s);
const char* to_string(MirrorEvent e);
const char* to_string(FailoverAction a);

struct FailoverStep {
    MirrorState next = MirrorState::idle;
    FailoverAction action = FailoverAction::invalid;
    Decision decision = Decision::stop; // what the attempt log records, for events that end an attempt
};

// `attempts_left`: the mirror has made fewer than max_attempts_per_mirror counted attempts,
// including the one that just ended (only `transient` looks at it). Pure.
FailoverStep transition(MirrorState state, MirrorEvent event, bool attempts_left);

// Where every mirror of one download stands.
class MirrorBoard {
public:
    MirrorBoard(std::size_t mirrors, int max_attempts)
        : m_state(mirrors, MirrorState::idle), m_tries(mirrors, 0), m_max(max_attempts) {}

    // Applies `event` to mirror i: updates its state and returns the step. `counts` adds one to its
    // attempts first (an attempt ended).
    FailoverStep apply(std::size_t i, MirrorEvent event, bool counts = false);

    MirrorState state(std::size_t i) const { return m_state[i]; }
    int tries(std::size_t i) const { return m_tries[i]; }
    // The first mirror from `from` on that may still be used (not dead, done or out of attempts).
    std::optional<std::size_t> live_from(std::size_t from) const;
    // The first mirror from `from` on that may be asked now.
    std::optional<std::size_t> idle_from(std::size_t from) const;
    // The mirror waiting out a backoff, if any.
    std::optional<std::size_t> backing_off() const;

private:
    std::vector<MirrorState> m_state;
    std::vector<int> m_tries;
    int m_max;
};

// The attempt log: every attempt is kept and reported (an `attempt` event) as it ends; it feeds
// --json, the final error and triage.
class AttemptLog {
public:
    AttemptLog(std::vector<Attempt>& list, EventSink& events) : m_list(list), m_events(events) {}
    // `segmented`: an attempt of the segmented phase (reported with segmented=true, and without the
    // fields that only sequential attempts have).
    void record(const Attempt& a, bool segmented = false);
    const std::vector<Attempt>& list() const { return m_list; }

private:
    std::vector<Attempt>& m_list;
    EventSink& m_events;
};

} // namespace goinstall
