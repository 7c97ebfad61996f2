// run_go_version: `<go> version` through the one subprocess runner of lib/platform.

#include <string>

#include "goinstall/base/strings.hpp"
#include "goinstall/install/toolchain.hpp"
#include "goinstall/platform/subprocess.hpp"

namespace goinstall {

namespace {

constexpr std::size_t k_max_output = 64 * 1024; // `go version` prints one line of ~40 bytes

// "30 s", "300 ms".
std::string duration_text(std::chrono::milliseconds d) {
    if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + " s";
    return std::to_string(d.count()) + " ms";
}

} // namespace

Result<std::string> run_go_version(const std::filesystem::path& go_binary, std::chrono::milliseconds timeout,
                                   const CancelToken* cancel, const Env* env) {
    const std::string path = go_binary.string();
    SubprocessOptions o;
    o.argv = {path, "version"};
    // Nothing that would make `go` look elsewhere or switch toolchains (Go >= 1.21 honours GOTOOLCHAIN).
    const SystemEnv process_env;
    o.env = environment_for_child(env != nullptr ? *env : process_env, {{"GOTOOLCHAIN", "local"}, {"GOENV", "off"}},
                                  {"GOROOT", "GOTOOLCHAIN", "GOFLAGS", "GOENV"});
    o.stderr_to = SubprocessOptions::Stderr::merge;
    o.limits.deadline = timeout;
    o.limits.max_output = k_max_output;
    o.limits.cancel = cancel;
    auto run = run_subprocess(o);
    if (!run) return fail(ErrorCode::toolchain_check, run.error().message());
    const auto& r = *run;
    if (r.end == SubprocessResult::End::cancelled || (cancel != nullptr && cancel->cancelled())) {
        return fail(ErrorCode::cancelled, "cancelled while checking " + path);
    }
    if (r.end == SubprocessResult::End::timed_out) {
        return fail(ErrorCode::toolchain_check, path + " version did not finish within " + duration_text(timeout) +
                                                    " (its process group was killed)");
    }
    if (r.out_truncated) {
        return fail(ErrorCode::toolchain_check,
                    path + " version printed more than " + std::to_string(k_max_output / 1024) + " KiB");
    }
    auto first_line = std::string(trim(std::string_view(r.out).substr(0, r.out.find('\n'))));
    if (r.end != SubprocessResult::End::exited || r.exit_code != 0) {
        return fail(ErrorCode::toolchain_check,
                    path + " version failed (" + r.describe_end() + "): " + sanitize_for_display(first_line, 200));
    }
    return first_line;
}

} // namespace goinstall
