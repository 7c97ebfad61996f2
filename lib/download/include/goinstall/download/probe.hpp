#pragma once
// Measures mirrors in parallel, bounded in time: reachability, time to the response head, and
// throughput on the first bytes of the real archive. Ranks them for `--mirror auto`.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "goinstall/base/cancel.hpp"
#include "goinstall/base/clock.hpp"
#include "goinstall/download/downloader.hpp"
#include "goinstall/net/transport.hpp"

namespace goinstall {

struct ProbeResult {
    Mirror mirror;
    bool ok = false; // answered 2xx and sent bytes
    long http_status = 0;
    std::chrono::milliseconds head_time{0}; // request start → response head
    std::uint64_t bytes = 0;
    double bytes_per_second = 0; // over the body bytes received
    std::string error;           // redacted, one line
};

struct ProbeOptions {
    std::uint64_t sample_bytes = 512 * 1024;                       // read this much, then stop
    std::chrono::milliseconds time_limit{std::chrono::seconds(8)}; // per mirror, all in parallel
    TransferLimits limits;                                         // connect timeout etc.
    const Clock* clock = nullptr;                                  // times the samples; nullptr: real time
};

// Probes every mirror at once for `filename`; returns one result per mirror, in input order.
std::vector<ProbeResult> probe_mirrors(Transport& transport, const std::vector<Mirror>& mirrors,
                                       const std::string& filename, const ProbeOptions& options,
                                       const CancelToken* cancel);

// Pure: working mirrors first, fastest throughput first (ties: quicker head); failed ones after, in
// their original order.
std::vector<ProbeResult> rank_probes(std::vector<ProbeResult> results);

} // namespace goinstall
