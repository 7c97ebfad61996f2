#pragma once
// A Go module proxy client (the GOPROXY protocol, golang.org/ref/mod#goproxy-protocol) with cmd/go's
// list semantics (src/cmd/go/internal/modfetch/proxy.go TryProxies): after a ',' the next proxy is
// tried only when this one said "not there" (HTTP 404/410, a missing file:// file), after a '|' on
// any error; "off" disables lookups; file:// trees are read from disk. Reading small documents only
// (lists, .info, the sumdb's files); a module zip is fetched by the caller (lib/core's route).

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "goinstall/base/cancel.hpp"
#include "goinstall/base/error.hpp"
#include "goinstall/net/transport.hpp"
#include "goinstall/sumdb/go_env.hpp"

namespace goinstall::sumdb {

// Where "direct" gets golang.org/toolchain: its go-import meta tag says
// "golang.org/toolchain mod https://go.dev/dl/mod", so cmd/go reads that URL as a module proxy.
inline constexpr std::string_view k_toolchain_direct_url = "https://go.dev/dl/mod";

// x/mod module.EscapePath / EscapeVersion: every upper-case ASCII letter becomes '!' and its lower
// case ("github.com/Azure" → "github.com/!azure"). usage error for an empty string, '!', a control
// character, a space or a byte above 0x7e (such paths cannot be escaped unambiguously).
Result<std::string> escape_module_path(std::string_view path);
Result<std::string> escape_version(std::string_view version);

// The local path of a file:// URL ("file:///srv/proxy" → "/srv/proxy"), percent-decoded; nullopt
// for other schemes, a host other than "" or "localhost", or a malformed escape.
std::optional<std::filesystem::path> file_url_path(std::string_view url);

// Whether `e` means "not there" (cmd/go's fs.ErrNotExist): ErrorCode::not_found, or HTTP 404/410.
bool is_not_there(const Error& e);

// Default limits for small proxy and database documents: 60 s per request, 16 MiB per body.
TransferLimits document_limits();

// One GET of a small document. http(s) through `transport`; file:// read from disk. The body of a
// 2xx answer; HTTP 404/410 and a missing file → not_found (error.net()->http_status 404/410, 404 for
// a missing file); other statuses → network with the status in error.net(); transport errors as
// the transport gives them. Messages name the URL redacted of credentials.
Result<std::string> get_document(Transport& transport, const std::string& url, const TransferLimits& limits,
                                 const CancelToken* cancel);

struct GoproxyOptions {
    TransferLimits limits = document_limits();
    std::string direct_url{k_toolchain_direct_url}; // what "direct" reads (a proxy URL)
    const CancelToken* cancel = nullptr;
};

// What one entry of the list stands for: its URL; options.direct_url for direct; "" for off.
std::string proxy_base(const ProxyEntry& entry, const GoproxyOptions& options);
// How an entry is named in attempt logs: the URL redacted, "direct (<direct_url>)" or "off".
std::string proxy_display(const ProxyEntry& entry, const GoproxyOptions& options);

// "<base>/<escaped module>/@v/<escaped version><suffix>" ("" version: "<base>/<module>/@v/list").
Result<std::string> module_file_url(std::string_view base, std::string_view module_path, std::string_view version,
                                    std::string_view suffix);

// The outcome of trying the proxies in turn.
struct ProxyTry {
    std::optional<std::size_t> served_by; // index of the entry that succeeded
    std::optional<Error> error;           // when none did: the most helpful error (cmd/go's ranking)
    bool not_there = false;               // that error means "not there" (or the list reached off)
    std::vector<TriedSource> tried;       // one per entry asked, role "proxy"
};

// cmd/go TryProxies: calls `attempt` for each entry in order (never for "off", which fails with
// "module lookup disabled by GOPROXY=off" counting as "not there") until one succeeds or one fails
// in a way its separator does not fall through. The reported error is the direct entry's when
// there was one, else the first that was not "not there", else the last.
ProxyTry try_proxies(const std::vector<ProxyEntry>& proxies, const GoproxyOptions& options,
                     const std::function<Status(const ProxyEntry&)>& attempt);

// A document and who served it.
struct ProxyDocument {
    std::string body;
    std::string proxy;              // display name of the entry that served it
    std::string base_url;           // that entry's base URL (unredacted: for further requests only)
    std::vector<TriedSource> tried; // every entry asked, in order
};

class GoproxyClient {
public:
    GoproxyClient(Transport& transport, std::vector<ProxyEntry> proxies, GoproxyOptions options = {})
        : m_transport(transport), m_proxies(std::move(proxies)), m_options(std::move(options)) {}

    // GET <proxy>/<module>/@v/list. Errors carry the attempt log (Error::tried) and the context
    // "listing <module> versions (GOPROXY)"; not_found when every proxy said "not there".
    Result<ProxyDocument> list(std::string_view module_path);
    // GET <proxy>/<module>/@v/<version>.info (JSON {"Version", "Time"}; returned raw).
    Result<ProxyDocument> info(std::string_view module_path, std::string_view version);
    // Any file under @v/ ("<version>.mod", ...), with the same semantics.
    Result<ProxyDocument> get(std::string_view module_path, std::string_view version, std::string_view suffix);

    const std::vector<ProxyEntry>& proxies() const { return m_proxies; }
    const GoproxyOptions& options() const { return m_options; }

private:
    Transport& m_transport;
    std::vector<ProxyEntry> m_proxies;
    GoproxyOptions m_options;
};

} // namespace goinstall::sumdb
