#include "crypto.hpp"

#include <memory>
#include <stdexcept>

#include <openssl/evp.h>

namespace goinstall::sumdb::detail {
namespace {

struct MdCtxFree {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
struct PkeyFree {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

// RFC 8032 §5.1.5/§5.1.6: Ed25519 public keys are 32 bytes and signatures 64.
constexpr std::size_t k_ed25519_public_size = 32;
constexpr std::size_t k_ed25519_signature_size = 64;

} // namespace

void sha256_parts(std::span<const std::string_view> parts, unsigned char* out) {
    MdCtx ctx(EVP_MD_CTX_new());
    if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
        throw std::runtime_error("EVP_DigestInit_ex(SHA-256) failed");
    }
    for (std::string_view part : parts) {
        if (!part.empty() && EVP_DigestUpdate(ctx.get(), part.data(), part.size()) != 1) {
            throw std::runtime_error("EVP_DigestUpdate(SHA-256) failed");
        }
    }
    unsigned int length = 0;
    if (EVP_DigestFinal_ex(ctx.get(), out, &length) != 1 || length != 32) {
        throw std::runtime_error("EVP_DigestFinal_ex(SHA-256) failed");
    }
}

bool ed25519_verify(std::span<const unsigned char> public_key, std::string_view message,
                    std::span<const unsigned char> signature) {
    if (public_key.size() != k_ed25519_public_size || signature.size() != k_ed25519_signature_size) {
        return false;
    }
    Pkey key(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, public_key.data(), public_key.size()));
    if (!key) return false;
    MdCtx ctx(EVP_MD_CTX_new());
    if (!ctx) throw std::runtime_error("EVP_MD_CTX_new failed");
    // Ed25519 hashes internally: no digest is named, and the message goes in one call.
    if (EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1) return false;
    return EVP_DigestVerify(ctx.get(), signature.data(), signature.size(),
                            reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
}

} // namespace goinstall::sumdb::detail
