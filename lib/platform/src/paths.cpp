#include "goinstall/platform/paths.hpp"

namespace goinstall {

namespace {

Result<std::filesystem::path> xdg_dir(const Env& env, const char* xdg_var, const char* home_suffix) {
    // XDG spec: a relative path in an XDG variable is invalid and must be ignored.
    if (auto v = env.get(xdg_var); v && !v->empty() && (*v)[0] == '/') {
        return std::filesystem::path(*v) / "goinstall";
    }
    if (auto home = env.get("HOME"); home && !home->empty()) {
        return std::filesystem::path(*home) / home_suffix / "goinstall";
    }
    return fail(ErrorCode::usage, std::string("cannot find a home for goinstall's files: neither ") + xdg_var +
                                      " nor HOME is set (pass --root, or set HOME)");
}

} // namespace

Result<std::filesystem::path> default_root(const Env& env) { return xdg_dir(env, "XDG_DATA_HOME", ".local/share"); }

Result<std::filesystem::path> default_cache_dir(const Env& env) { return xdg_dir(env, "XDG_CACHE_HOME", ".cache"); }

Result<std::filesystem::path> default_config_dir(const Env& env) { return xdg_dir(env, "XDG_CONFIG_HOME", ".config"); }

} // namespace goinstall
