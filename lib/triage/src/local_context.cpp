// Local network context: interfaces (getifaddrs), default routes (/proc/net/route and
// /proc/net/ipv6_route, see proc(5) and the kernel's net/ipv4/fib_trie.c, net/ipv6/route.c),
// nameservers (resolv.conf) and container markers. The parsers are pure and table-tested.

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <sys/stat.h>

#include "goinstall/base/strings.hpp"
#include "goinstall/triage/probes.hpp"
#include "socket_util.hpp"

namespace goinstall::triage {

namespace {

constexpr unsigned k_rtf_up = 0x0001;      // RTF_UP, <linux/route.h>
constexpr unsigned k_rtf_gateway = 0x0002; // RTF_GATEWAY
constexpr unsigned k_rtf_reject = 0x0200;  // RTF_REJECT

std::vector<std::string_view> fields(std::string_view line) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
        std::size_t start = i;
        while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') ++i;
        if (i > start) out.push_back(line.substr(start, i - start));
    }
    return out;
}

std::optional<std::uint32_t> hex32(std::string_view s) {
    if (s.empty() || s.size() > 8) return std::nullopt;
    std::uint32_t v = 0;
    for (char c : s) {
        int d = (c >= '0' && c <= '9')   ? c - '0'
                : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                         : -1;
        if (d < 0) return std::nullopt;
        v = (v << 4) | static_cast<std::uint32_t>(d);
    }
    return v;
}

void add_unique(std::vector<DefaultRoute>& routes, DefaultRoute route) {
    bool seen = std::any_of(routes.begin(), routes.end(), [&](const DefaultRoute& r) {
        return r.interface == route.interface && r.gateway == route.gateway && r.ipv6 == route.ipv6;
    });
    if (!seen) routes.push_back(std::move(route));
}

std::string read_text(const char* path, std::size_t limit = 64 * 1024) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return {};
    std::string out(limit, '\0');
    in.read(out.data(), static_cast<std::streamsize>(limit));
    out.resize(static_cast<std::size_t>(in.gcount()));
    return out;
}

bool exists(const char* path) {
    struct stat st {};
    return ::stat(path, &st) == 0;
}

bool contains_ci(std::string_view hay, std::string_view needle) {
    return to_lower(hay).find(needle) != std::string::npos;
}

} // namespace

std::vector<DefaultRoute> parse_proc_net_route(std::string_view text) {
    // Iface Destination Gateway Flags RefCnt Use Metric Mask MTU Window IRTT; addresses are the
    // kernel's __be32 printed with %08X as a host-order integer, so the bytes in memory order
    // are the address.
    std::vector<DefaultRoute> out;
    for (const auto& line : split(text, '\n')) {
        auto f = fields(line);
        if (f.size() < 8 || f[0] == "Iface") continue;
        auto dest = hex32(f[1]), gw = hex32(f[2]), flags = hex32(f[3]), mask = hex32(f[7]);
        if (!dest || !gw || !flags || !mask) continue;
        if (*dest != 0 || *mask != 0 || (*flags & k_rtf_up) == 0 || (*flags & k_rtf_reject) != 0) continue;
        DefaultRoute r;
        r.interface = std::string(f[0]);
        if ((*flags & k_rtf_gateway) != 0 && *gw != 0) {
            in_addr a{};
            std::memcpy(&a, &*gw, 4);
            char buf[INET_ADDRSTRLEN] = {};
            ::inet_ntop(AF_INET, &a, buf, sizeof buf);
            r.gateway = buf;
        }
        add_unique(out, std::move(r));
    }
    return out;
}

