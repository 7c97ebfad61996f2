// The verdict's note on the route that still works: when the release index (or its mirrors) cannot
// be reached but a module proxy and a checksum database can, installs go on through Go's toolchain
// modules, and the user is told so next to what is wrong with the index.
#include <algorithm>

#include "goinstall/base/url.hpp"
#include "report_text.hpp"

namespace goinstall::triage {

namespace {

// The part of a probed URL that names the source: a proxy's base before "/golang.org/toolchain",
// a database's base before "/latest" or "/sumdb/<name>/supported" (the proxy that serves it).
std::string source_of(const TargetObservation& t) {
    std::string url = redact_url(t.target.url);
    for (std::string_view tail : {"/golang.org/toolchain/", "/sumdb/", "/latest"}) {
        if (auto at = url.find(tail); at != std::string::npos) return url.substr(0, at);
    }
    return url;
}

std::string working(const Observations& obs, Role role) {
    std::vector<std::string> names;
    for (const auto& t : obs.targets) {
        if (t.target.role != role || !target_ok(t)) continue;
        std::string name = source_of(t);
        if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(std::move(name));
    }
    return join(names, ", ");
}

} // namespace

Verdict note_working_route(const Observations& obs, Verdict verdict) {
    const bool index_route_dead = role_dead(obs, Role::index) || role_dead(obs, Role::mirror);
    if (!index_route_dead || !module_route_works(obs)) return verdict;
    std::string proxies = working(obs, Role::goproxy);
    std::string databases = working(obs, Role::sumdb);
    verdict.title += " Installs work through the module proxy: GOPROXY " + proxies + " serves Go's toolchain modules" +
                     (databases.empty() ? std::string(".") : ", checked by the checksum database " + databases + ".");
    verdict.action += "; meanwhile goinstall installs through GOPROXY by itself once the index fails (--via goproxy "
                      "goes there first)";
    return verdict;
}

} // namespace goinstall::triage
