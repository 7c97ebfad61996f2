#pragma once
// A ".part" file plus its sidecar ("<file>.part.meta": url, validators, expected size), and the
// BodySink that appends to it while hashing.

#include <cstdint>
#include <filesystem>
#include <string>

#include "goinstall/base/error.hpp"
#include "goinstall/net/transport.hpp"
#include "goinstall/verify/sha256.hpp"

namespace goinstall {

class PartObserver; // goinstall/download/downloader.hpp

struct PartMeta {
    std::string url;
    std::string etag; // strong validators only are used for If-Range
    std::string last_modified;
    std::uint64_t expected_size = 0;
    // Segmented downloads: chunk size and the completed chunks ("0-3,5"); the file may then have
    // holes, and only these chunks are trusted.
    std::uint64_t segment_size = 0;
    std::string segments;
};

// Reads the sidecar; an absent or unreadable one yields an empty PartMeta.
PartMeta load_part_meta(const std::filesystem::path& meta_path);
Status save_part_meta(const std::filesystem::path& meta_path, const PartMeta& meta);

// Appends the body to the part file, keeping a running SHA-256 of the whole file.
class PartFileSink final : public BodySink {
public:
    // Opens (creating) `part`, keeps its first `keep_bytes` bytes, re-hashes them and positions at the end.
    static Result<PartFileSink> open(const std::filesystem::path& part, std::uint64_t keep_bytes);
    // As open, with `hashed` already fed [0, hashed_bytes) of the file (hashed_bytes <= keep_bytes,
    // e.g. by a PrefixHasher during the segmented phase): only the rest is read back.
    static Result<PartFileSink> open(const std::filesystem::path& part, std::uint64_t keep_bytes, Sha256 hashed,
                                     std::uint64_t hashed_bytes);
    PartFileSink(PartFileSink&& other) noexcept;
    PartFileSink& operator=(PartFileSink&&) = delete;
    ~PartFileSink() override;

    // Set before each request: the offset asked for with Range (0 = whole file).
    void expect_from(std::uint64_t offset, std::uint64_t expected_total) {
        m_requested_from = offset;
        m_expected_total = expected_total;
        m_head_accepted = false;
        m_range_rejected = false;
        m_received = 0;
    }
    // The last 206 carried a Content-Range that did not match what was asked for.
    bool range_rejected() const { return m_range_rejected; }

    Status on_response(const Response& head) override;
    Status on_data(std::span<const unsigned char> data) override;

    // Tells `observer` (may be null) about the file now and about every later write and restart.
    void set_observer(PartObserver* observer);

    // Empties the file and the hash (restart from zero).
    Status restart();
    std::uint64_t size() const { return m_size; }
    std::string hex_digest() { return m_hash.hex_digest(); }
    bool restarted_on_200() const { return m_restarted_on_200; }
    // Since the last expect_from: whether a response head was accepted (its body is being kept),
    // and how many body bytes arrived.
    bool head_accepted() const { return m_head_accepted; }
    std::uint64_t received() const { return m_received; }
    const Response& head() const { return m_head; }
    Status sync();

private:
    PartFileSink(int fd, std::filesystem::path path) : m_fd(fd), m_path(std::move(path)) {}
    int m_fd = -1;
    std::filesystem::path m_path;
    Sha256 m_hash;
    std::uint64_t m_size = 0;
    std::uint64_t m_requested_from = 0;
    std::uint64_t m_expected_total = 0;
    bool m_restarted_on_200 = false;
    bool m_range_rejected = false;
    bool m_head_accepted = false;
    std::uint64_t m_received = 0;
    Response m_head;
    PartObserver* m_observer = nullptr;
};

} // namespace goinstall
