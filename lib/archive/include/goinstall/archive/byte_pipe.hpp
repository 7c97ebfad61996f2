#pragma once
// A bounded single-producer/single-consumer pipe of byte blocks between two threads: the producer
// fills a free block and publishes it, the consumer reads published blocks in order. Memory is
// fixed at block_size × blocks, so a fast producer waits for a slow consumer (back-pressure).

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <span>
#include <vector>

#include "goinstall/base/error.hpp"

namespace goinstall {

class BytePipe {
public:
    BytePipe(std::size_t block_size, std::size_t blocks);
    BytePipe(const BytePipe&) = delete;
    BytePipe& operator=(const BytePipe&) = delete;

    // Producer: waits for a free block and returns it (block_size bytes), or an empty span when the
    // consumer has closed its end (the producer should stop). At most one block is held at a time.
    std::span<unsigned char> acquire();
    // Producer: publishes the block from acquire() with its first `used` bytes (0 returns it unused).
    void publish(std::size_t used);
    // Producer: no more blocks; `error` (if any) is what the consumer's next() reports after the
    // blocks already published. Idempotent; the first call wins.
    void close_write(std::optional<Error> error = std::nullopt);

    // Consumer: returns the next published block, valid until the following next() or
    // close_read(), which hand it back. An empty span means the producer closed cleanly and every
    // block was read; the producer's error is returned instead when it closed with one.
    Result<std::span<const unsigned char>> next();
    // Consumer: stop reading; the producer's acquire() returns empty from now on. Idempotent.
    void close_read();

private:
    struct Filled {
        std::size_t index;
        std::size_t used;
    };
    std::size_t m_block_size;
    std::vector<unsigned char> m_storage;
    std::mutex m_mutex;
    std::condition_variable m_changed;
    std::deque<std::size_t> m_free;
    std::deque<Filled> m_filled;
    std::optional<std::size_t> m_producing; // block held by the producer
    std::optional<std::size_t> m_consuming; // block held by the consumer
    bool m_write_closed = false;
    bool m_read_closed = false;
    std::optional<Error> m_error;
};

} // namespace goinstall
