#pragma once
// SumdbClient: authenticated go.sum hashes from a checksum database (the verification half of
// golang.org/x/mod/sumdb Client), over a narrow fetch interface and an on-disk cache.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "goinstall/base/error.hpp"
#include "goinstall/sumdb/lookup.hpp"
#include "goinstall/sumdb/signed_note.hpp"

namespace goinstall::sumdb {

// The only way the client reaches a checksum database. Paths are relative to the database's base URL
// (https://sum.golang.org, or <proxy>/sumdb/sum.golang.org), with no leading '/':
// "lookup/golang.org/toolchain@v0.0.1-go1.21.3.linux-amd64", "tile/8/0/x112/911.p/237".
class SumdbFetcher {
public:
    virtual ~SumdbFetcher() = default;
    // The body of a 200 response. On failure an Error; an HTTP error status must be in
    // error.net()->http_status (404 and 410 mean "not there": the client then tries a full tile
    // for a missing partial one, and reports a lookup as not_found).
    virtual Result<std::string> get(std::string_view path) = 0;
};

struct SumdbClientOptions {
    VerifierKey key;                 // the database's verifier key (its name names the database)
    std::filesystem::path cache_dir; // one directory per database, created on demand, holding
                                     // "latest" (newest verified note), "lookup/<module>@<version>"
                                     // and "tile/8/..." (verified data only)
};

// What a lookup proved.
struct SumdbLookup {
    ModuleHashes hashes;        // "h1:..." of the module zip and of its go.mod
    std::int64_t record_id = 0; // the record's number in the log
    TreeHead tree;              // the signed tree the record was proven in
    bool from_cache = false;    // the lookup response came from cache_dir (and was verified again)
};

// Not thread-safe: one lookup at a time. Processes sharing a cache_dir should hold a common lock
// around lookups (the install lock), so that the newest note is never replaced by an older one.
class SumdbClient {
public:
    SumdbClient(SumdbFetcher& fetcher, SumdbClientOptions options);

    // The authenticated go.sum hashes of module_path@version:
    //  1. the lookup response (cache_dir's copy if any, else fetched), parsed;
    //  2. its note verified with the key (checksum error otherwise);
    //  3. its tree checked against the cached latest note: the older tree's hash must equal the
    //     hash recomputed from the newer tree's tiles (tiles fetched as needed, authenticated before
    //     use). A mismatch is ErrorCode::security with both signed notes and the recomputed hash
    //     in the message; the cache is left as it was;
    //  4. the record proven to be in the lookup's tree (tiles again), then exactly one zip line
    //     and one go.mod line taken from it.
    // Afterwards the newer note replaces "latest", the response is cached, and every tile that was
    // authenticated is cached (atomic writes; failures to cache tiles or the response are ignored,
    // a failure to write "latest" is returned). A cached response that no longer verifies (other
    // than a security error) is fetched again once.
    // Errors: usage for a module path or version that cannot be used as a path (upper case, "..",
    // characters outside [a-z0-9._~+-/]); not_found when the database answers 404/410 for the
    // lookup; the fetcher's own errors for other fetch failures; checksum for anything that does
    // not verify; security for a fork; filesystem/permission for "latest". Every error carries
    // the context "checksum database <name>: <module>@<version>".
    Result<SumdbLookup> lookup(std::string_view module_path, std::string_view version);

    // lookup("golang.org/toolchain", module_version), e.g. "v0.0.1-go1.21.3.linux-amd64".
    Result<SumdbLookup> lookup_toolchain(std::string_view module_version) {
        return lookup("golang.org/toolchain", module_version);
    }

private:
    Result<SumdbLookup> verify_response(const std::string& body, std::string_view module_path,
                                        std::string_view version);
    // Checks `tree` against the cached latest note; returns true when it is newer (to be saved).
    Result<bool> check_against_latest(const SignedTree& tree);
    Status check_trees(const SignedTree& older, const SignedTree& newer);

    SumdbFetcher& m_fetcher;
    SumdbClientOptions m_options;
};

} // namespace goinstall::sumdb
