// probe_mirrors times its samples on the injected clock: the rate and the time to the first byte
// are what that clock says, so ranking is tested without real time.
#include <catch2/catch.hpp>

#include <atomic>

#include "../fakes/fake_transport.hpp"
#include "goinstall/download/probe.hpp"

using namespace goinstall;
using namespace goinstall::test;
using namespace std::chrono_literals;

namespace {

// Each reading is 1 ms after the one before: the sample's time is its number of clock readings.
class TickingClock final : public Clock {
public:
    TimePoint now() const override { return TimePoint{} + 1h + std::chrono::milliseconds(++m_ticks); }
    std::chrono::system_clock::time_point wall_now() const override { return {}; }
    void sleep_for(std::chrono::milliseconds) override {}
    mutable std::atomic<long> m_ticks{0};
};

} // namespace

TEST_CASE("probe_mirrors: rates from the injected clock; a sample cut at its size counts", "[download][probe]") {
    FakeTransport net;
    const std::string body(64 * 1024, 'x');
    Scripted fast = Scripted::ok(body);
    fast.chunk = 16 * 1024; // 4 chunks: the head and 4 data readings, 1 ms apart
    net.script("http://fast.test/go.tgz", fast);
    net.script("http://gone.test/go.tgz", Scripted::with_status(404));
    TickingClock clock;
    ProbeOptions o;
    o.sample_bytes = 32 * 1024; // cut after 2 of the 4 chunks
    o.clock = &clock;
    auto results =
        probe_mirrors(net, {{"fast", "http://fast.test/"}, {"gone", "http://gone.test/"}}, "go.tgz", o, nullptr);
    REQUIRE(results.size() == 2);
    const auto& r = results[0];
    CHECK(r.ok);
    CHECK(r.bytes == 32 * 1024);
    // This thread reads start, head, chunk 1, chunk 2: 2 ms from head to the last byte, 3 ms when
    // the other probe's one reading fell in between.
    CHECK(r.bytes_per_second >= 32.0 * 1024 / 0.003);
    CHECK(r.bytes_per_second <= 32.0 * 1024 / 0.002);
    CHECK(r.head_time >= 1ms);
    CHECK(r.head_time <= 2ms);
    CHECK_FALSE(results[1].ok);
    CHECK(results[1].error == "HTTP 404");
    CHECK(rank_probes(results)[0].mirror.name == "fast");
}
