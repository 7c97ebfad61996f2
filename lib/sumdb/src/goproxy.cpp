// The GOPROXY client (contract in goproxy.hpp).

#include "goinstall/sumdb/goproxy.hpp"

#include <cerrno>
#include <system_error>

#include "goinstall/base/strings.hpp"
#include "goinstall/base/url.hpp"
#include "goinstall/fs/files.hpp"

namespace goinstall::sumdb {

namespace {

Result<std::string> escape(std::string_view s, std::string_view what) {
    if (s.empty()) return fail(ErrorCode::usage, "empty " + std::string(what));
    std::string out;
    out.reserve(s.size() + 4);
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '!' || u <= 0x20 || u >= 0x7f) {
            return fail(ErrorCode::usage,
                        "cannot escape " + std::string(what) + " \"" + sanitize_for_display(s) + "\"");
        }
        if (c >= 'A' && c <= 'Z') {
            out += '!';
            out += static_cast<char>(c - 'A' + 'a');
        } else {
            out += c;
        }
    }
    return out;
}

Error off_error() { return Error(ErrorCode::usage, "module lookup disabled by GOPROXY=off"); }

} // namespace

Result<std::string> escape_module_path(std::string_view path) { return escape(path, "module path"); }
Result<std::string> escape_version(std::string_view version) { return escape(version, "module version"); }

std::optional<std::filesystem::path> file_url_path(std::string_view url) {
    auto parsed = parse_url(url);
    if (!parsed || parsed->scheme != "file" || !(parsed->host.empty() || parsed->host == "localhost"))
        return std::nullopt;
    std::string_view p = parsed->path_and_query;
    if (auto q = p.find('?'); q != std::string_view::npos) p = p.substr(0, q);
    auto decoded = percent_decode(p);
    if (!decoded || decoded->empty()) return std::nullopt;
    return std::filesystem::path(*decoded);
}

bool is_not_there(const Error& e) {
    if (e.code() == ErrorCode::not_found) return true;
    return e.net() && (e.net()->http_status == 404 || e.net()->http_status == 410);
}

TransferLimits document_limits() {
    TransferLimits l;
    l.total_timeout = std::chrono::seconds(60);
    l.max_body_bytes = 16ULL << 20;
    return l;
}

Result<std::string> get_document(Transport& transport, const std::string& url, const TransferLimits& limits,
                                 const CancelToken* cancel) {
    const std::string shown = redact_url(url);
    if (auto path = file_url_path(url)) {
        std::error_code ec;
        if (!std::filesystem::is_regular_file(*path, ec)) {
            return std::unexpected(Error(ErrorCode::not_found, shown + " does not exist")
                                       .with_net(NetDetail{.http_status = 404, .url = shown}));
        }
        return read_file(*path, limits.max_body_bytes != 0 ? limits.max_body_bytes : (16ULL << 20));
    }
    if (url.starts_with("file:")) return fail(ErrorCode::usage, "malformed file URL " + shown);
    Request rq{.url = url, .limits = limits};
    StringSink sink;
    auto r = transport.fetch(rq, sink, cancel);
    if (!r) return std::unexpected(std::move(r.error()));
    if (!r->ok()) {
        const bool gone = r->status == 404 || r->status == 410;
        std::string msg = shown + " answered HTTP " + std::to_string(r->status);
        auto snippet = sanitize_for_display(r->error_body, 120);
        if (!snippet.empty() && r->header("content-type").find("html") == std::string::npos)
            msg += " (" + snippet + ")";
        return std::unexpected(
            Error(gone ? ErrorCode::not_found : ErrorCode::network, msg)
                .with_net(NetDetail{.phase = NetPhase::http, .http_status = r->status, .url = shown}));
    }
    return std::move(sink.body());
}

std::string proxy_base(const ProxyEntry& entry, const GoproxyOptions& options) {
    switch (entry.kind) {
    case ProxyEntry::Kind::url: return entry.url;
    case ProxyEntry::Kind::direct: return options.direct_url;
    case ProxyEntry::Kind::off: break;
    }
    return "";
}

