#pragma once
// Reaching a checksum database over the network: a SumdbFetcher on a Transport (or a file:// tree),
// and the choice of base URL cmd/go makes (src/cmd/go/internal/modfetch/sumdb.go dbClient.initBase):
// the database through the first proxy that supports it, else the database itself.

#include <string>
#include <vector>

#include "goinstall/base/error.hpp"
#include "goinstall/net/transport.hpp"
#include "goinstall/sumdb/client.hpp"
#include "goinstall/sumdb/go_env.hpp"
#include "goinstall/sumdb/goproxy.hpp"

namespace goinstall::sumdb {

// GET <base_url>/<path> (get_document: 404/410 → not_found with error.net()->http_status set, as
// SumdbClient needs for its partial-tile fallback; a missing file:// file counts as 404).
class TransportSumdbFetcher final : public SumdbFetcher {
public:
    TransportSumdbFetcher(Transport& transport, std::string base_url, TransferLimits limits = document_limits(),
                          const CancelToken* cancel = nullptr)
        : m_transport(transport), m_base(std::move(base_url)), m_limits(limits), m_cancel(cancel) {}

    Result<std::string> get(std::string_view path) override;
    const std::string& base_url() const { return m_base; }
    std::size_t requests() const { return m_requests; }

private:
    Transport& m_transport;
    std::string m_base;
    TransferLimits m_limits;
    const CancelToken* m_cancel;
    std::size_t m_requests = 0;
};

// Where to reach the database.
struct SumdbBase {
    std::string url;                // "<proxy>/sumdb/<name>", setting.url, or "https://<name>"
    std::string via;                // the proxy's display name when proxied, else ""
    std::vector<TriedSource> tried; // the /supported probes, role "sumdb"
};

// cmd/go's rule: an explicit URL in GOSUMDB ("name+key url") is used as is, without asking the
// proxies. Otherwise for each proxy in GOPROXY order GET <proxy>/sumdb/<name>/supported: a 2xx →
// use <proxy>/sumdb/<name>; "not there" (404/410, a missing file) → next proxy; another failure →
// next proxy only after a '|', else it is the error (the database is unavailable). Reaching
// "direct" or "off", or the end of the list with every proxy "not there", → https://<name>.
// usage error when setting.off.
Result<SumdbBase> select_sumdb_base(Transport& transport, const std::vector<ProxyEntry>& proxies,
                                    const SumdbSetting& setting, const GoproxyOptions& options = {});

} // namespace goinstall::sumdb
