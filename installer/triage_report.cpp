#include "triage_report.hpp"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "exit_codes.hpp"
#include "goinstall/base/strings.hpp"
#include "goinstall/base/url.hpp"
#include "goinstall/net/curl_transport.hpp"
#include "goinstall/sumdb/goproxy.hpp"
#include "goinstall/triage/triage.hpp"

namespace goinstall::cli {

namespace {

std::string last_segment(const std::string& url) {
    auto q = url.find_first_of("?#");
    std::string path = url.substr(0, q);
    auto slash = path.rfind('/');
    return slash == std::string::npos ? std::string() : path.substr(slash + 1);
}

// A proxy variable for display: parsed and shown without its password, or flagged as unparseable.
std::string shown_proxy_value(const std::string& name, const std::string& value) {
    if (name.find("no_proxy") != std::string::npos || name.find("NO_PROXY") != std::string::npos) {
        return sanitize_for_display(value, 120);
    }
    auto p = parse_proxy_url(value, name);
    return p ? p->display() : "(not a valid proxy URL)";
}

triage::ConfigObservation config_of(const Settings& s, const Env& env) {
    const TriageSettings& ts = s.triage;
    triage::ConfigObservation c;
    std::string proxy;
    if (s.proxy.no_proxy) {
        proxy = "--no-proxy (always direct)";
    } else if (s.proxy.proxy) {
        auto p = parse_proxy_url(*s.proxy.proxy, "--proxy");
        proxy = "--proxy " + (p ? p->display() : std::string("(invalid)"));
    }
    for (const char* var :
         {"https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"}) {
        if (auto v = env.get(var); v && !v->empty()) {
            proxy += (proxy.empty() ? "" : ", ") + std::string(var) + "=" + shown_proxy_value(var, *v);
            std::string lower = to_lower(trim(*v));
            if (std::string_view(var).find("https") != std::string_view::npos && lower.starts_with("https://")) {
                c.notes.push_back(std::string(var) + " names an https:// proxy: most proxies speak plain HTTP "
                                                     "(http://) even for https downloads");
            }
        }
    }
    if (s.proxy.config_proxy) proxy += (proxy.empty() ? "" : ", ") + std::string("config file proxy");
    if (!s.pac_url.empty()) proxy += (proxy.empty() ? "" : ", ") + std::string("--pac-url ") + redact_url(s.pac_url);
    c.settings.emplace_back("proxy", proxy.empty() ? "none set (system settings consulted)" : proxy);
    std::string ca = s.ca_file_override.empty() && s.ca_dir_override.empty() ? "system store" : "";
    if (!s.ca_file_override.empty()) ca += "SSL_CERT_FILE=" + s.ca_file_override;
    if (!s.ca_dir_override.empty()) ca += std::string(ca.empty() ? "" : ", ") + "SSL_CERT_DIR=" + s.ca_dir_override;
    for (const auto& file : s.cacerts) ca += " + --cacert " + file;
    c.settings.emplace_back("CA", ca);
    if (!s.resolve.empty()) {
        std::string pins;
        for (const auto& p : s.resolve) pins += (pins.empty() ? "" : ", ") + to_curl_resolve(p);
        c.settings.emplace_back("resolve", pins);
    }
    for (const auto& file : s.cacerts) c.cacert += (c.cacert.empty() ? "" : ", ") + file;
    if (!s.index_url.empty()) {
        std::string idx = redact_url(s.index_url);
        for (const auto& f : s.index_fallbacks) idx += ", then " + redact_url(f);
        c.settings.emplace_back("index", idx);
    }
    std::string mirrors;
    for (const auto& m : s.mirrors) mirrors += (mirrors.empty() ? "" : ", ") + m.name;
    if (!mirrors.empty()) c.settings.emplace_back("mirrors", mirrors);
    c.settings.emplace_back("triage", "budget " + std::to_string(ts.budget.count() / 1000) + "." +
                                          std::to_string(ts.budget.count() % 1000 / 100) + " s, captive-portal probe " +
                                          (ts.captive_probe_url.empty() ? "off" : redact_url(ts.captive_probe_url)));
    for (const auto& n : s.mirror_notes) c.notes.push_back("mirror " + n);
    return c;
}

std::string fixed(const std::string& s, std::size_t width) {
    std::string t = sanitize_for_display(s, width);
    if (t.size() < width) t.append(width - t.size(), ' ');
    return t;
}

nlohmann::json to_json(const triage::TriageReport& r) {
    nlohmann::json j;
    j["event"] = "triage";
    j["health"] = to_string(r.verdict.health);
    j["verdict"] = {{"code", r.verdict.code}, {"title", r.verdict.title}, {"action", r.verdict.action}};
    j["elapsed_ms"] = r.elapsed.count();
    j["budget_ms"] = r.budget.count();
    j["budget_exhausted"] = r.budget_exhausted;
    j["settings"] = nlohmann::json::object();
    for (const auto& [k, v] : r.settings) j["settings"][k] = v;
    j["findings"] = nlohmann::json::array();
    for (const auto& f : r.findings) {
        nlohmann::json row{{"layer", to_string(f.layer)}, {"status", to_string(f.status)},
                           {"target", f.target},          {"elapsed_ms", f.elapsed.count()},
                           {"summary", f.summary},        {"facts", nlohmann::json::object()}};
        for (const auto& [k, v] : f.facts) row["facts"][k] = v;
        j["findings"].push_back(std::move(row));
    }
    return j;
}

} // namespace

bool is_network_failure(const Error& err) {
    // A redirect loop or a refused redirect (https → http for the index) is the server's
    // configuration, fully described by the error; there is no network layer to diagnose.
    // Likewise a body larger than the index says the file is (the mirror serves something else).
    constexpr int k_curl_unsupported_protocol = 1, k_curl_too_many_redirects = 47, k_curl_filesize_exceeded = 63;
    if (err.net() &&
        (err.net()->curl_code == k_curl_unsupported_protocol || err.net()->curl_code == k_curl_too_many_redirects ||
         err.net()->curl_code == k_curl_filesize_exceeded)) {
        return false;
    }
    switch (err.code()) {
    case ErrorCode::network:
    case ErrorCode::tls:
    case ErrorCode::proxy_auth: return true;
    default: return false;
    }
}

std::vector<triage::Target> configured_targets(const Settings& s, const std::string& filename) {
    std::vector<triage::Target> out;
    if (!s.index_url.empty()) out.push_back({"index", s.index_url, triage::Role::index, !s.allow_insecure_index});
    for (const auto& f : s.index_fallbacks)
        out.push_back({"index (fallback)", f, triage::Role::index, !s.allow_insecure_index});
    for (const auto& m : s.mirrors) {
        out.push_back(
            {"mirror " + m.name, filename.empty() ? m.base_url : join_url(m.base_url, filename), triage::Role::mirror});
    }
    auto modules = module_route_targets(s);
    out.insert(out.end(), modules.begin(), modules.end());
    return out;
}

std::vector<triage::Target> module_route_targets(const Settings& s) {
    std::vector<triage::Target> out;
    if (s.modules.via == ModuleRouteSettings::Via::index || s.offline) return out;
    const auto& db = s.modules.sumdb;
    std::vector<std::string> proxies;
    bool direct = false;
    for (const auto& p : s.modules.proxies) {
        if (p.kind == sumdb::ProxyEntry::Kind::url && !p.url.starts_with("file:")) proxies.push_back(p.url);
        direct = direct || p.kind == sumdb::ProxyEntry::Kind::direct;
    }
    // "direct" reads the toolchain modules from go.dev/dl/mod, as cmd/go does: checked only when it
    // is the sole source (behind a proxy it is go.dev again, which the index check covers).
    if (proxies.empty() && direct) proxies.emplace_back(sumdb::k_toolchain_direct_url);
    for (const auto& p : proxies) {
        out.push_back(
            {"module proxy " + redact_url(p), join_url(p, "golang.org/toolchain/@v/list"), triage::Role::goproxy});
    }
    if (proxies.empty() || db.off) return out;
    if (!db.url.empty()) {
        out.push_back({"checksum database " + redact_url(db.url), join_url(db.url, "latest"), triage::Role::sumdb});
        return out;
    }
    // As cmd/go: the database through the first proxy that supports it, else directly.
    for (const auto& p : s.modules.proxies) {
        if (p.kind != sumdb::ProxyEntry::Kind::url || p.url.starts_with("file:")) continue;
        out.push_back({"checksum database " + db.key.name + " via " + redact_url(p.url),
                       join_url(p.url, "sumdb/" + db.key.name + "/supported"), triage::Role::sumdb});
    }
    out.push_back({"checksum database " + db.key.name, "https://" + db.key.name + "/latest", triage::Role::sumdb});
    return out;
}

std::vector<triage::Target> failure_targets(const Settings& s, const Error& err) {
    std::vector<triage::Target> out;
    std::vector<std::string> seen;
    for (const auto& t : err.tried()) {
        if (t.role != "mirror" || std::find(seen.begin(), seen.end(), t.name) != seen.end()) continue;
        seen.push_back(t.name);
        // The attempt log holds redacted URLs; the configured mirror keeps what the transfer used.
        std::string url = t.url;
        for (const auto& m : s.mirrors) {
            if (m.name == t.name && !last_segment(t.url).empty()) url = join_url(m.base_url, last_segment(t.url));
        }
        out.push_back({"mirror " + t.name, url, triage::Role::mirror});
    }
    // The module proxy route's sources: each proxy and checksum database it tried. The log holds
    // redacted URLs; the configured entry whose redacted form starts it gives the URL to check.
    std::vector<triage::Target> modules;
    for (const auto& t : err.tried()) {
        if (t.role != "proxy" && t.role != "sumdb") continue;
        std::string url;
        for (const auto& p : s.modules.proxies) {
            if (p.kind == sumdb::ProxyEntry::Kind::url && !p.url.starts_with("file:") &&
                t.url.starts_with(redact_url(p.url))) {
                url = p.url + t.url.substr(redact_url(p.url).size());
            }
        }
        if (url.empty() && t.role == "sumdb" && t.url == redact_url(t.url)) url = t.url;
        if (url.empty()) continue;
        const std::string label = (t.role == "proxy" ? "module proxy " : "checksum database ") + redact_url(url);
        if (std::none_of(modules.begin(), modules.end(), [&](const auto& m) { return m.label == label; })) {
            modules.push_back({label, url, t.role == "proxy" ? triage::Role::goproxy : triage::Role::sumdb});
        }
    }
    if (out.empty()) {
        if (!s.index_url.empty()) out.push_back({"index", s.index_url, triage::Role::index, !s.allow_insecure_index});
        for (const auto& f : s.index_fallbacks)
            out.push_back({"index (fallback)", f, triage::Role::index, !s.allow_insecure_index});
    }
    out.insert(out.end(), modules.begin(), modules.end());
    return out;
}

Result<triage::TriageReport> run_cli_triage(const Settings& s, const std::vector<triage::Target>& targets,
                                            Context& ctx) {
    const TriageSettings& ts = s.triage;
    auto resolver = make_proxy_resolver(s, *ctx.env, ctx.cancel);
    if (!resolver) return std::unexpected(resolver.error());
    auto shared = std::make_shared<const ProxyResolver>(std::move(*resolver));
    TransportConfig cfg;
    cfg.extra_ca_file = s.cacert;
    cfg.ca_file_override = s.ca_file_override;
    cfg.ca_dir_override = s.ca_dir_override;
    cfg.proxy = shared;
    cfg.resolve = s.resolve;
    auto transport = CurlTransport::create(cfg);
    if (!transport) return std::unexpected(transport.error());

    triage::TriageOptions o;
    o.budget = ts.budget;
    o.step_timeout = std::min(std::chrono::milliseconds(3000), std::max(std::chrono::milliseconds(500), ts.budget / 3));
    o.proxy = shared;
    o.resolve = s.resolve;
    o.tls.extra_ca_file = s.cacert;
    o.tls.ca_file_override = s.ca_file_override;
    o.tls.ca_dir_override = s.ca_dir_override;
    o.captive_probe_url = ts.captive_probe_url;
    o.captive_explicit = ts.captive_explicit;
    o.config = config_of(s, *ctx.env);
    o.env = ctx.env;
    if (auto colon = s.proxy.proxy_user.find(':'); colon != std::string::npos) {
        o.secrets.push_back(s.proxy.proxy_user.substr(colon + 1));
    }
    for (const char* var : {"https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"}) {
        if (auto v = ctx.env->get(var)) {
            if (auto p = parse_proxy_url(*v, var); p && !p->password.empty()) o.secrets.push_back(p->password);
        }
    }
    if (s.proxy.proxy) {
        if (auto p = parse_proxy_url(*s.proxy.proxy, "--proxy"); p && !p->password.empty())
            o.secrets.push_back(p->password);
    }
    return triage::run_triage(targets, o, **transport, ctx.cancel);
}

std::string render_text(const triage::TriageReport& r) {
    char head[160];
    std::snprintf(head, sizeof head, "network triage (%.1f s of a %.1f s budget%s):\n",
                  static_cast<double>(r.elapsed.count()) / 1000.0, static_cast<double>(r.budget.count()) / 1000.0,
                  r.budget_exhausted ? ", ran out" : "");
    std::string out = head;
    out += "  " + fixed("LAYER", 10) + " " + fixed("STATUS", 7) + " " + fixed("TIME", 8) + " " + fixed("TARGET", 34) +
           " FINDING\n";
    for (const auto& f : r.findings) {
        std::string time = f.elapsed.count() > 0 ? std::to_string(f.elapsed.count()) + " ms" : "";
        std::string status = to_string(f.status);
        if (f.status == triage::Mark::fail) status = "FAIL";
        std::string summary = f.summary;
        for (const auto& [k, v] : f.facts) summary += "; " + k + " " + v;
        out += "  " + fixed(to_string(f.layer), 10) + " " + fixed(status, 7) + " " + fixed(time, 8) + " " +
               fixed(f.target.empty() ? "-" : f.target, 34) + " " + sanitize_for_display(summary, 400) + "\n";
    }
    out += std::string("verdict (") + to_string(r.verdict.health) + "): " + r.verdict.title + "\n";
    out += "next step: " + r.verdict.action + "\n";
    return out;
}

void print_report(OutputMode mode, const triage::TriageReport& r, std::FILE* out) {
    if (mode == OutputMode::json) {
        auto s = to_json(r).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        std::fprintf(stdout, "%s\n", s.c_str());
        std::fflush(stdout);
        return;
    }
    std::fputs(render_text(r).c_str(), out);
    std::fflush(out);
}

int report_failure(Reporter& reporter, const Error& err, const Settings& s, Context& ctx) {
    bool run = s.triage.enabled && is_network_failure(err) && !(ctx.cancel && ctx.cancel->cancelled());
    std::vector<triage::Target> targets = run ? failure_targets(s, err) : std::vector<triage::Target>{};
    run = run && !targets.empty();
    if (!run || reporter.mode() == OutputMode::json) {
        // JSON: the triage event comes first so that the final result stays the last line.
        if (run) {
            if (auto rep = run_cli_triage(s, targets, ctx)) print_report(OutputMode::json, *rep, stdout);
        }
        return report_error(reporter, err);
    }
    int code = report_error(reporter, err);
    std::fprintf(stderr, "goinstall: checking the network (at most %.0f s; --no-triage skips this)...\n",
                 static_cast<double>(s.triage.budget.count()) / 1000.0);
    auto rep = run_cli_triage(s, targets, ctx);
    if (!rep) {
        std::fprintf(stderr, "goinstall: network triage could not run: %s\n", rep.error().describe().c_str());
        return code;
    }
    print_report(reporter.mode(), *rep, stderr);
    return code;
}

} // namespace goinstall::cli
