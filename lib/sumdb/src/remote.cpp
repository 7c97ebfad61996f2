// Reaching a checksum database (contract in remote.hpp).

#include "goinstall/sumdb/remote.hpp"

#include "goinstall/base/url.hpp"

namespace goinstall::sumdb {

namespace {

std::string join(std::string base, std::string_view path) {
    while (base.ends_with('/')) base.pop_back();
    return base + "/" + std::string(path);
}

} // namespace

Result<std::string> TransportSumdbFetcher::get(std::string_view path) {
    ++m_requests;
    return get_document(m_transport, join(m_base, path), m_limits, m_cancel);
}

Result<SumdbBase> select_sumdb_base(Transport& transport, const std::vector<ProxyEntry>& proxies,
                                    const SumdbSetting& setting, const GoproxyOptions& options) {
    if (setting.off) return fail(ErrorCode::usage, "checksum database disabled by GOSUMDB=off");
    SumdbBase out;
    if (!setting.url.empty()) {
        out.url = setting.url;
        return out;
    }
    const std::string& name = setting.key.name;
    const std::string suffix = "sumdb/" + name;
    auto tried = try_proxies(proxies, options, [&](const ProxyEntry& p) -> Status {
        if (p.kind != ProxyEntry::Kind::url) {
            return fail(ErrorCode::not_found, "GOPROXY reached direct: asking " + name + " itself");
        }
        auto body = get_document(transport, join(join(p.url, suffix), "supported"), options.limits, options.cancel);
        if (!body) return std::unexpected(body.error());
        out.url = join(p.url, suffix);
        out.via = proxy_display(p, options);
        return {};
    });
    for (auto& t : tried.tried) {
        t.role = "sumdb";
        if (!t.url.empty() && t.name != "off" && !t.name.starts_with("direct"))
            t.url = redact_url(join(join(t.url, suffix), "supported"));
    }
    out.tried = std::move(tried.tried);
    if (tried.served_by) return out;
    if (tried.not_there) {
        out.url = "https://" + name;
        return out;
    }
    return std::unexpected(
        std::move(*tried.error)
            .with_context("checksum database " + name + ": asking the GOPROXY proxies whether they serve it")
            .with_tried(out.tried));
}

} // namespace goinstall::sumdb
