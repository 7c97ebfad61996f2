#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <optional>
#include <vector>

#include "../fakes/fake_clock.hpp"
#include "../fakes/temp_dir.hpp"
#include "goinstall/fs/file_lock.hpp"

using namespace goinstall;
using namespace goinstall::test;
using namespace std::chrono_literals;

// flock locks belong to an open file description, so a second open()+flock in this process
// conflicts with the first exactly as another process would.

TEST_CASE("FileLock::acquire creates the file and takes the lock", "[fs]") {
    TempDir t;
    int waits = 0;
    auto lock = FileLock::acquire(t / ".lock", 100ms, nullptr, [&] { ++waits; });
    REQUIRE(lock.has_value());
    CHECK(std::filesystem::exists(t / ".lock"));
    CHECK(waits == 0);
}

TEST_CASE("a held lock makes a second acquire time out", "[fs]") {
    TempDir t;
    auto first = FileLock::acquire(t / ".lock", 100ms);
    REQUIRE(first.has_value());
    int waits = 0;
    FakeClock clock; // the timeout and the polling back-off run on fake time: nothing sleeps
    auto second = FileLock::acquire(
        t / ".lock", 60ms, nullptr, [&] { ++waits; }, &clock);
    REQUIRE_FALSE(second.has_value());
    CHECK(second.error().code() == ErrorCode::lock_timeout);
    CHECK(second.error().message().find((t / ".lock").string()) != std::string::npos);
    CHECK(waits == 1);
    // Polls back off 10, 20, 40 ms; the check after the third pause finds the 60 ms gone.
    CHECK(clock.sleeps() == std::vector<std::chrono::milliseconds>{10ms, 20ms, 40ms});
}

TEST_CASE("the lock's polling pauses are capped and end with the timeout", "[fs]") {
    TempDir t;
    auto first = FileLock::acquire(t / ".lock", 100ms);
    REQUIRE(first.has_value());
    FakeClock clock;
    auto second = FileLock::acquire(t / ".lock", 1s, nullptr, {}, &clock);
    REQUIRE_FALSE(second.has_value());
    CHECK(second.error().code() == ErrorCode::lock_timeout);
    auto sleeps = clock.sleeps();
    REQUIRE(sleeps.size() == 9); // 10 20 40 80 160, then 200 ×4: 1110 ms ≥ 1 s
    CHECK(sleeps[4] == 160ms);
    CHECK(sleeps[5] == 200ms);
    CHECK(sleeps.back() == 200ms);
    CHECK(clock.total_slept() == 1110ms);
}

TEST_CASE("a zero timeout fails at once when the lock is busy", "[fs]") {
    TempDir t;
    auto first = FileLock::acquire(t / ".lock", 0ms);
    REQUIRE(first.has_value());
    auto second = FileLock::acquire(t / ".lock", 0ms);
    REQUIRE_FALSE(second.has_value());
    CHECK(second.error().code() == ErrorCode::lock_timeout);
}

TEST_CASE("waiting for a lock can be cancelled", "[fs]") {
    TempDir t;
    auto first = FileLock::acquire(t / ".lock", 100ms);
    REQUIRE(first.has_value());
    CancelToken cancel;
    cancel.cancel();
    auto second = FileLock::acquire(t / ".lock", 10s, &cancel);
    REQUIRE_FALSE(second.has_value());
    CHECK(second.error().code() == ErrorCode::cancelled);
}

TEST_CASE("the lock is released when its holder goes away", "[fs]") {
    TempDir t;
    {
        auto first = FileLock::acquire(t / ".lock", 100ms);
        REQUIRE(first.has_value());
    }
    auto second = FileLock::acquire(t / ".lock", 0ms);
    CHECK(second.has_value());
}

TEST_CASE("a moved lock stays held until its last owner goes away", "[fs]") {
    TempDir t;
    auto first = FileLock::acquire(t / ".lock", 100ms);
    REQUIRE(first.has_value());
    std::optional<FileLock> moved(std::move(*first));
    CHECK_FALSE(FileLock::acquire(t / ".lock", 0ms).has_value());
    auto other = FileLock::acquire(t / ".other", 0ms);
    REQUIRE(other.has_value());
    *moved = std::move(*other); // releases .lock, now holds .other
    CHECK(FileLock::acquire(t / ".lock", 0ms).has_value());
    CHECK_FALSE(FileLock::acquire(t / ".other", 0ms).has_value());
    moved.reset();
    CHECK(FileLock::acquire(t / ".other", 0ms).has_value());
}

TEST_CASE("a lock in a missing directory fails naming the path", "[fs]") {
    TempDir t;
    auto r = FileLock::acquire(t / "missing/.lock", 0ms);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == ErrorCode::filesystem);
    CHECK(r.error().message().find((t / "missing/.lock").string()) != std::string::npos);
}
