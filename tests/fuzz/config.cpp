// Fuzzes the config file reader, parse_config_text (installer/settings_config.hpp; the CLI has no
// library of its own, so this target compiles installer/settings_config.cpp beside it).
// Properties: failures are usage errors naming the source; they never show a password (a marker
// the seeds place as the password of URLs in secret values such as "proxy" and "mirrors" never
// appears in a message, unless the input also has it elsewhere); every key in
// the result is a known config key; path values are absolute.
#include "fuzz_check.hpp"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "goinstall/base/url.hpp"
#include "settings_config.hpp"

using namespace goinstall;

namespace {

constexpr std::string_view k_marker = "Mk7pQ2zW";

// True when the marker is in `j` anywhere but in the password of a URL inside a secret value.
bool marker_outside_passwords(const nlohmann::json& j, bool secret) {
    if (j.is_string()) {
        std::string s = j.get<std::string>();
        if (secret) {
            if (auto url = parse_url(s); url && url->userinfo.find(':') != std::string::npos) {
                auto at = s.find(url->userinfo);
                auto colon = url->userinfo.find(':');
                if (at != std::string::npos) s.erase(at + colon + 1, url->userinfo.size() - colon - 1);
            }
        }
        return s.find(k_marker) != std::string::npos;
    }
    if (j.is_object()) {
        for (const auto& [k, v] : j.items()) {
            if (k.find(k_marker) != std::string::npos || marker_outside_passwords(v, false)) return true;
        }
    }
    if (j.is_array()) {
        for (const auto& v : j) {
            if (marker_outside_passwords(v, secret)) return true;
        }
    }
    return false;
}

// True when the marker appears only as the password of URLs in secret values (where no message
// may show it).
bool marker_only_in_passwords(std::string_view text) {
    auto doc = nlohmann::json::parse(text, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) return text.find(k_marker) == std::string_view::npos;
    for (const auto& [k, v] : doc.items()) {
        const auto* key = cli::find_config_key(k);
        if (k.find(k_marker) != std::string::npos) return false;
        if (marker_outside_passwords(v, key != nullptr && key->secret)) return false;
    }
    return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto text = fuzz::as_text(data, size);
    auto values = cli::parse_config_text(text, "/etc/goinstall/config.json", "/etc/goinstall", "/home/user");
    if (!values) {
        const auto& msg = values.error().message();
        FUZZ_CHECK(values.error().code() == ErrorCode::usage, msg);
        FUZZ_CHECK(msg.find("/etc/goinstall/config.json") != std::string::npos, msg);
        if (marker_only_in_passwords(text)) FUZZ_CHECK(msg.find(k_marker) == std::string::npos, msg);
        return 0;
    }
    for (const auto& [key, value] : *values) {
        const auto* known = cli::find_config_key(key);
        FUZZ_CHECK(known != nullptr, key);
        if (known->type == cli::ConfigType::path) {
            FUZZ_CHECK(std::filesystem::path(value).is_absolute(), key + " = " + value);
        }
    }
    return 0;
}
