// BytePipe and GrowingFileSource: ordering, back-pressure, closing from either end, errors.

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <thread>
#include <unistd.h>

#include "../fakes/temp_dir.hpp"
#include "goinstall/archive/byte_pipe.hpp"
#include "goinstall/archive/stream_extract.hpp"

using namespace goinstall;

namespace {

std::string drain(BytePipe& pipe) {
    std::string got;
    for (;;) {
        auto b = pipe.next();
        REQUIRE(b);
        if (b->empty()) return got;
        got.append(reinterpret_cast<const char*>(b->data()), b->size());
    }
}

} // namespace

TEST_CASE("BytePipe delivers blocks in order across threads with bounded memory", "[archive][pipe]") {
    BytePipe pipe(7, 3);
    std::string sent;
    bool sizes_ok = true; // Catch2 assertions are not thread-safe: checked after the join
    std::thread producer([&] {
        for (int i = 0; i < 500; ++i) {
            auto block = pipe.acquire();
            sizes_ok = sizes_ok && block.size() == 7;
            const std::size_t n = 1 + static_cast<std::size_t>(i) % 7;
            for (std::size_t k = 0; k < n; ++k) {
                block[k] = static_cast<unsigned char>('a' + (i + static_cast<int>(k)) % 26);
                sent.push_back(static_cast<char>(block[k]));
            }
            pipe.publish(n);
        }
        pipe.close_write();
    });
    std::string got = drain(pipe);
    producer.join();
    CHECK(sizes_ok);
    CHECK(got == sent);
}

TEST_CASE("BytePipe reports the producer's error after the blocks published before it", "[archive][pipe]") {
    BytePipe pipe(4, 2);
    auto b = pipe.acquire();
    b[0] = 'x';
    pipe.publish(1);
    pipe.close_write(Error(ErrorCode::bad_archive, "broken"));
    auto first = pipe.next();
    REQUIRE(first);
    CHECK(first->size() == 1);
    auto second = pipe.next();
    REQUIRE_FALSE(second);
    CHECK(second.error().code() == ErrorCode::bad_archive);
}

TEST_CASE("BytePipe: closing the read end releases a producer waiting for space", "[archive][pipe]") {
    BytePipe pipe(4, 1);
    auto b = pipe.acquire();
    pipe.publish(4); // the only block is now full and unread
    std::thread consumer([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        pipe.close_read();
    });
    auto next = pipe.acquire(); // would wait forever without close_read
    consumer.join();
    CHECK(next.empty());
    pipe.publish(0); // harmless after close
    pipe.close_write();
}

TEST_CASE("BytePipe: publish(0) returns the block and an empty pipe ends cleanly", "[archive][pipe]") {
    BytePipe pipe(4, 1);
    (void)pipe.acquire();
    pipe.publish(0);
    (void)pipe.acquire(); // the block came back
    pipe.publish(0);
    pipe.close_write();
    auto end = pipe.next();
    REQUIRE(end);
    CHECK(end->empty());
}

TEST_CASE("GrowingFileSource returns only published bytes and waits for more", "[archive][pipe]") {
    test::TempDir dir;
    const auto path = dir / "f.part";
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    REQUIRE(fd >= 0);
    GrowingFileSource src;
    src.attach(fd);
    REQUIRE(::write(fd, "hello world", 11) == 11);
    src.grow(5);
    std::array<unsigned char, 64> buf{};
    auto n = src.read(buf);
    REQUIRE(n);
    CHECK(std::string(reinterpret_cast<char*>(buf.data()), *n) == "hello");
    std::thread writer([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        src.grow(11);
        src.finish();
    });
    n = src.read(buf); // blocks until grow(11)
    writer.join();
    REQUIRE(n);
    CHECK(std::string(reinterpret_cast<char*>(buf.data()), *n) == " world");
    n = src.read(buf);
    REQUIRE(n);
    CHECK(*n == 0);
    CHECK(src.consumed() == 11);
    CHECK_FALSE(src.restarted());
    ::close(fd);
}

TEST_CASE("GrowingFileSource: a restart poisons the stream; abort ends it with the error", "[archive][pipe]") {
    test::TempDir dir;
    const auto path = dir / "f.part";
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    REQUIRE(fd >= 0);
    REQUIRE(::write(fd, "abc", 3) == 3);
    std::array<unsigned char, 8> buf{};
    SECTION("reset") {
        GrowingFileSource src;
        src.attach(fd);
        src.grow(3);
        src.reset();
        src.grow(3);
        auto n = src.read(buf);
        REQUIRE_FALSE(n);
        CHECK(src.restarted());
    }
    SECTION("abort wakes a waiting reader") {
        GrowingFileSource src;
        src.attach(fd);
        std::thread t([&] {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            src.abort(Error(ErrorCode::network, "mirror gone"));
        });
        auto n = src.read(buf);
        t.join();
        REQUIRE_FALSE(n);
        CHECK(n.error().code() == ErrorCode::network);
    }
    ::close(fd);
}
