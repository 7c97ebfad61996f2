#include "test_signer.hpp"

#include <array>
#include <stdexcept>
#include <vector>

#include <openssl/evp.h>

#include "goinstall/sumdb/base64.hpp"
#include "goinstall/sumdb/signed_note.hpp"

namespace goinstall::sumdb::test {

struct TestSigner::Key {
    EVP_PKEY* pkey = nullptr;
    ~Key() { EVP_PKEY_free(pkey); }
};

TestSigner::TestSigner(std::string name) : m_name(std::move(name)), m_key(std::make_unique<Key>()) {
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr);
    if (ctx == nullptr || EVP_PKEY_keygen_init(ctx) != 1 || EVP_PKEY_keygen(ctx, &m_key->pkey) != 1) {
        EVP_PKEY_CTX_free(ctx);
        throw std::runtime_error("Ed25519 keygen failed");
    }
    EVP_PKEY_CTX_free(ctx);
    std::vector<unsigned char> pub(33);
    std::size_t len = 32;
    pub[0] = 0x01;
    if (EVP_PKEY_get_raw_public_key(m_key->pkey, pub.data() + 1, &len) != 1 || len != 32) {
        throw std::runtime_error("Ed25519 public key export failed");
    }
    m_hash = key_hash(m_name, pub);
    char hex[9];
    std::snprintf(hex, sizeof hex, "%08x", m_hash);
    m_vkey = m_name + "+" + hex + "+" + base64_encode(pub);
}

TestSigner::~TestSigner() = default;

std::string TestSigner::signature_line(std::string_view text) const {
    std::array<unsigned char, 4 + 64> sig{};
    sig[0] = static_cast<unsigned char>(m_hash >> 24);
    sig[1] = static_cast<unsigned char>(m_hash >> 16);
    sig[2] = static_cast<unsigned char>(m_hash >> 8);
    sig[3] = static_cast<unsigned char>(m_hash);
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    std::size_t len = 64;
    const bool ok = ctx != nullptr && EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, m_key->pkey) == 1 &&
                    EVP_DigestSign(ctx, sig.data() + 4, &len, reinterpret_cast<const unsigned char*>(text.data()),
                                   text.size()) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok || len != 64) throw std::runtime_error("Ed25519 signing failed");
    return "\xE2\x80\x94 " + m_name + " " + base64_encode(sig) + "\n";
}

std::string TestSigner::sign(std::string_view text) const { return std::string(text) + "\n" + signature_line(text); }

std::string tree_text(long long n, std::string_view hash_b64) {
    return "go.sum database tree\n" + std::to_string(n) + "\n" + std::string(hash_b64) + "\n";
}

} // namespace goinstall::sumdb::test
