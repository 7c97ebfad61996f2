#include "goinstall/verify/sha256.hpp"

#include <array>
#include <cerrno>
#include <new>
#include <stdexcept>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "goinstall/base/strings.hpp"

namespace goinstall {

namespace {

// Read size for whole-file hashing: large enough that syscall overhead is negligible next to the
// hashing itself, small enough to poll cancellation several times per second on slow disks.
constexpr std::size_t k_read_block = 1U << 20;

void init_or_throw(EVP_MD_CTX* ctx) {
    if (EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) != 1) {
        throw std::runtime_error("EVP_DigestInit_ex(SHA-256) failed");
    }
}

class FileDescriptor {
public:
    explicit FileDescriptor(int fd) : m_fd(fd) {}
    ~FileDescriptor() {
        if (m_fd >= 0) {
            ::close(m_fd);
        }
    }
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;
    int get() const { return m_fd; }

private:
    int m_fd;
};

} // namespace

struct Sha256::Impl {
    EVP_MD_CTX* ctx = nullptr;

    Impl() : ctx(EVP_MD_CTX_new()) {
        if (ctx == nullptr) {
            throw std::bad_alloc();
        }
        try {
            init_or_throw(ctx);
        } catch (...) {
            EVP_MD_CTX_free(ctx);
            throw;
        }
    }
    ~Impl() { EVP_MD_CTX_free(ctx); }
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;
};

Sha256::Sha256() : m_impl(std::make_unique<Impl>()) {}
Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&& other) noexcept = default;
Sha256& Sha256::operator=(Sha256&& other) noexcept = default;

void Sha256::update(std::span<const unsigned char> data) {
    if (data.empty()) {
        return;
    }
    if (EVP_DigestUpdate(m_impl->ctx, data.data(), data.size()) != 1) {
        throw std::runtime_error("EVP_DigestUpdate(SHA-256) failed");
    }
}

void Sha256::update(std::string_view data) {
    update(std::span<const unsigned char>(reinterpret_cast<const unsigned char*>(data.data()), data.size()));
}

std::string Sha256::hex_digest() {
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int length = 0;
    if (EVP_DigestFinal_ex(m_impl->ctx, digest.data(), &length) != 1) {
        throw std::runtime_error("EVP_DigestFinal_ex(SHA-256) failed");
    }
    init_or_throw(m_impl->ctx);
    return to_hex(std::span<const unsigned char>(digest.data(), length));
}

void Sha256::reset() { init_or_throw(m_impl->ctx); }

Result<std::string> sha256_file(const std::filesystem::path& path, const CancelToken* cancel) {
    FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) {
        return std::unexpected(errno_error(errno, "opening", path.string()));
    }
    Sha256 hasher;
    std::vector<unsigned char> buffer(k_read_block);
    for (;;) {
        if (cancel != nullptr && cancel->cancelled()) {
            return fail(ErrorCode::cancelled, "hashing " + path.string() + " was cancelled");
        }
        ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return std::unexpected(errno_error(errno, "reading", path.string()));
        }
        if (n == 0) {
            break;
        }
        hasher.update(std::span<const unsigned char>(buffer.data(), static_cast<std::size_t>(n)));
    }
    return hasher.hex_digest();
}

Status check_sha256(std::string_view what, std::string_view expected_hex, std::string_view actual_hex) {
    // A malformed digest never matches, so two equal empty or garbage strings cannot pass.
    if (is_hex(expected_hex, 64) && is_hex(actual_hex, 64) && iequals(expected_hex, actual_hex)) {
        return {};
    }
    std::string message = "checksum mismatch for ";
    message.append(what).append(": expected ").append(expected_hex).append(", got ").append(actual_hex);
    return fail(ErrorCode::checksum, std::move(message));
}

Result<std::string> expected_sha256(const std::string& authority_sha, const std::string& authority,
                                    const std::string& given, const std::string& filename) {
    if (given.starts_with("h1:")) {
        return fail(ErrorCode::usage, "--sha256 " + given.substr(0, 16) + "...: an h1: hash names a Go module zip; " +
                                          filename + " is checked by its SHA-256 (64 hex digits)");
    }
    const std::string have = to_lower(authority_sha);
    const std::string want = to_lower(given);
    if (is_hex(have, 64)) {
        if (!want.empty() && want != have) {
            return fail(ErrorCode::checksum, "--sha256 " + want + " does not match " + authority + ", which gives " +
                                                 have + " for " + filename);
        }
        return have;
    }
    if (!want.empty()) return want;
    return fail(ErrorCode::no_checksum, authority + " has no SHA-256 for " + filename +
                                            "; refusing unverified bytes (pass --sha256 HEX if you have the "
                                            "checksum from a trusted source)");
}

} // namespace goinstall
