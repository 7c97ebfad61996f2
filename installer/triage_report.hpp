#pragma once
// Network triage in the CLI: its options, which targets to check after a failure, running it with
// the same proxy and trust settings as the failed request, and rendering the report (a text table
// on stderr, or one {"event":"triage",...} JSON object on stdout). Every string shown comes from
// the report, which is already redacted and scrubbed of proxy and URL passwords.

#include <cxxopts.hpp>
#include <string>
#include <vector>

#include "goinstall/base/events.hpp"
#include "goinstall/triage/report.hpp"
#include "settings.hpp"
#include "verbs.hpp"

namespace goinstall::cli {

// True for failures the network can explain: ErrorCode network, tls or proxy_auth. A version that
// does not exist, a checksum mismatch, a full disk... are never blamed on the network.
bool is_network_failure(const Error& err);

// The targets to check after `err`: the mirrors its attempt log names (Error::tried, with the URLs
// they were asked for), or, when the failure came before any download, the index sources.
std::vector<triage::Target> failure_targets(const Settings& s, const Error& err);

// The index sources and the mirrors in effect; mirror URLs point at `filename` when given.
std::vector<triage::Target> configured_targets(const Settings& s, const std::string& filename);
// The toolchain-module route's sources (none with --via index or --offline): each module proxy's
// golang.org/toolchain/@v/list ("direct" = go.dev/dl/mod), and the checksum database — its URL when
// GOSUMDB names one, else through each proxy (sumdb/<name>/supported) and directly (/latest).
std::vector<triage::Target> module_route_targets(const Settings& s);

// Runs triage on targets with the settings' proxy resolver, CA files, limits and s.triage (budget,
// captive-portal probe).
Result<triage::TriageReport> run_cli_triage(const Settings& s, const std::vector<triage::Target>& targets,
                                            Context& ctx);

// The report as text (a table, then the verdict and the next step), for stderr or stdout.
std::string render_text(const triage::TriageReport& report);

// Prints the report: text on `out` (text and quiet modes), or one JSON line on stdout.
void print_report(OutputMode mode, const triage::TriageReport& report, std::FILE* out);

// Reports `err` like report_error; when it is a network failure and s.triage is enabled, then runs
// triage on the failure's targets and prints its report (text: after the error, on stderr; JSON:
// a "triage" event before the final result). Returns the exit code of `err`.
int report_failure(Reporter& reporter, const Error& err, const Settings& s, Context& ctx);

} // namespace goinstall::cli
