#pragma once
// The one way goinstall runs another program (`go version`, gsettings, scutil) and watches a forked
// child (the PAC evaluator): one deadline for the whole child, exit included; capped output;
// cancellation; the child in its own process group, which is SIGKILLed whole when the run ends; the
// child always reaped. Nothing the child does — closing its output, flooding it, sleeping, leaving
// grandchildren that hold the pipe — makes the caller wait past the deadline.

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "goinstall/base/cancel.hpp"
#include "goinstall/base/error.hpp"
#include "goinstall/platform/env.hpp"

namespace goinstall {

// How long a run may take and how much it may print.
struct SubprocessLimits {
    // From the start until the child has exited and its output pipes are closed. At the deadline the
    // process group is killed and the run ends timed_out.
    std::chrono::milliseconds deadline{30000};
    // Per stream. A stream that passes it keeps its first max_output bytes, is flagged truncated and
    // its pipe is closed (a child that keeps writing gets SIGPIPE/EPIPE).
    std::size_t max_output = 64 * 1024;
    // Polled at least every 50 ms; once set, the group is killed and the run ends cancelled.
    const CancelToken* cancel = nullptr;
};

struct SubprocessOptions {
    std::vector<std::string> argv; // argv[0] is a path, or with search_path a name looked up in PATH
    bool search_path = false;
    // "NAME=value" entries (environment_for_child builds them from an Env); nullopt: this process's.
    std::optional<std::vector<std::string>> env;
    std::filesystem::path cwd; // "" = this process's
    // Where the child's stderr goes: its own capture, the stdout pipe (interleaved), or /dev/null.
    enum class Stderr { capture, merge, discard } stderr_to = Stderr::capture;
    SubprocessLimits limits;
};

struct SubprocessResult {
    // exited/signalled: the child ended by itself (or by the signal) before the deadline. timed_out
    // and cancelled: goinstall ended it; exit_code/signal then describe that kill.
    enum class End { exited, signalled, timed_out, cancelled } end = End::exited;
    int exit_code = -1; // when exited
    int signal = 0;     // when signalled (or the signal the kill delivered)
    std::string out;    // stdout (with Stderr::merge, stderr too), at most max_output bytes
    std::string err;    // stderr with Stderr::capture
    bool out_truncated = false;
    bool err_truncated = false;

    // Exited with status 0 and nothing truncated.
    bool ok() const { return end == End::exited && exit_code == 0 && !out_truncated && !err_truncated; }
    // "exit 3", "killed by signal 9", "timed out", "cancelled".
    std::string describe_end() const;
};

// Runs options.argv with stdin on /dev/null, SIGPIPE/SIGINT/SIGTERM at their defaults and no signal
// blocked, in a new process group, and supervises it (supervise_child). Returns once the child is
// reaped and no member of its group is left. Fails only when the child cannot be started: not_found
// (no such file or command), permission (not executable), usage (empty argv), internal otherwise; the
// message names argv[0] and the OS reason.
Result<SubprocessResult> run_subprocess(const SubprocessOptions& options);

// A child started by other means (fork without exec) for supervise_child.
struct ChildProcess {
    int pid = -1;    // should lead its own process group (setpgid in both parent and child)
    int out_fd = -1; // read end of its stdout pipe, or -1
    int err_fd = -1; // read end of its stderr pipe, or -1
};

// Reads the child's pipes until the child has exited and both pipes are at EOF, or `deadline`
// (counted from `started`) passes, or limits.cancel is set. Then SIGKILLs the process group (and the
// child itself, in case it does not lead one) while the unreaped child still holds the group id,
// closes both fds and reaps the child. Always returns with the child reaped.
SubprocessResult supervise_child(ChildProcess child, std::chrono::steady_clock::time_point started,
                                 const SubprocessLimits& limits);

// `env`'s variables with those named in `unset` removed and `set` replacing or adding, as
// "NAME=value" entries for SubprocessOptions::env.
std::vector<std::string> environment_for_child(const Env& env, const std::map<std::string, std::string>& set = {},
                                               const std::vector<std::string>& unset = {});

// A pipe whose both ends are close-on-exec (so children spawned concurrently by other threads do not
// inherit them). False on failure, errno set.
bool make_cloexec_pipe(int fds[2]);

} // namespace goinstall
