// real_command_runner: gsettings/scutil through run_subprocess — no shell, bounded in time and output.

#include "goinstall/platform/subprocess.hpp"
#include "goinstall/platform/system_proxy.hpp"

namespace goinstall {

namespace {

constexpr std::size_t k_max_output = 64 * 1024; // scutil/gsettings print about 1 KB for the proxy settings

} // namespace

CommandRunner real_command_runner(const Env& env, std::chrono::milliseconds timeout,
                                  const std::map<std::string, std::string>& env_overrides) {
#if defined(_WIN32)
    (void)env;
    (void)timeout;
    (void)env_overrides;
    return [](const std::vector<std::string>&) -> std::optional<std::string> { return std::nullopt; };
#else
    // The environment is taken now: the runner may outlive `env`.
    auto child_env = environment_for_child(env, env_overrides);
    return [timeout,
            child_env = std::move(child_env)](const std::vector<std::string>& argv) -> std::optional<std::string> {
        SubprocessOptions o;
        o.argv = argv;
        o.search_path = true;
        o.env = child_env;
        o.stderr_to = SubprocessOptions::Stderr::discard;
        o.limits.deadline = timeout;
        o.limits.max_output = k_max_output;
        auto r = run_subprocess(o);
        if (!r || !r->ok()) return std::nullopt;
        return std::move(r->out);
    };
#endif
}

CommandRunner real_command_runner(std::chrono::milliseconds timeout,
                                  const std::map<std::string, std::string>& env_overrides) {
    return real_command_runner(SystemEnv(), timeout, env_overrides);
}

} // namespace goinstall
