// Probes that need a machine without network: run in a child of this test binary inside a new
// network namespace (`unshare -rn`: only a down loopback, no routes), so nothing can leave the
// machine. The child runs the hidden test case below and reports through its exit code.

#include <catch2/catch.hpp>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "goinstall/triage/probes.hpp"

extern char** environ;

using namespace goinstall::triage;
using namespace std::chrono_literals;

namespace {
const char* k_marker_env = "GOINSTALL_TRIAGE_NETNS_MARKER";
}

TEST_CASE("triage probes in a namespace without network (child side)", "[.triage-netns]") {
    const char* marker = std::getenv(k_marker_env);
    if (marker == nullptr) return; // only meaningful when started by the parent test below
    std::ofstream(marker) << "ran\n";

    TcpResult v6 = probe_tcp("2001:db8::1", 443, 500ms, nullptr);
    CHECK(v6.status == TcpStatus::unreachable);
    CHECK((v6.os_errno == ENETUNREACH || v6.os_errno == EADDRNOTAVAIL)); // Linux / gVisor
    TcpResult v4 = probe_tcp("192.0.2.1", 443, 500ms, nullptr);
    CHECK(v4.status == TcpStatus::unreachable);

    TlsResult tls = probe_tls("192.0.2.1", 443, "go.dev", {}, nullptr);
    CHECK(tls.status == TlsStatus::connect_failed);

    // The resolver's nameserver is unreachable here: a quick failure, never ok.
    DnsResult dns = resolve_system("proxy.corp.invalid", 1000ms, nullptr);
    CHECK(dns.status != DnsStatus::ok);
    CHECK(dns.status != DnsStatus::timeout);

    goinstall::ProxySpec proxy;
    proxy.host = "proxy.corp.invalid";
    proxy.port = 3128;
    proxy.user = "alice";
    proxy.password = "s3cr3t-PW";
    ProxyHopResult hop = probe_proxy(proxy, "go.dev", 443, 1000ms, nullptr);
    CHECK(hop.status == ProxyHopStatus::unresolvable);
    CHECK_THAT(hop.detail, Catch::Contains("proxy.corp.invalid"));
    CHECK(hop.detail.find("s3cr3t-PW") == std::string::npos);
    CHECK(hop.proxy == "http://alice:***@proxy.corp.invalid:3128");

    LocalContext ctx = read_local_context(goinstall::MapEnv({}));
    CHECK(ctx.default_routes.empty());
    CHECK_FALSE(ctx.has_ipv6_default_route);
    CHECK_FALSE(ctx.has_global_ipv6);
}

TEST_CASE("probes without network: unreachable and unresolvable", "[triage][netns]") {
    char self[4096] = {};
    ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
    REQUIRE(n > 0);
    std::string marker = "/tmp/goinstall-triage-netns-" + std::to_string(::getpid());
    ::unlink(marker.c_str());
    ::setenv(k_marker_env, marker.c_str(), 1);
    const char* argv[] = {"unshare", "-rn", self, "[.triage-netns]", nullptr};
    pid_t pid = 0;
    int rc = ::posix_spawnp(&pid, "unshare", nullptr, nullptr, const_cast<char* const*>(argv), environ);
    ::unsetenv(k_marker_env);
    if (rc != 0) {
        WARN("unshare is not available: namespace tests skipped");
        return;
    }
    int status = 0;
    pid_t done = 0;
    for (int i = 0; i < 200 && done == 0; ++i) { // at most 10 s
        done = ::waitpid(pid, &status, WNOHANG);
        if (done == 0) std::this_thread::sleep_for(50ms);
    }
    if (done == 0) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        FAIL("the namespace child did not finish within 10 s");
    }
    bool ran = std::ifstream(marker).good();
    ::unlink(marker.c_str());
    if (!ran) {
        WARN("cannot create a network namespace here (unshare -rn failed): namespace tests skipped");
        return;
    }
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0); // the child's checks passed (run it with "[.triage-netns]" to see them)
}
