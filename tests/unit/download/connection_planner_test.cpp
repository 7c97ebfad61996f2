// ConnectionPlanner against a simulated link on synthetic time (no threads, no sleeps): a mirror's
// link carries min(capacity, connections x per-stream cap) bytes per second, as a lossy overseas
// path does where each TCP stream is held back by its window and loss (issue 15, profile A).
#include <catch2/catch.hpp>

#include <vector>

#include "connection_planner.hpp"

using namespace goinstall;
using namespace std::chrono_literals;

namespace {
using TP = ConnectionPlanner::TimePoint;

struct Sim {
    double per_stream = 0; // bytes/s one connection gets
    double capacity = 0;   // bytes/s all connections together get
    double ramp_s = 0;     // a new connection's rate climbs linearly to per_stream over this long
    std::size_t max_total = 4;
    std::uint64_t size = 1ULL << 30;
    std::size_t connections = 1;
    std::size_t most = 1;
    int adds = 0, drops = 0, keeps = 0;

    void run(std::chrono::milliseconds duration) {
        ConnectionPlanner p({.window = 1000ms, .min_gain = 0.2, .max_total = max_total}, 1, TP{});
        double bytes = 0;
        std::vector<double> born{0.0}; // when each connection opened, in seconds
        for (auto t = 250ms; t <= duration; t += 250ms) {
            const double now = std::chrono::duration<double>(t).count();
            double offered = 0;
            for (double b : born) offered += per_stream * (ramp_s > 0 ? std::min(1.0, (now - b) / ramp_s) : 1.0);
            bytes += std::min(capacity, offered) * 0.25;
            const auto got = static_cast<std::uint64_t>(bytes);
            for (const auto& c : p.sample(TP{} + t, {got}, {connections}, size - std::min(size, got))) {
                using A = ConnectionPlanner::Change::Action;
                CHECK_FALSE(c.reason.empty());
                for (std::size_t n = 0; n < c.count && c.action == A::add; ++n) ++connections, born.push_back(now);
                for (std::size_t n = 0; n < c.count && c.action == A::drop; ++n) --connections, born.pop_back();
                if (c.action == A::add) ++adds;
                if (c.action == A::drop) ++drops;
                if (c.action == A::keep) ++keeps;
            }
            most = std::max(most, connections);
        }
    }
};
} // namespace

TEST_CASE("ConnectionPlanner: per-stream capped link: connections are added while the total grows",
          "[download][segmented][planner]") {
    Sim s{.per_stream = 1e6, .capacity = 10e6};
    s.run(20s);
    CHECK(s.connections == 4); // up to max_total, each addition kept: 1, then 2 more
    CHECK(s.drops == 0);
    CHECK(s.keeps == 2);
    Sim eight{.per_stream = 1e6, .capacity = 10e6, .max_total = 8};
    eight.run(20s);
    CHECK(eight.connections == 8); // 1 + 1 + 2 + 4
    CHECK(eight.keeps == 3);
    Sim six{.per_stream = 1e6, .capacity = 10e6, .max_total = 6};
    six.run(20s);
    CHECK(six.connections == 6); // 1 + 1 + 2 + 2 (the last trial stops at max_total)
}

TEST_CASE("ConnectionPlanner: the growth stops where the link is full", "[download][segmented][planner]") {
    Sim s{.per_stream = 1e6, .capacity = 2.1e6, .max_total = 6};
    s.run(30s);
    CHECK(s.connections == 2); // the third and fourth added nothing: dropped; a third alone neither
    CHECK(s.most == 4);
    CHECK(s.drops == 2);
    CHECK(s.adds == 3);
}

TEST_CASE("ConnectionPlanner: windows last 8 round trips of a far mirror, at most 3 s",
          "[download][segmented][planner]") {
    ConnectionPlanner p({}, 1, TP{});
    CHECK(p.window() == 1000ms);
    p.set_round_trip(50ms);
    CHECK(p.window() == 1000ms);
    p.set_round_trip(250ms);
    CHECK(p.window() == 2000ms);
    p.set_round_trip(2s);
    CHECK(p.window() == 3000ms);
    // Nothing is measured before a whole window has passed.
    p.set_round_trip(250ms);
    CHECK(p.sample(TP{} + 1500ms, {1000000}, {1}, 1ULL << 30).empty());
    CHECK(p.sample(TP{} + 2000ms, {2000000}, {1}, 1ULL << 30).empty()); // the first window: no trial yet
    CHECK(p.rate(0) == Approx(1e6));
}

TEST_CASE("ConnectionPlanner: one stream fills the link: one trial, dropped, one more four windows later, none after",
          "[download][segmented][planner]") {
    Sim s{.per_stream = 10e6, .capacity = 10e6};
    s.run(30s);
    CHECK(s.connections == 1);
    CHECK(s.adds == 2);
    CHECK(s.drops == 2);
}

TEST_CASE("ConnectionPlanner: a stream still in slow start is not the baseline of a trial",
          "[download][segmented][planner]") {
    // One stream fills the link once it has ramped up (1.5 s). A trial started in the first window
    // would be judged against the ramp and kept although the second connection adds nothing.
    Sim s{.per_stream = 10e6, .capacity = 10e6, .ramp_s = 1.5};
    s.run(30s);
    CHECK(s.keeps == 0);
    CHECK(s.adds == 2); // the second, four windows after the first was dropped
    CHECK(s.connections == 1);
    // A far, lossy link ramps up too, and its streams add up: still kept, up to max_total.
    Sim far{.per_stream = 1e6, .capacity = 10e6, .ramp_s = 1.5};
    far.run(30s);
    CHECK(far.connections == 4);
    CHECK(far.drops == 0);
}

TEST_CASE("ConnectionPlanner: no trial with one connection allowed, or when the file is nearly done",
          "[download][segmented][planner]") {
    Sim one{.per_stream = 1e6, .capacity = 10e6, .max_total = 1};
    one.run(20s);
    CHECK(one.adds == 0);
    // Loopback: 1 GB/s, a 64 MiB file is done long before three windows.
    Sim fast{.per_stream = 1e9, .capacity = 1e9, .size = 64ULL << 20};
    fast.run(5s);
    CHECK(fast.adds == 0);
}

TEST_CASE("ConnectionPlanner: two far mirrors are tried side by side", "[download][segmented][planner]") {
    ConnectionPlanner p({.max_total = 8}, 2, TP{});
    const std::uint64_t big = 1ULL << 30;
    using A = ConnectionPlanner::Change::Action;
    CHECK(p.sample(TP{} + 1s, {1000000, 1000000}, {1, 1}, big).empty()); // one window: not settled yet
    auto c = p.sample(TP{} + 2s, {2000000, 2000000}, {1, 1}, big);
    REQUIRE(c.size() == 2);
    CHECK((c[0].action == A::add && c[1].action == A::add && c[0].mirror != c[1].mirror));
    c = p.sample(TP{} + 3s, {4000000, 4000000}, {2, 2}, big); // each doubled: kept
    REQUIRE(c.size() == 2);
    CHECK((c[0].action == A::keep && c[1].action == A::keep));
    c = p.sample(TP{} + 4s, {6000000, 6000000}, {2, 2}, big); // then two more each, up to 8 in all
    REQUIRE(c.size() == 2);
    CHECK((c[0].action == A::add && c[0].count == 2 && c[1].action == A::add && c[1].count == 2));
    CHECK(p.sample(TP{} + 5s, {10000000, 10000000}, {4, 4}, big).size() == 2); // kept; no room for more
    CHECK(p.sample(TP{} + 6s, {14000000, 14000000}, {4, 4}, big).empty());
}
