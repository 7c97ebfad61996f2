#include "goinstall/core/installer.hpp"

#include "goinstall/core/index_route.hpp"

namespace goinstall {

Result<InstallOutcome> Installer::install(const InstallRequest& rq, const CancelToken* cancel) {
    IndexMirrorRoute route(m_transport, m_clock, m_events,
                           IndexRouteOptions{rq.spec, rq.platform, rq.index, rq.download, rq.sha256_override});
    return InstallPipeline(m_fs, m_events).run(route, rq, rq.spec, rq.platform, cancel);
}

} // namespace goinstall
