#pragma once
// GOPROXY and GOSUMDB as cmd/go reads them (golang/go src/cmd/go/internal/modfetch proxy.go
// proxyList, sumdb.go dbDial), for the toolchain-module route.

#include <string>
#include <string_view>
#include <vector>

#include "goinstall/base/error.hpp"
#include "goinstall/sumdb/signed_note.hpp"

namespace goinstall::sumdb {

// cmd/go's default when GOPROXY is unset or empty (go.env).
inline constexpr std::string_view k_default_goproxy = "https://proxy.golang.org,direct";

struct ProxyEntry {
    enum class Kind { url, direct, off };
    Kind kind = Kind::url;
    std::string url; // for Kind::url: "https://...", "http://..." or "file:///..." (no trailing '/' added)
    // How to go on to the next entry when this one fails: after a '|' on any error, after a ',' (or
    // at the end) only on 404/410.
    bool fall_back_on_any_error = false;
    friend bool operator==(const ProxyEntry&, const ProxyEntry&) = default;
};

// Parses a GOPROXY list. Entries are separated by ',' or '|' and trimmed; empty entries are
// skipped; "direct" and "off" end the list (later entries are ignored, as cmd/go does); an entry
// with '.', ':' or '/' but no ":/" gets "https://" (so "goproxy.cn" means https://goproxy.cn).
// Empty or all-blank → k_default_goproxy. Fails with ErrorCode::usage, message naming GOPROXY,
// for a list of only separators, a single word other than direct/off, a scheme other than
// https/http/file, or a URL that does not parse (credentials redacted in the message).
Result<std::vector<ProxyEntry>> parse_goproxy(std::string_view value);

// The checksum database to use.
struct SumdbSetting {
    bool off = false; // GOSUMDB=off (for golang.org/toolchain cmd/go then refuses to run)
    VerifierKey key;  // when !off
    std::string url;  // explicit base URL from "key url" (the proxies are then not asked);
                      // empty: <proxy>/sumdb/<name> when a proxy supports it, else https://<name>
    friend bool operator==(const SumdbSetting& a, const SumdbSetting& b) {
        return a.off == b.off && a.key.text == b.key.text && a.url == b.url;
    }
};

// Parses GOSUMDB: empty → sum.golang.org with its known key; "off"; "sum.golang.google.cn" →
// sum.golang.org's name and key with URL https://sum.golang.google.cn; "<name or verifier key>
// [url]", where a name must be one with a known key (only sum.golang.org). Fails with
// ErrorCode::usage, message naming GOSUMDB, for more than two fields, a malformed or unknown key
// (so "on" fails, as it does for cmd/go), a name that is not host[/path], or a URL that is not
// https/http.
Result<SumdbSetting> parse_gosumdb(std::string_view value);

} // namespace goinstall::sumdb
