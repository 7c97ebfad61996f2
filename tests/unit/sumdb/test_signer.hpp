#pragma once
// A note signer for tests: a fresh Ed25519 key made with OpenSSL, its verifier key text, and
// signed notes in the x/mod sumdb/note format.

#include <memory>
#include <string>
#include <string_view>

namespace goinstall::sumdb::test {

class TestSigner {
public:
    explicit TestSigner(std::string name);
    ~TestSigner();
    TestSigner(const TestSigner&) = delete;
    TestSigner& operator=(const TestSigner&) = delete;

    // "<name>+<hash>+<base64(0x01||pub)>".
    const std::string& vkey() const { return m_vkey; }
    const std::string& name() const { return m_name; }

    // "— <name> <base64(keyhash||sig)>\n" for `text` (which must end in '\n').
    std::string signature_line(std::string_view text) const;
    // text + "\n" + signature_line(text).
    std::string sign(std::string_view text) const;

private:
    struct Key;
    std::string m_name;
    std::unique_ptr<Key> m_key;
    std::string m_vkey;
    unsigned m_hash = 0;
};

// "go.sum database tree\n<N>\n<b64 hash>\n".
std::string tree_text(long long n, std::string_view hash_b64);

} // namespace goinstall::sumdb::test
