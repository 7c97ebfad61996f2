#pragma once
// Extraction that runs while the archive downloads: a PartObserver that feeds the growing ".part"
// to extract_tar_gz_stream on its own thread. Private to pipeline.cpp (header-only on purpose).
//
// Safety: nothing extracted here is used unless (1) the download's SHA-256 verified, and (2) the
// stream never restarted, i.e. every byte the extractor read is the byte now in the verified file
// at that offset (GrowingFileSource's contract). Otherwise finish() reports "unusable" and the
// caller extracts the verified file again into a fresh staging directory.

#include <optional>
#include <thread>

#include "goinstall/archive/stream_extract.hpp"
#include "goinstall/download/downloader.hpp"

namespace goinstall {

class StreamingExtract final : public PartObserver {
public:
    StreamingExtract(std::filesystem::path dest, ExtractOptions options)
        : m_dest(std::move(dest)), m_options(std::move(options)) {
        m_thread = std::thread([this] { m_result = extract_tar_gz_stream(m_source, m_dest, m_options); });
    }
    StreamingExtract(const StreamingExtract&) = delete;
    StreamingExtract& operator=(const StreamingExtract&) = delete;
    ~StreamingExtract() override { abort(Error(ErrorCode::cancelled, "the download did not complete")); }

    void on_open(int fd) override { m_source.attach(fd); }
    void on_contiguous(std::uint64_t size) override { m_source.grow(size); }
    void on_truncate() override { m_source.reset(); }

    // Call after the download verified: ends the stream at the verified size and waits for the
    // extraction. Returns its stats; nullopt when the streamed tree is unusable (the stream
    // restarted, or the extraction failed: the caller re-extracts the verified file, which gives
    // the authoritative error); cancellation is an error.
    Result<std::optional<ExtractStats>> finish() {
        m_source.finish();
        join();
        if (!m_result) {
            if (m_result.error().code() == ErrorCode::cancelled && m_options.cancel != nullptr &&
                m_options.cancel->cancelled()) {
                return std::unexpected(m_result.error());
            }
            m_why_unusable = m_result.error().message();
            return std::nullopt;
        }
        if (m_source.restarted()) {
            m_why_unusable = "the download restarted from zero";
            return std::nullopt;
        }
        return *m_result;
    }
    // Stops the extraction (the download failed): waits for the thread.
    void abort(Error why) {
        m_source.abort(std::move(why));
        join();
    }
    const std::string& why_unusable() const { return m_why_unusable; }

private:
    void join() {
        if (m_thread.joinable()) m_thread.join();
    }

    std::filesystem::path m_dest;
    ExtractOptions m_options;
    GrowingFileSource m_source;
    Result<ExtractStats> m_result = ExtractStats{};
    std::string m_why_unusable;
    std::thread m_thread; // last: started after everything it uses exists
};

} // namespace goinstall
