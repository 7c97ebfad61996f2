#include <catch2/catch.hpp>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <optional>
#include <thread>

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
    const auto started = std::chrono::steady_clock::now();
    auto second = FileLock::acquire(t / ".lock", 60ms, nullptr, [&] { ++waits; });
    const auto took = std::chrono::steady_clock::now() - started;
    REQUIRE_FALSE(second.has_value());
    CHECK(second.error().code() == ErrorCode::lock_timeout);
    CHECK(second.error().message().find((t / ".lock").string()) != std::string::npos);
    CHECK(waits == 1);    // it waited (the on_wait event), then gave up
    CHECK(took >= 60ms);  // a lower bound: load only lengthens it
    CHECK(took < 10s);    // its 60 ms timeout, not waiting for a holder that never lets go
}

TEST_CASE("a waiter takes the lock as soon as its holder lets go", "[fs]") {
    // Ordered by events, not sleeps: the holder releases only once the waiter has said (on_wait)
    // that it is waiting; the waiter's 60 s timeout is never reached.
    TempDir t;
    auto first = FileLock::acquire(t / ".lock", 0ms);
    REQUIRE(first.has_value());
    std::optional<FileLock> held(std::move(*first));
    std::mutex mu;
    std::condition_variable cv;
    bool waiting = false;
    std::thread holder([&] {
        std::unique_lock lk(mu);
        cv.wait_for(lk, 60s, [&] { return waiting; });
        held.reset(); // lets go
    });
    int waits = 0;
    auto second = FileLock::acquire(t / ".lock", 60s, nullptr, [&] {
        ++waits;
        std::lock_guard lk(mu);
        waiting = true;
        cv.notify_all();
    });
    holder.join();
    REQUIRE(second.has_value());
    CHECK(waits == 1);
    CHECK_FALSE(FileLock::acquire(t / ".lock", 0ms).has_value()); // and now holds it
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
