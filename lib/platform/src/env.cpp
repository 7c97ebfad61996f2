#include "goinstall/platform/env.hpp"

#include <cstdlib>
#include <string_view>

#if defined(__APPLE__)
#include <crt_externs.h>
#elif !defined(_WIN32)
extern char** environ; // NOLINT: POSIX declares it without a header on some libcs
#endif

namespace goinstall {

std::optional<std::string> SystemEnv::get(const std::string& name) const {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) {
        return std::nullopt;
    }
    return std::string(v);
}

std::map<std::string, std::string> SystemEnv::all() const {
    std::map<std::string, std::string> out;
#if defined(__APPLE__)
    char** entries = *_NSGetEnviron();
#elif defined(_WIN32)
    char** entries = _environ;
#else
    char** entries = environ;
#endif
    for (char** e = entries; e != nullptr && *e != nullptr; ++e) {
        const std::string_view entry(*e);
        const auto eq = entry.find('=');
        if (eq == std::string_view::npos || eq == 0) continue; // not NAME=value
        out.try_emplace(std::string(entry.substr(0, eq)), entry.substr(eq + 1));
    }
    return out;
}

std::optional<std::string> MapEnv::get(const std::string& name) const {
    auto it = m_vars.find(name);
    if (it == m_vars.end()) {
        return std::nullopt;
    }
    return it->second;
}

} // namespace goinstall
