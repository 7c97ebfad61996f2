#include "part_file.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <fcntl.h>
#include <sstream>
#include <unistd.h>

#include "goinstall/base/strings.hpp"
#include "goinstall/base/url.hpp"
#include "goinstall/download/downloader.hpp"
#include "goinstall/download/policy.hpp"
#include "goinstall/fs/files.hpp"

namespace goinstall {

PartMeta load_part_meta(const std::filesystem::path& meta_path) {
    PartMeta meta;
    auto text = read_file(meta_path, 64 * 1024);
    if (!text) {
        return meta;
    }
    for (const auto& line : split(*text, '\n')) {
        auto eq = line.find('=');
        if (eq == std::string::npos) {
            continue;
        }
        auto key = line.substr(0, eq);
        auto value = line.substr(eq + 1);
        if (key == "url")
            meta.url = value;
        else if (key == "etag")
            meta.etag = value;
        else if (key == "last_modified")
            meta.last_modified = value;
        else if (key == "expected_size")
            meta.expected_size = parse_u64(value).value_or(0);
        else if (key == "segment_size")
            meta.segment_size = parse_u64(value).value_or(0);
        else if (key == "segments")
            meta.segments = value;
    }
    return meta;
}

Status save_part_meta(const std::filesystem::path& meta_path, const PartMeta& meta) {
    auto clean = [](const std::string& s) {
        std::string out;
        for (char c : s) {
            if (c != '\n' && c != '\r') out.push_back(c);
        }
        return out;
    };
    std::ostringstream out;
    out << "url=" << clean(meta.url) << "\n"
        << "etag=" << clean(meta.etag) << "\n"
        << "last_modified=" << clean(meta.last_modified) << "\n"
        << "expected_size=" << meta.expected_size << "\n";
    if (meta.segment_size != 0) {
        out << "segment_size=" << meta.segment_size << "\n"
            << "segments=" << clean(meta.segments) << "\n";
    }
    return write_file_atomic(meta_path, out.str());
}

Result<PartFileSink> PartFileSink::open(const std::filesystem::path& part, std::uint64_t keep_bytes) {
    return open(part, keep_bytes, Sha256(), 0);
}

Result<PartFileSink> PartFileSink::open(const std::filesystem::path& part, std::uint64_t keep_bytes, Sha256 hashed,
                                        std::uint64_t hashed_bytes) {
    int fd = ::open(part.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        return std::unexpected(errno_error(errno, "cannot open", part.string()));
    }
    PartFileSink sink(fd, part);
    if (::ftruncate(fd, static_cast<off_t>(keep_bytes)) != 0) {
        return std::unexpected(errno_error(errno, "cannot truncate", part.string()));
    }
    // Re-hash the bytes kept from an earlier run: the final checksum covers the whole file.
    std::uint64_t done = 0;
    if (hashed_bytes <= keep_bytes) {
        sink.m_hash = std::move(hashed);
        done = hashed_bytes;
    }
    std::array<unsigned char, 1 << 16> buf{};
    while (done < keep_bytes) {
        auto want = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), keep_bytes - done));
        auto n = ::pread(fd, buf.data(), want, static_cast<off_t>(done));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return std::unexpected(errno_error(n < 0 ? errno : EIO, "cannot read", part.string()));
        }
        sink.m_hash.update(std::span<const unsigned char>(buf.data(), static_cast<std::size_t>(n)));
        done += static_cast<std::uint64_t>(n);
    }
    sink.m_size = keep_bytes;
    if (::lseek(fd, static_cast<off_t>(keep_bytes), SEEK_SET) < 0) {
        return std::unexpected(errno_error(errno, "cannot seek", part.string()));
    }
    return sink;
}

PartFileSink::PartFileSink(PartFileSink&& other) noexcept
    : m_fd(other.m_fd), m_path(std::move(other.m_path)), m_hash(std::move(other.m_hash)), m_size(other.m_size),
      m_requested_from(other.m_requested_from), m_expected_total(other.m_expected_total),
      m_restarted_on_200(other.m_restarted_on_200), m_range_rejected(other.m_range_rejected),
      m_head_accepted(other.m_head_accepted), m_received(other.m_received), m_head(std::move(other.m_head)),
      m_observer(other.m_observer) {
    other.m_fd = -1;
}

