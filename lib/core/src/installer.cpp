#include "goinstall/core/installer.hpp"

#include "goinstall/core/index_route.hpp"

namespace goinstall {

bool route_unreachable(const Error& error) {
    switch (error.code()) {
    case ErrorCode::network:
    case ErrorCode::tls:
    case ErrorCode::proxy_auth:
    case ErrorCode::index_invalid: return true;
    default: return false;
    }
}

namespace {

// The second route's failure after the first's: a security error stands alone; otherwise the
// first route's error (the one the user chose first) names both, and the attempt logs are joined.
Error both_failed(const Error& first, const Error& second, const std::string& second_name) {
    if (second.code() == ErrorCode::security) return second;
    Error out(first.code(), first.describe() + "; " + second_name + ": " + second.describe());
    if (first.net()) out.with_net(*first.net());
    out.with_tried(first.tried());
    out.with_tried(second.tried());
    return out;
}

} // namespace

Result<InstallOutcome> Installer::install(const InstallRequest& rq, const CancelToken* cancel) {
    InstallPipeline pipeline(m_fs, m_events);
    auto via_index = [&]() {
        IndexMirrorRoute route(m_transport, m_clock, m_events,
                               IndexRouteOptions{rq.spec, rq.platform, rq.index, rq.download, rq.sha256_override});
        return pipeline.run(route, rq, rq.spec, rq.platform, cancel);
    };
    const bool h1_given = rq.sha256_override.starts_with("h1:");
    if (!rq.modules) {
        if (h1_given) {
            return fail(ErrorCode::usage, "--sha256 " + rq.sha256_override.substr(0, 16) +
                                              "...: an h1: hash names a module zip, which only the module proxy route "
                                              "installs (GOPROXY is off)");
        }
        return via_index();
    }
    auto via_modules = [&]() {
        GoproxyRouteOptions o = *rq.modules;
        o.spec = rq.spec;
        o.platform = rq.platform;
        o.sha256_override = rq.sha256_override;
        GoproxyRoute route(m_transport, m_clock, m_events, std::move(o));
        return pipeline.run(route, rq, rq.spec, rq.platform, cancel);
    };
    if (h1_given || !rq.use_index) return via_modules(); // nothing else can check an h1: hash
    // A hex --sha256 pins the first route's file (the archive, or with --via goproxy the zip): the
    // other route's file cannot match it, so there is no falling back.
    const bool pinned = !rq.sha256_override.empty();
    if (rq.modules_first) {
        auto out = via_modules();
        if (out || pinned || !route_unreachable(out.error()) || (cancel && cancel->cancelled())) return out;
        m_events.emit(Event{EventKind::route, "the module proxy could not be reached (" + out.error().message() +
                                                  "); trying the release index"}
                          .with("route", "index"));
        auto second = via_index();
        if (second) return second;
        return std::unexpected(both_failed(out.error(), second.error(), "the release index"));
    }
    auto out = via_index();
    if (out || pinned || !route_unreachable(out.error()) || (cancel && cancel->cancelled())) return out;
    m_events.emit(Event{EventKind::route, "no release index source or mirror could be reached; trying the module "
                                          "proxy (GOPROXY) and the checksum database (GOSUMDB)"}
                      .with("route", "goproxy"));
    auto second = via_modules();
    if (second) return second;
    return std::unexpected(both_failed(out.error(), second.error(), "the module proxy route"));
}

} // namespace goinstall
