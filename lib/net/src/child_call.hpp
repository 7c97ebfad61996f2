#pragma once
// Runs a function in a forked child process with a hard time limit. For code that cannot be
// interrupted from inside: a PAC script's native built-ins (`new Array(4e9).join('')` never
// returns to the interpreter's time check). The child is killed at the limit; the caller's process
// never waits longer, whatever the code does.

#include <chrono>
#include <functional>
#include <string>

#include "goinstall/base/error.hpp"

namespace goinstall {

// What happened to the child.
enum class ChildOutcome { ok, failed, timed_out, crashed };

struct ChildResult {
    ChildOutcome outcome = ChildOutcome::crashed;
    std::string text; // fn's answer (ok) or its error text (failed)
};

// Forks; the child (in its own process group) runs `fn` and sends back its string (ok) or error text
// (failed), each cut at max_bytes, then _exits without running destructors or atexit handlers. The
// parent watches it with supervise_child (subprocess.hpp): at most `limit` for the child's answer
// and its exit, then the group is SIGKILLed; the child is always reaped. A child that dies or exits
// without a whole answer is `crashed`. Only for code that is safe after fork() in a
// multi-threaded process: no locks other threads may hold (glibc's malloc is safe), no stdio.
// Fails (internal) only when fork or pipe fail.
Result<ChildResult> call_in_child(const std::function<Result<std::string>()>& fn, std::chrono::milliseconds limit,
                                  std::size_t max_bytes = 64 * 1024);

} // namespace goinstall
