// The /proc/net route parsers and container detection on captured text, and read_local_context on
// this machine (only invariants that hold anywhere).

#include <catch2/catch.hpp>

#include <map>
#include <string>

#include "goinstall/triage/probes.hpp"

using namespace goinstall::triage;

namespace {

// Captured from a Docker container (tabs and trailing spaces as the kernel prints them).
const char* k_route_docker =
    "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT                    \n"
    "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0                                            \n"
    "eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0                                            \n";

// A laptop: Wi-Fi default via 192.168.1.254 (metric 600), a VPN (tun0, point-to-point, no gateway,
// metric 50), a down route and a reject route that must not count.
const char* k_route_laptop = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
                             "tun0\t00000000\t00000000\t0001\t0\t0\t50\t00000000\t0\t0\t0\n"
                             "wlp2s0\t00000000\tFE01A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0\n"
                             "wlp2s0\t0001A8C0\t00000000\t0001\t0\t0\t600\t00FFFFFF\t0\t0\t0\n"
                             "eth9\t00000000\t0100000A\t0002\t0\t0\t0\t00000000\t0\t0\t0\n"
                             "lo\t00000000\t00000000\t0201\t0\t0\t0\t00000000\t0\t0\t0\n"
                             "garbage line\n";

// Captured from the same container: a default via fd00::1 on eth0 and the kernel's ::/0 reject
// route on lo.
const char* k_ipv6_route_docker = "fd000000000000000000000000000000 40 00000000000000000000000000000000 00 "
                                  "00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0\n"
                                  "fe800000000000000000000000000000 40 00000000000000000000000000000000 00 "
                                  "00000000000000000000000000000000 00000100 00000002 00000000 00000001     eth0\n"
                                  "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
                                  "fd000000000000000000000000000001 00000400 00000003 00000000 00000003     eth0\n"
                                  "00000000000000000000000000000001 80 00000000000000000000000000000000 00 "
                                  "00000000000000000000000000000000 00000000 00000004 00000000 80200001       lo\n"
                                  "ff000000000000000000000000000000 08 00000000000000000000000000000000 00 "
                                  "00000000000000000000000000000000 00000100 00000003 00000000 00000001     eth0\n"
                                  "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
                                  "00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo\n";

// A host without IPv6 connectivity: only the reject route and link-local.
const char* k_ipv6_route_none = "fe800000000000000000000000000000 40 00000000000000000000000000000000 00 "
                                "00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0\n"
                                "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
                                "00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo\n";

bool same(const std::vector<DefaultRoute>& got, const std::vector<DefaultRoute>& want) {
    if (got.size() != want.size()) return false;
    for (std::size_t i = 0; i < got.size(); ++i) {
        if (got[i].interface != want[i].interface || got[i].gateway != want[i].gateway || got[i].ipv6 != want[i].ipv6)
            return false;
    }
    return true;
}

} // namespace

TEST_CASE("parse_proc_net_route finds IPv4 default routes", "[triage][local]") {
    CHECK(same(parse_proc_net_route(k_route_docker), {{"eth0", "192.0.2.1", false}}));
    CHECK(same(parse_proc_net_route(k_route_laptop), {{"tun0", "", false}, {"wlp2s0", "192.168.1.254", false}}));
    CHECK(parse_proc_net_route("").empty());
    CHECK(parse_proc_net_route("Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\n").empty());
}

TEST_CASE("parse_proc_net_ipv6_route finds IPv6 default routes, not the reject route", "[triage][local]") {
    CHECK(same(parse_proc_net_ipv6_route(k_ipv6_route_docker), {{"eth0", "fd00::1", true}}));
    CHECK(parse_proc_net_ipv6_route(k_ipv6_route_none).empty());
    CHECK(parse_proc_net_ipv6_route("").empty());
}

TEST_CASE("detect_container reads the markers", "[triage][local]") {
    struct Case {
        bool dockerenv, containerenv;
        const char* cgroup;
        const char* osrelease;
        bool k8s;
        const char* want;
    };
    auto c = GENERATE(values<Case>({
        {false, false, "0::/\n", "6.1.0-18-amd64\n", false, ""},
        {true, false, "0::/\n", "6.1.0-18-amd64\n", false, "docker"},
        {false, false, "12:pids:/docker/3f1c0a9b2e\n0::/system.slice/docker-3f1c.scope\n", "6.1.0\n", false, "docker"},
        {false, true, "0::/\n", "6.1.0\n", false, "podman"},
        {false, false, "0::/machine.slice/libpod-8e1f.scope/container\n", "6.1.0\n", false, "podman"},
        {false, false, "0::/lxc.payload.web/\n", "6.1.0\n", false, "lxc"},
        {false, false, "11:cpu:/lxc/web\n", "6.1.0\n", false, "lxc"},
        {true, false, "0::/\n", "6.1.0\n", true, "kubernetes"},
        {false, false, "11:memory:/kubepods/burstable/pod1234/abcd\n", "6.1.0\n", false, "kubernetes"},
        {false, false, "0::/\n", "5.15.146.1-microsoft-standard-WSL2\n", false, "wsl"},
        {false, false, "0::/\n", "4.4.0-19041-Microsoft\n", false, "wsl"},
    }));
    CHECK(detect_container(c.dockerenv, c.containerenv, c.cgroup, c.osrelease, c.k8s) == c.want);
}

TEST_CASE("read_local_context reports this machine's loopback", "[triage][local]") {
    LocalContext ctx = read_local_context(goinstall::MapEnv({}));
    bool lo = false;
    for (const auto& i : ctx.interfaces) {
        if (!i.loopback) continue;
        lo = true;
        CHECK(i.up);
        CHECK(std::find(i.addresses.begin(), i.addresses.end(), "127.0.0.1") != i.addresses.end());
    }
    CHECK(lo);
    for (const auto& r : ctx.default_routes) {
        CHECK_FALSE(r.interface.empty());
        CHECK(r.interface != "lo");
        if (!r.gateway.empty()) CHECK(classify_address(r.gateway) != AddressClass::invalid);
    }
    bool v6_route =
        std::any_of(ctx.default_routes.begin(), ctx.default_routes.end(), [](const DefaultRoute& r) { return r.ipv6; });
    CHECK(v6_route == ctx.has_ipv6_default_route);
    for (const auto& ns : ctx.nameservers) CHECK(classify_address(ns) != AddressClass::invalid);
}

TEST_CASE("read_local_context takes KUBERNETES_SERVICE_HOST from the Env it is given", "[triage][local]") {
    CHECK(read_local_context(
              goinstall::MapEnv(std::map<std::string, std::string>{{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}}))
              .container == "kubernetes");
    CHECK(read_local_context(goinstall::MapEnv(std::map<std::string, std::string>{{"KUBERNETES_SERVICE_HOST", ""}}))
              .container != "kubernetes");
}
