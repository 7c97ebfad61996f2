#pragma once
// Helpers for the system proxy tests: a readable one-line form of a parse result (so a failed CHECK
// shows both sides), fixtures, and a scripted CommandRunner.

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "../fakes/temp_dir.hpp"
#include "goinstall/platform/system_proxy.hpp"

namespace goinstall::test {

inline std::string describe(const std::optional<SystemProxy>& p) {
    if (!p) {
        return "nullopt";
    }
    const char* mode = p->mode == SystemProxy::Mode::manual     ? "manual"
                       : p->mode == SystemProxy::Mode::auto_pac ? "auto_pac"
                                                                : "none";
    std::string out = std::string(mode) + " https=" + p->https_proxy + " http=" + p->http_proxy +
                      " socks=" + p->socks_proxy + " pac=" + p->pac_url + " ignore=[";
    for (std::size_t i = 0; i < p->ignore_hosts.size(); ++i) {
        out += (i ? "|" : "") + p->ignore_hosts[i];
    }
    return out + "]";
}

// A SystemProxy without `source`, for table rows.
inline SystemProxy proxy(SystemProxy::Mode mode, std::string https, std::string http, std::string socks = {},
                         std::string pac = {}, std::vector<std::string> ignore = {}) {
    SystemProxy p;
    p.mode = mode;
    p.https_proxy = std::move(https);
    p.http_proxy = std::move(http);
    p.socks_proxy = std::move(socks);
    p.pac_url = std::move(pac);
    p.ignore_hosts = std::move(ignore);
    return p;
}

inline std::string fixture(const std::string& name) {
    return read_text(std::filesystem::path(GOINSTALL_FIXTURES_DIR) / "system_proxy" / name);
}

// Answers argv (joined with spaces) from a script; unknown commands "cannot run". Records calls.
struct ScriptedRunner {
    std::map<std::string, std::optional<std::string>> script;
    std::vector<std::string> calls;

    CommandRunner runner() {
        return [this](const std::vector<std::string>& argv) -> std::optional<std::string> {
            std::string line;
            for (const auto& a : argv) {
                line += (line.empty() ? "" : " ") + a;
            }
            calls.push_back(line);
            auto it = script.find(line);
            return it == script.end() ? std::nullopt : it->second;
        };
    }
};

} // namespace goinstall::test
