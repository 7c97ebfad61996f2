#pragma once
// Extraction of a .tar.gz from a byte stream, with inflate and file creation on two threads (the
// effect that makes `pigz -dc | tar -x` faster than `tar -xzf`), and a byte source that follows a
// file while another thread is still writing it (a download's ".part").

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <span>
#include <string>

#include "goinstall/archive/extract.hpp"
#include "goinstall/base/error.hpp"

namespace goinstall {

// Where extract_tar_gz_stream reads compressed bytes from. read() blocks until at least one byte
// is available and returns how many were stored in `buf`, 0 at the end of the stream, or an error
// (which extraction then returns unchanged).
class ByteSource {
public:
    virtual ~ByteSource() = default;
    virtual Result<std::size_t> read(std::span<unsigned char> buf) = 0;
};

// Reads a regular file from its current offset (the fd is borrowed).
class FdSource final : public ByteSource {
public:
    FdSource(int fd, std::string display) : m_fd(fd), m_display(std::move(display)) {}
    Result<std::size_t> read(std::span<unsigned char> buf) override;

private:
    int m_fd;
    std::string m_display;
};

// Follows a file that a writer thread appends to: read() returns bytes below the writer's
// published size and waits for more. Thread-safe: the writer calls attach/grow/reset/finish/abort,
// one reader thread calls read().
//
// Contract for the bytes read: read() only returns bytes of [0, size) as published by grow(); a
// reset() (the file is about to be emptied and rewritten) makes every later read() fail with
// ErrorCode::internal "the stream restarted", including a read() whose pread raced with it, so a
// reader never mixes bytes from before and after a restart. finish() ends the stream at the
// published size; abort() ends it with an error.
class GrowingFileSource final : public ByteSource {
public:
    GrowingFileSource() = default;
    ~GrowingFileSource() override;
    GrowingFileSource(const GrowingFileSource&) = delete;
    GrowingFileSource& operator=(const GrowingFileSource&) = delete;

    // Keeps a duplicate of `fd` (the first one attached; later calls are ignored).
    void attach(int fd);
    // Bytes [0, size) are in the file. Ignored when smaller than what was published before.
    void grow(std::uint64_t size);
    // The file is about to be truncated and rewritten: poisons the stream.
    void reset();
    // No more bytes will come: read() returns 0 at the published size.
    void finish();
    // Ends the stream with `error` (e.g. the download failed or was cancelled).
    void abort(Error error);

    // True when reset() was called: what was read cannot be trusted to match the final file.
    bool restarted() const;
    // Bytes handed out by read() so far.
    std::uint64_t consumed() const;

    Result<std::size_t> read(std::span<unsigned char> buf) override;

private:
    mutable std::mutex m_mutex;
    std::condition_variable m_changed;
    int m_fd = -1;
    std::uint64_t m_size = 0;
    std::uint64_t m_pos = 0;
    bool m_finished = false;
    bool m_restarted = false;
    std::optional<Error> m_error;
};

// Extracts a gzip-compressed tar read from `source` into `dest_dir` with the same checks, limits,
// modes and error codes as extract_archive (see extract.hpp). The calling thread inflates; a second
// thread parses the tar and writes files. A gzip stream that is corrupt, truncated or fails its
// CRC is bad_archive "archive is corrupt or truncated: ...". Memory use is bounded (a few MiB)
// whatever the archive's size. Not atomic: the caller removes dest_dir's contents on failure.
Result<ExtractStats> extract_tar_gz_stream(ByteSource& source, const std::filesystem::path& dest_dir,
                                           const ExtractOptions& options);

// Which inflate implementation extract_tar_gz_stream uses ("isa-l" or "zlib").
const char* inflate_backend();

} // namespace goinstall