PartFileSink::~PartFileSink() {
    if (m_fd >= 0) {
        ::close(m_fd);
    }
}

void PartFileSink::set_observer(PartObserver* observer) {
    m_observer = observer;
    if (m_observer != nullptr) {
        m_observer->on_open(m_fd);
        m_observer->on_contiguous(m_size);
    }
}

Status PartFileSink::restart() {
    if (m_observer != nullptr) {
        m_observer->on_truncate(); // before the bytes change
    }
    if (::ftruncate(m_fd, 0) != 0 || ::lseek(m_fd, 0, SEEK_SET) < 0) {
        return std::unexpected(errno_error(errno, "cannot truncate", m_path.string()));
    }
    m_hash.reset();
    m_size = 0;
    return {};
}

Status PartFileSink::on_response(const Response& head) {
    m_head = head;
    m_restarted_on_200 = false;
    if (head.status == 206) {
        // docs/field-notes.md#retry-timeouts-resume: accept 206 only when Content-Range starts
        // where we asked and the total matches.
        auto cr = parse_content_range(head.header("content-range"));
        if (!cr || !cr->first || *cr->first != m_requested_from || m_requested_from != m_size ||
            (m_expected_total != 0 && cr->total && *cr->total != m_expected_total)) {
            m_range_rejected = true;
            return std::unexpected(
                Error(ErrorCode::network, "server sent a partial response with Content-Range '" +
                                              sanitize_for_display(head.header("content-range"), 80) +
                                              "' that does not match the " + std::to_string(m_requested_from) +
                                              " bytes we have")
                    .with_net(
                        NetDetail{.phase = NetPhase::body, .http_status = 206, .url = redact_url(head.effective_url)}));
        }
        m_head_accepted = true;
        return {};
    }
    // A full response (200, or a file:// read): start over on this same response
    // (docs/field-notes.md#retry-timeouts-resume).
    if (m_size > 0) {
        m_restarted_on_200 = true;
        if (auto st = restart(); !st) {
            return st;
        }
    }
    m_head_accepted = true;
    return {};
}

Status PartFileSink::on_data(std::span<const unsigned char> data) {
    // A file far larger than the index lists is not the official file, and a hostile mirror must
    // not be able to fill the disk: cut at twice the size (+1 MiB), dropped like bytes that hash
    // wrong. A little larger is read to the end so the checksum mismatch can name its SHA-256.
    const std::uint64_t cap = m_expected_total + std::max<std::uint64_t>(m_expected_total, 1U << 20);
    if (m_expected_total != 0 && m_size + data.size() > cap) {
        (void)restart();
        const auto url = redact_url(m_head.effective_url);
        return std::unexpected(
            Error(ErrorCode::checksum, url + " sent more than " + std::to_string(cap) + " bytes for " +
                                           m_path.filename().replace_extension().string() + ", which the release " +
                                           "index lists at " + std::to_string(m_expected_total) +
                                           " (not the official file)")
                .with_net(NetDetail{.phase = NetPhase::body, .http_status = m_head.status, .url = url}));
    }
    const unsigned char* p = data.data();
    std::size_t left = data.size();
    while (left > 0) {
        auto n = ::write(m_fd, p, left);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return std::unexpected(errno_error(errno, "cannot write", m_path.string()));
        }
        p += n;
        left -= static_cast<std::size_t>(n);
    }
    m_hash.update(data);
    m_size += data.size();
    m_received += data.size();
    if (m_observer != nullptr) {
        m_observer->on_contiguous(m_size);
    }
    return {};
}

Status PartFileSink::sync() {
    if (::fsync(m_fd) != 0) {
        return std::unexpected(errno_error(errno, "cannot sync", m_path.string()));
    }
    return {};
}

} // namespace goinstall
