#pragma once
// SHA-256 of a .part's contiguous prefix, computed while the segmented download is still running
// (issue 15): the phase reports the prefix as it grows (PartObserver::on_contiguous) and a thread
// of its own reads [hashed, size) back with pread, so that after the last byte only what the
// hasher had not reached yet is left to hash instead of the whole file.

#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <thread>

#include "goinstall/download/downloader.hpp"
#include "goinstall/verify/sha256.hpp"

namespace goinstall {

class PrefixHasher {
public:
    explicit PrefixHasher(std::filesystem::path part);
    ~PrefixHasher(); // stops the thread (what it hashed is dropped)
    PrefixHasher(const PrefixHasher&) = delete;
    PrefixHasher& operator=(const PrefixHasher&) = delete;

    // [0, size) of the .part is written; never blocks on the hashing.
    void advance(std::uint64_t size);
    // The .part is being rewritten from zero: forget what was hashed.
    void reset();

    struct Prefix {
        Sha256 state;            // fed exactly [0, bytes)
        std::uint64_t bytes = 0; // <= the `limit` given to finish
    };
    // The phase is over and [0, limit) is its final prefix: waits until the thread has hashed it
    // (what it had not reached yet: the only hashing left after the last byte), stops the thread
    // and hands back the state. Less than `limit` when reading failed (the caller hashes the rest
    // from the file); nullopt when more than `limit` was hashed (cannot be taken back).
    std::optional<Prefix> finish(std::uint64_t limit);
    // Bytes hashed so far.
    std::uint64_t hashed() const;

private:
    void run();

    const std::filesystem::path m_path;
    mutable std::mutex m_mu;
    std::condition_variable m_cv;
    std::uint64_t m_target = 0;     // guarded by m_mu
    std::uint64_t m_hashed = 0;     // guarded by m_mu (written by the thread)
    std::uint64_t m_generation = 0; // guarded by m_mu; bumped by reset
    bool m_stop = false;            // guarded by m_mu
    bool m_failed = false;          // guarded by m_mu
    Sha256 m_hash;                  // the thread's until it has stopped
    std::thread m_thread;
};

// Forwards everything to `inner` (may be null) and feeds the prefix to `hasher`.
class HashingObserver final : public PartObserver {
public:
    HashingObserver(PartObserver* inner, PrefixHasher& hasher) : m_inner(inner), m_hasher(hasher) {}
    void on_open(int fd) override;
    void on_contiguous(std::uint64_t size) override;
    void on_truncate() override;

private:
    PartObserver* m_inner;
    PrefixHasher& m_hasher;
};

} // namespace goinstall
