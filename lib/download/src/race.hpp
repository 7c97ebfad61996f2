#pragma once
// Happy-eyeballs for mirrors: start the primary; if it has not produced response headers within the
// head start, start the secondary too; the first 2xx response head wins the shared part file and
// the other transfer is cancelled. The head start and every wait run on the injected Clock, so a
// fake clock makes the race deterministic.

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <vector>

#include "goinstall/base/cancel.hpp"
#include "goinstall/base/clock.hpp"
#include "goinstall/net/transport.hpp"

namespace goinstall {

struct RaceEntrant {
    std::size_t mirror = 0; // caller's index
    Request request;
};

struct RaceOutcome {
    std::size_t mirror = 0;
    Result<Response> response = Response{};
    bool won = false;                     // its 2xx head claimed the sink
    bool lost = false;                    // cancelled because the other one won
    std::chrono::milliseconds elapsed{0}; // on the clock, from its start to its end
};

// Runs the race. `sink` receives only the winner's body. `progress(mirror, bytes, total)` is called
// for the winner only. Returns one outcome per entrant started (primary first). Thread-safe use of
// `transport` is required (CurlTransport is: one easy handle per fetch). While `parent` is given it
// is polled every 50 ms of `clock` time (a signal handler can only set its flag). `abandon`, when
// given, is checked right after each call of `progress`: once it is cancelled (by `progress`
// itself, say: the transfer went silent) the winner's transfer is cancelled too.
std::vector<RaceOutcome> race_fetch(Transport& transport, Clock& clock, BodySink& sink, const RaceEntrant& primary,
                                    const std::optional<RaceEntrant>& secondary, std::chrono::milliseconds head_start,
                                    const CancelToken* parent,
                                    const std::function<void(std::size_t, std::uint64_t, std::uint64_t)>& progress,
                                    const CancelToken* abandon = nullptr);

} // namespace goinstall
