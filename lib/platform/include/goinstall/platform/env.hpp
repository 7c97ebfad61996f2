#pragma once
// The process environment behind an interface, so engines never call getenv themselves.

#include <map>
#include <optional>
#include <string>

namespace goinstall {

class Env {
public:
    virtual ~Env() = default;
    // The variable's value; nullopt when unset. An empty value is returned as "".
    virtual std::optional<std::string> get(const std::string& name) const = 0;
    // Every variable, for a child process's environment (environment_for_child in subprocess.hpp).
    virtual std::map<std::string, std::string> all() const = 0;
};

// Reads the real environment (getenv / environ) at each call. The installer creates one; engines
// receive it as an Env.
class SystemEnv final : public Env {
public:
    std::optional<std::string> get(const std::string& name) const override;
    // A variable listed twice in environ keeps its first value, as getenv does.
    std::map<std::string, std::string> all() const override;
};

// A fixed map, for tests.
class MapEnv final : public Env {
public:
    explicit MapEnv(std::map<std::string, std::string> vars) : m_vars(std::move(vars)) {}
    std::optional<std::string> get(const std::string& name) const override;
    std::map<std::string, std::string> all() const override { return m_vars; }

private:
    std::map<std::string, std::string> m_vars;
};

} // namespace goinstall