std::vector<DefaultRoute> parse_proc_net_ipv6_route(std::string_view text) {
    // dest(32 hex) dest_len(2) src(32) src_len(2) next_hop(32) metric refcnt use flags iface
    std::vector<DefaultRoute> out;
    for (const auto& line : split(text, '\n')) {
        auto f = fields(line);
        if (f.size() < 10 || f[0].size() != 32 || f[4].size() != 32) continue;
        auto flags = hex32(f[8]);
        if (!flags || f[0] != std::string(32, '0') || f[1] != "00") continue;
        if ((*flags & k_rtf_up) == 0 || (*flags & k_rtf_reject) != 0 || f[9] == "lo") continue;
        DefaultRoute r;
        r.interface = std::string(f[9]);
        r.ipv6 = true;
        if (f[4] != std::string(32, '0')) {
            unsigned char raw[16];
            bool ok = true;
            for (int i = 0; i < 16 && ok; ++i) {
                auto byte = hex32(f[4].substr(static_cast<std::size_t>(i) * 2, 2));
                ok = byte.has_value();
                raw[i] = static_cast<unsigned char>(byte.value_or(0));
            }
            if (!ok) continue;
            char buf[INET6_ADDRSTRLEN] = {};
            ::inet_ntop(AF_INET6, raw, buf, sizeof buf);
            r.gateway = buf;
        }
        add_unique(out, std::move(r));
    }
    return out;
}

std::string detect_container(bool dockerenv, bool containerenv, std::string_view cgroup, std::string_view osrelease,
                             bool kubernetes_env) {
    if (kubernetes_env || cgroup.find("kubepods") != std::string_view::npos) return "kubernetes";
    if (dockerenv) return "docker";
    if (containerenv) return "podman"; // /run/.containerenv: podman (and buildah)
    if (cgroup.find("/docker/") != std::string_view::npos || cgroup.find("docker-") != std::string_view::npos)
        return "docker";
    if (cgroup.find("libpod") != std::string_view::npos) return "podman";
    if (cgroup.find("/lxc/") != std::string_view::npos || cgroup.find("lxc.payload") != std::string_view::npos)
        return "lxc";
    if (contains_ci(osrelease, "microsoft") || contains_ci(osrelease, "wsl")) return "wsl";
    return {};
}

LocalContext read_local_context(const Env& env) {
    LocalContext ctx;
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) == 0) {
        for (ifaddrs* a = list; a != nullptr; a = a->ifa_next) {
            if (a->ifa_name == nullptr) continue;
            auto it = std::find_if(ctx.interfaces.begin(), ctx.interfaces.end(),
                                   [&](const NetInterface& i) { return i.name == a->ifa_name; });
            if (it == ctx.interfaces.end()) {
                NetInterface n;
                n.name = a->ifa_name;
                ctx.interfaces.push_back(n);
                it = ctx.interfaces.end() - 1;
            }
            it->up = it->up || (a->ifa_flags & IFF_UP) != 0;
            it->loopback = it->loopback || (a->ifa_flags & IFF_LOOPBACK) != 0;
            if (a->ifa_addr == nullptr || (a->ifa_addr->sa_family != AF_INET && a->ifa_addr->sa_family != AF_INET6))
                continue;
            std::string text = detail::address_text(a->ifa_addr);
            if (std::find(it->addresses.begin(), it->addresses.end(), text) == it->addresses.end())
                it->addresses.push_back(text);
            if (a->ifa_addr->sa_family == AF_INET6 && (a->ifa_flags & IFF_UP) != 0 &&
                (a->ifa_flags & IFF_LOOPBACK) == 0 && classify_address(text) == AddressClass::global) {
                ctx.has_global_ipv6 = true;
            }
        }
        ::freeifaddrs(list);
    }
    ctx.default_routes = parse_proc_net_route(read_text("/proc/net/route"));
    for (auto& r : parse_proc_net_ipv6_route(read_text("/proc/net/ipv6_route"))) {
        ctx.has_ipv6_default_route = true;
        ctx.default_routes.push_back(std::move(r));
    }
    ctx.nameservers = nameservers_from_resolv_conf(read_text("/etc/resolv.conf"));
    const auto k8s = env.get("KUBERNETES_SERVICE_HOST");
    ctx.container = detect_container(exists("/.dockerenv"), exists("/run/.containerenv"), read_text("/proc/1/cgroup"),
                                     read_text("/proc/sys/kernel/osrelease"), k8s && !k8s->empty());
    return ctx;
}

} // namespace goinstall::triage
