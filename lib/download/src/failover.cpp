#include "failover.hpp"

namespace goinstall {

const char* to_string(MirrorState s) {
    switch (s) {
    case MirrorState::idle: return "idle";
    case MirrorState::transferring: return "transferring";
    case MirrorState::racing: return "racing";
    case MirrorState::backing_off: return "backing_off";
    case MirrorState::dead: return "dead";
    case MirrorState::done: return "done";
    }
    return "?";
}

const char* to_string(MirrorEvent e) {
    switch (e) {
    case MirrorEvent::start: return "start";
    case MirrorEvent::join_race: return "join_race";
    case MirrorEvent::rival_joined: return "rival_joined";
    case MirrorEvent::answered: return "answered";
    case MirrorEvent::lost_race: return "lost_race";
    case MirrorEvent::verified: return "verified";
    case MirrorEvent::mismatch_restart: return "mismatch_restart";
    case MirrorEvent::transient: return "transient";
    case MirrorEvent::unfit: return "unfit";
    case MirrorEvent::fatal: return "fatal";
    case MirrorEvent::backoff_done: return "backoff_done";
    case MirrorEvent::backoff_refused: return "backoff_refused";
    case MirrorEvent::abandoned: return "abandoned";
    }
    return "?";
}

const char* to_string(FailoverAction a) {
    switch (a) {
    case FailoverAction::none: return "none";
    case FailoverAction::fetch: return "fetch";
    case FailoverAction::finish: return "finish";
    case FailoverAction::retry_now: return "retry_now";
    case FailoverAction::back_off: return "back_off";
    case FailoverAction::retire: return "retire";
    case FailoverAction::abort: return "abort";
    case FailoverAction::invalid: return "invalid";
    }
    return "?";
}

FailoverStep transition(MirrorState state, MirrorEvent event, bool attempts_left) {
    using S = MirrorState;
    using E = MirrorEvent;
    using A = FailoverAction;
    const bool asked = state == S::transferring || state == S::racing; // an attempt is under way
    switch (event) {
    case E::start:
        if (state == S::idle) return {S::transferring, A::fetch, Decision::stop};
        break;
    case E::join_race:
        if (state == S::idle) return {S::racing, A::fetch, Decision::stop};
        break;
    case E::rival_joined:
        if (state == S::transferring) return {S::racing, A::none, Decision::stop};
        break;
    case E::answered:
        if (asked) return {S::transferring, A::none, Decision::stop};
        break;
    case E::lost_race:
        // Not held against the mirror: it keeps its attempts and may be asked again.
        if (state == S::racing) return {S::idle, A::none, Decision::next_mirror};
        break;
    case E::verified:
        if (asked) return {S::done, A::finish, Decision::stop};
        break;
    case E::mismatch_restart:
        if (asked) return {S::idle, A::retry_now, Decision::retry_same};
        break;
    case E::transient:
        if (!asked) break;
        if (!attempts_left) return {S::dead, A::retire, Decision::next_mirror}; // the action taken
        // The mirror in use waits before its next attempt; a race's bystander is simply asked again.
        if (state == S::transferring) return {S::backing_off, A::back_off, Decision::retry_same};
        return {S::idle, A::none, Decision::retry_same};
    case E::unfit:
        if (asked) return {S::dead, A::retire, Decision::next_mirror};
        break;
    case E::fatal:
        if (asked) return {S::dead, A::abort, Decision::stop};
        break;
    case E::abandoned:
        // No backoff: the mirror answered, and the driver turns to another one at once. Only an
        // abandonment that brought nothing counts as an attempt, so a slow but working mirror is
        // never retired for it.
        if (!asked) break;
        if (!attempts_left) return {S::dead, A::retire, Decision::next_mirror};
        return {S::idle, A::retry_now, Decision::next_mirror};
    case E::backoff_done:
        if (state == S::backing_off) return {S::idle, A::none, Decision::retry_same};
        break;
    case E::backoff_refused:
        if (state == S::backing_off) return {S::dead, A::retire, Decision::next_mirror};
        break;
    }
    return {state, A::invalid, Decision::stop};
}

FailoverStep MirrorBoard::apply(std::size_t i, MirrorEvent event, bool counts) {
    if (counts) ++m_tries[i];
    auto step = transition(m_state[i], event, m_tries[i] < m_max);
    m_state[i] = step.next;
    return step;
}

std::optional<std::size_t> MirrorBoard::live_from(std::size_t from) const {
    for (std::size_t i = from; i < m_state.size(); ++i) {
        if (m_state[i] != MirrorState::dead && m_state[i] != MirrorState::done && m_tries[i] < m_max) return i;
    }
    return std::nullopt;
}

std::optional<std::size_t> MirrorBoard::idle_from(std::size_t from) const {
    for (std::size_t i = from; i < m_state.size(); ++i) {
        if (m_state[i] == MirrorState::idle && m_tries[i] < m_max) return i;
    }
    return std::nullopt;
}

std::optional<std::size_t> MirrorBoard::backing_off() const {
    for (std::size_t i = 0; i < m_state.size(); ++i) {
        if (m_state[i] == MirrorState::backing_off) return i;
    }
    return std::nullopt;
}

void AttemptLog::record(const Attempt& a, bool segmented) {
    m_list.push_back(a);
    Event e{EventKind::attempt, ""};
    e.with("mirror", a.mirror).with("url", a.url);
    if (!segmented) e.with("resumed_from", static_cast<std::int64_t>(a.resumed_from));
    e.with("bytes", static_cast<std::int64_t>(a.bytes))
        .with("http_status", static_cast<std::int64_t>(a.http_status))
        .with("curl_code", static_cast<std::int64_t>(a.curl_code))
        .with("error", a.error)
        .with("decision", std::string(a.error.empty() ? "done" : to_string(a.decision)));
    if (segmented) e.with("segmented", true);
    e.with("lost_race", a.lost_race);
    e.with("elapsed_ms", static_cast<std::int64_t>(a.elapsed.count()));
    m_events.emit(e);
}

} // namespace goinstall
