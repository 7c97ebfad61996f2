#include "goinstall/core/installer.hpp"

#include "goinstall/core/index_route.hpp"
#include "goinstall/release/version_spec.hpp"

namespace goinstall {

Result<InstallOutcome> Installer::install(const InstallRequest& rq, const CancelToken* cancel) {
    auto spec = parse_version_spec(rq.spec);
    if (!spec) return std::unexpected(spec.error());
    IndexMirrorRoute route(m_transport, m_clock, m_events,
                           IndexRouteOptions{rq.spec, rq.platform, rq.index, rq.download, rq.sha256_override});
    PipelineRequest prq;
    prq.spec = *spec;
    prq.spec_text = rq.spec;
    prq.platform = rq.platform;
    prq.layout = rq.layout;
    prq.reinstall = rq.reinstall;
    prq.switch_current = rq.switch_current;
    prq.lock_timeout = rq.lock_timeout;
    InstallPipeline pipeline(m_fs, m_events);
    return pipeline.run(route, prq, cancel);
}

} // namespace goinstall