std::string proxy_display(const ProxyEntry& entry, const GoproxyOptions& options) {
    switch (entry.kind) {
    case ProxyEntry::Kind::url: return redact_url(entry.url);
    case ProxyEntry::Kind::direct: return "direct (" + redact_url(options.direct_url) + ")";
    case ProxyEntry::Kind::off: break;
    }
    return "off";
}

Result<std::string> module_file_url(std::string_view base, std::string_view module_path, std::string_view version,
                                    std::string_view suffix) {
    auto mod = escape_module_path(module_path);
    if (!mod) return std::unexpected(mod.error());
    std::string name = "list";
    if (!version.empty()) {
        auto v = escape_version(version);
        if (!v) return std::unexpected(v.error());
        name = *v + std::string(suffix);
    }
    std::string b(base);
    while (b.ends_with('/')) b.pop_back();
    return b + "/" + *mod + "/@v/" + name;
}

ProxyTry try_proxies(const std::vector<ProxyEntry>& proxies, const GoproxyOptions& options,
                     const std::function<Status(const ProxyEntry&)>& attempt) {
    enum Rank { not_exist_rank, proxy_rank, direct_rank };
    ProxyTry out;
    Rank rank = not_exist_rank;
    for (std::size_t i = 0; i < proxies.size(); ++i) {
        const ProxyEntry& p = proxies[i];
        const bool off = p.kind == ProxyEntry::Kind::off;
        Status st = off ? Status(std::unexpected(off_error())) : attempt(p);
        TriedSource t{"proxy", proxy_display(p, options), off ? "" : redact_url(proxy_base(p, options)), ""};
        if (st) {
            out.tried.push_back(std::move(t));
            out.served_by = i;
            out.error.reset();
            out.not_there = false;
            return out;
        }
        const bool not_there = off || is_not_there(st.error());
        t.outcome = st.error().describe();
        out.tried.push_back(std::move(t));
        if (p.kind == ProxyEntry::Kind::direct) {
            out.error = st.error();
            out.not_there = not_there;
            rank = direct_rank;
        } else if (rank <= proxy_rank && !not_there) {
            out.error = st.error();
            out.not_there = false;
            rank = proxy_rank;
        } else if (rank == not_exist_rank) {
            out.error = st.error();
            out.not_there = true;
        }
        if (!p.fall_back_on_any_error && !not_there) break;
    }
    if (!out.error) { // an empty list (parse_goproxy never makes one)
        out.error = off_error();
        out.not_there = true;
    }
    return out;
}

Result<ProxyDocument> GoproxyClient::get(std::string_view module_path, std::string_view version,
                                         std::string_view suffix) {
    ProxyDocument doc;
    auto tried = try_proxies(m_proxies, m_options, [&](const ProxyEntry& p) -> Status {
        const std::string base = proxy_base(p, m_options);
        auto url = module_file_url(base, module_path, version, suffix);
        if (!url) return std::unexpected(url.error());
        auto body = get_document(m_transport, *url, m_options.limits, m_options.cancel);
        if (!body) return std::unexpected(body.error());
        doc.body = std::move(*body);
        doc.proxy = proxy_display(p, m_options);
        doc.base_url = base;
        return {};
    });
    doc.tried = std::move(tried.tried);
    if (tried.served_by) return doc;
    const std::string what =
        version.empty() ? "listing " + std::string(module_path) + " versions"
                        : "fetching " + std::string(module_path) + "@" + std::string(version) + std::string(suffix);
    return std::unexpected(std::move(*tried.error).with_context(what + " (GOPROXY)").with_tried(std::move(doc.tried)));
}

Result<ProxyDocument> GoproxyClient::list(std::string_view module_path) { return get(module_path, "", ""); }

Result<ProxyDocument> GoproxyClient::info(std::string_view module_path, std::string_view version) {
    return get(module_path, version, ".info");
}

} // namespace goinstall::sumdb
