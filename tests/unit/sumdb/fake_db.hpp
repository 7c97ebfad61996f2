#pragma once
// A checksum database in memory behind the SumdbFetcher interface: lookups and tiles of a TestLog at
// a chosen tree size, notes signed by a TestSigner, and switches for the faults a server shows.

#include <map>
#include <set>
#include <string>
#include <vector>

#include "goinstall/sumdb/client.hpp"
#include "test_log.hpp"
#include "test_signer.hpp"

namespace goinstall::sumdb::test {

class FakeDb final : public SumdbFetcher {
public:
    FakeDb(const TestLog& log, const TestSigner& signer, std::int64_t served_size)
        : m_log(&log), m_signer(&signer), m_size(served_size) {}

    // Serve another log (a fork) or tree size from now on.
    void serve(const TestLog& log, std::int64_t size) {
        m_log = &log;
        m_size = size;
    }
    // The signed note of the served tree.
    std::string note() const;

    Result<std::string> get(std::string_view path) override;

    bool partial_tiles_missing = false;        // .p/W tiles of complete tiles answer 404
    std::int64_t tiles_of_size = 0;            // serve tiles of this (larger) tree; 0: the served size
    const TestLog* tiles_of_log = nullptr;     // serve tiles of this log; nullptr: the served log
    std::map<std::string, std::string> bodies; // a path's body, replacing what would be served
    std::set<std::string> not_found;           // paths answering 404
    std::vector<std::string> requests;

private:
    const TestLog* m_log;
    const TestSigner* m_signer;
    std::int64_t m_size;
};

// "golang.org/toolchain <v> h1:<hash of v>\ngolang.org/toolchain <v>/go.mod h1:8wlg...\n".
std::string toolchain_record(const std::string& version);
// The zip h1: toolchain_record puts in a record for `version` (derived from the version).
std::string toolchain_zip_h1(const std::string& version);

} // namespace goinstall::sumdb::test
