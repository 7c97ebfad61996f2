#pragma once
// Reads the real checksum-database fixtures of tests/fixtures/sumdb (see tests/fixtures/SOURCES.md).

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace goinstall::sumdb::test {

inline std::string read_fixture(const std::string& name) {
    std::ifstream in(std::string(GOINSTALL_FIXTURES_DIR) + "/sumdb/" + name, std::ios::binary);
    if (!in) throw std::runtime_error("missing fixture " + name);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

// The sum.golang.org verifier key, without the file's final newline.
inline std::string real_vkey() {
    std::string k = read_fixture("sumdb-public-key.txt");
    while (!k.empty() && k.back() == '\n') k.pop_back();
    return k;
}

} // namespace goinstall::sumdb::test
