// The failover state machine (failover.hpp): the whole transition table, the board's bookkeeping
// and the attempt log's events. Pure: no transport, no clock.
#include <catch2/catch.hpp>

#include <array>
#include <optional>
#include <string>

#include "../fakes/recording_events.hpp"
#include "failover.hpp"

using namespace goinstall;
using namespace goinstall::test;

namespace {

using S = MirrorState;
using E = MirrorEvent;
using A = FailoverAction;

constexpr std::array k_states = {S::idle, S::transferring, S::racing, S::backing_off, S::dead, S::done};
constexpr std::array k_events = {E::start,        E::join_race,        E::rival_joined, E::answered, E::lost_race,
                                 E::verified,     E::mismatch_restart, E::transient,    E::unfit,    E::fatal,
                                 E::backoff_done, E::backoff_refused,  E::abandoned};

struct Row {
    S from;
    E event;
    bool attempts_left;
    S to;
    A action;
    Decision decision;
};

// Every transition that can happen. Any (state, event) pair not here is invalid.
const std::vector<Row>& table() {
    static const std::vector<Row> rows = [] {
        std::vector<Row> r;
        for (bool left : {true, false}) {
            r.push_back({S::idle, E::start, left, S::transferring, A::fetch, Decision::stop});
            r.push_back({S::idle, E::join_race, left, S::racing, A::fetch, Decision::stop});
            r.push_back({S::transferring, E::rival_joined, left, S::racing, A::none, Decision::stop});
            r.push_back({S::racing, E::lost_race, left, S::idle, A::none, Decision::next_mirror});
            r.push_back({S::backing_off, E::backoff_done, left, S::idle, A::none, Decision::retry_same});
            r.push_back({S::backing_off, E::backoff_refused, left, S::dead, A::retire, Decision::next_mirror});
            for (S asked : {S::transferring, S::racing}) {
                r.push_back({asked, E::answered, left, S::transferring, A::none, Decision::stop});
                r.push_back({asked, E::verified, left, S::done, A::finish, Decision::stop});
                r.push_back({asked, E::mismatch_restart, left, S::idle, A::retry_now, Decision::retry_same});
                r.push_back({asked, E::unfit, left, S::dead, A::retire, Decision::next_mirror});
                r.push_back({asked, E::fatal, left, S::dead, A::abort, Decision::stop});
            }
        }
        // A transient failure: the mirror in use backs off, a race's bystander is asked again later,
        // and a mirror out of attempts is left behind.
        r.push_back({S::transferring, E::transient, true, S::backing_off, A::back_off, Decision::retry_same});
        r.push_back({S::racing, E::transient, true, S::idle, A::none, Decision::retry_same});
        r.push_back({S::transferring, E::transient, false, S::dead, A::retire, Decision::next_mirror});
        r.push_back({S::racing, E::transient, false, S::dead, A::retire, Decision::next_mirror});
        // Abandoned mid-transfer (silent, or handed over): no backoff, another mirror next.
        for (S asked : {S::transferring, S::racing}) {
            r.push_back({asked, E::abandoned, true, S::idle, A::retry_now, Decision::next_mirror});
            r.push_back({asked, E::abandoned, false, S::dead, A::retire, Decision::next_mirror});
        }
        return r;
    }();
    return rows;
}

std::optional<Row> lookup(S from, E event, bool left) {
    for (const auto& row : table()) {
        if (row.from == from && row.event == event && row.attempts_left == left) return row;
    }
    return std::nullopt;
}

} // namespace

TEST_CASE("the failover transition table, every state against every event", "[download][failover]") {
    int valid = 0, invalid = 0;
    for (S from : k_states) {
        for (E event : k_events) {
            for (bool left : {true, false}) {
                INFO(to_string(from) << " + " << to_string(event) << (left ? " (attempts left)" : " (none left)"));
                auto step = transition(from, event, left);
                if (auto row = lookup(from, event, left)) {
                    ++valid;
                    CHECK(step.next == row->to);
                    CHECK(step.action == row->action);
                    CHECK(step.decision == row->decision);
                } else {
                    ++invalid;
                    CHECK(step.action == A::invalid);
                    CHECK(step.next == from);
                }
            }
        }
    }
    CHECK(valid == static_cast<int>(table().size()));
    CHECK(valid + invalid == static_cast<int>(k_states.size() * k_events.size() * 2));
}

TEST_CASE("dead and done mirrors take no event", "[download][failover]") {
    for (S from : {S::dead, S::done}) {
        for (E event : k_events) {
            INFO(to_string(from) << " + " << to_string(event));
            CHECK(transition(from, event, true).action == A::invalid);
        }
    }
}

