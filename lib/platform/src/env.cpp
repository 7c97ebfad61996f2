#include "goinstall/platform/env.hpp"

#include <cstdlib>

namespace goinstall {

std::optional<std::string> SystemEnv::get(const std::string& name) const {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) {
        return std::nullopt;
    }
    return std::string(v);
}

std::optional<std::string> MapEnv::get(const std::string& name) const {
    auto it = m_vars.find(name);
    if (it == m_vars.end()) {
        return std::nullopt;
    }
    return it->second;
}

} // namespace goinstall