TEST_CASE("the names of states, events and actions", "[download][failover]") {
    CHECK(std::string(to_string(S::backing_off)) == "backing_off");
    CHECK(std::string(to_string(E::mismatch_restart)) == "mismatch_restart");
    CHECK(std::string(to_string(A::retry_now)) == "retry_now");
    for (S s : k_states) CHECK(std::string(to_string(s)) != "?");
    for (E e : k_events) CHECK(std::string(to_string(e)) != "?");
}

TEST_CASE("the board counts attempts and retires a mirror on its last one", "[download][failover]") {
    MirrorBoard board(2, 2);
    CHECK(board.idle_from(0) == 0u);
    CHECK(board.live_from(0) == 0u);

    CHECK(board.apply(0, E::start).action == A::fetch);
    CHECK(board.idle_from(0) == 1u); // the mirror in use is not idle, but it is live
    CHECK(board.live_from(0) == 0u);
    auto step = board.apply(0, E::transient, /*counts=*/true);
    CHECK(step.action == A::back_off);
    CHECK(board.tries(0) == 1);
    CHECK(board.backing_off() == 0u);
    CHECK(board.apply(0, E::backoff_done).next == S::idle);
    CHECK_FALSE(board.backing_off().has_value());

    (void)board.apply(0, E::start);
    step = board.apply(0, E::transient, true); // the second and last attempt
    CHECK(step.action == A::retire);
    CHECK(step.decision == Decision::next_mirror);
    CHECK(board.state(0) == S::dead);
    CHECK(board.tries(0) == 2);
    CHECK(board.idle_from(0) == 1u);
    CHECK(board.live_from(0) == 1u);

    // A lost race is not an attempt.
    (void)board.apply(1, E::join_race);
    CHECK(board.apply(1, E::lost_race).next == S::idle);
    CHECK(board.tries(1) == 0);
    (void)board.apply(1, E::start);
    CHECK(board.apply(1, E::unfit, true).action == A::retire);
    CHECK_FALSE(board.idle_from(0).has_value());
    CHECK_FALSE(board.live_from(0).has_value());
}

TEST_CASE("a checksum restart after a resume does not use up an attempt", "[download][failover]") {
    MirrorBoard board(1, 1);
    (void)board.apply(0, E::start);
    auto step = board.apply(0, E::mismatch_restart);
    CHECK(step.action == A::retry_now);
    CHECK(step.decision == Decision::retry_same);
    CHECK(board.tries(0) == 0);
    CHECK(board.idle_from(0) == 0u);
}

TEST_CASE("the attempt log keeps attempts in order and reports each as an event", "[download][failover]") {
    std::vector<Attempt> list;
    RecordingEvents events;
    AttemptLog log(list, events);
    log.record(Attempt{.mirror = "a", .url = "https://a/f", .error = "HTTP 503", .decision = Decision::retry_same});
    log.record(Attempt{.mirror = "b", .url = "https://b/f", .error = "", .lost_race = true}, /*segmented=*/true);
    log.record(Attempt{.mirror = "c", .url = "https://c/f", .resumed_from = 7, .bytes = 3});

    REQUIRE(list.size() == 3);
    CHECK(list[0].mirror == "a");
    CHECK(list[2].mirror == "c");
    REQUIRE(events.events().size() == 3);
    auto field = [&](std::size_t i, const std::string& key) -> std::optional<EventValue> {
        for (const auto& [k, v] : events.events()[i].fields) {
            if (k == key) return v;
        }
        return std::nullopt;
    };
    for (std::size_t i = 0; i < 3; ++i) {
        CHECK(events.events()[i].kind == EventKind::attempt);
        CHECK(std::get<std::string>(*field(i, "mirror")) == list[i].mirror);
    }
    CHECK(std::get<std::string>(*field(0, "decision")) == to_string(Decision::retry_same));
    CHECK(std::get<bool>(*field(0, "lost_race")) == false);
    CHECK_FALSE(field(0, "segmented").has_value());
    // Segmented attempts carry segmented=true and no resumed_from; lost_race too (mirrors race in
    // the segmented phase as well, issue 14).
    CHECK(std::get<bool>(*field(1, "segmented")) == true);
    CHECK_FALSE(field(1, "resumed_from").has_value());
    CHECK(std::get<bool>(*field(1, "lost_race")) == true);
    CHECK(std::get<std::string>(*field(1, "decision")) == "done"); // no error: it ended well
    CHECK(std::get<std::int64_t>(*field(2, "resumed_from")) == 7);
    CHECK(std::get<std::int64_t>(*field(2, "bytes")) == 3);
}
