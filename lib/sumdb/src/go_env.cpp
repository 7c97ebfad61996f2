#include "goinstall/sumdb/go_env.hpp"

#include "goinstall/base/strings.hpp"
#include "goinstall/base/url.hpp"

namespace goinstall::sumdb {
namespace {

std::unexpected<Error> bad_goproxy(const std::string& why) { return fail(ErrorCode::usage, "GOPROXY: " + why); }
std::unexpected<Error> bad_gosumdb(const std::string& why) { return fail(ErrorCode::usage, "GOSUMDB: " + why); }

std::string shown(std::string_view s) { return "'" + sanitize_for_display(redact_url(s), 200) + "'"; }

// A database name: host[/path], the host of letters, digits, '.', '-' (and ":port").
bool is_db_name(std::string_view name) {
    if (name.empty() || name.front() == '/' || name.back() == '/' || name.front() == '.') return false;
    for (char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                        c == '-' || c == '/' || c == ':' || c == '_';
        if (!ok) return false;
    }
    return name.find("//") == std::string_view::npos && name.find("..") == std::string_view::npos;
}

std::vector<std::string_view> fields(std::string_view s) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; };
    while (i < s.size()) {
        while (i < s.size() && space(s[i])) ++i;
        const std::size_t start = i;
        while (i < s.size() && !space(s[i])) ++i;
        if (i > start) out.push_back(s.substr(start, i - start));
    }
    return out;
}

} // namespace

Result<std::vector<ProxyEntry>> parse_goproxy(std::string_view value) {
    if (trim(value).empty()) value = k_default_goproxy;
    std::vector<ProxyEntry> out;
    std::string_view rest = value;
    bool more = true;
    while (more && !rest.empty()) {
        const auto sep = rest.find_first_of(",|");
        std::string_view item = rest.substr(0, sep);
        const bool any_error = sep != std::string_view::npos && rest[sep] == '|';
        if (sep == std::string_view::npos) {
            rest = {};
        } else {
            rest.remove_prefix(sep + 1);
        }
        item = trim(item);
        if (item.empty()) continue;
        if (item == "off" || item == "direct") {
            out.push_back({item == "off" ? ProxyEntry::Kind::off : ProxyEntry::Kind::direct, "", false});
            more = false; // cmd/go ignores what follows, for forward compatibility
            continue;
        }
        std::string url(item);
        // cmd/go: single words are reserved; anything with '.', ':' or '/' and no ":/" is a host.
        if (url.find_first_of(".:/") != std::string::npos && url.find(":/") == std::string::npos &&
            url.front() != '/') {
            url = "https://" + url;
        }
        auto parsed = parse_url(url);
        if (!parsed) return bad_goproxy(shown(item) + " is not a URL, 'direct' or 'off'");
        if (parsed->scheme != "https" && parsed->scheme != "http" && parsed->scheme != "file") {
            return bad_goproxy(shown(item) + ": unsupported scheme " + parsed->scheme + " (want https, http or file)");
        }
        if (parsed->scheme != "file" && parsed->host.empty()) return bad_goproxy(shown(item) + " has no host");
        out.push_back({ProxyEntry::Kind::url, url, any_error});
    }
    if (out.empty()) return bad_goproxy("list " + shown(value) + " contains no entries");
    return out;
}

Result<SumdbSetting> parse_gosumdb(std::string_view value) {
    std::string text(trim(value));
    if (text.empty()) text = "sum.golang.org";
    if (text == "sum.golang.google.cn") text = "sum.golang.org https://sum.golang.google.cn"; // cmd/go dbDial's alias
    SumdbSetting out;
    if (text == "off") {
        out.off = true;
        return out;
    }
    const auto f = fields(text);
    if (f.size() > 2) return bad_gosumdb("too many fields in " + shown(text));
    std::string_view key_text = f[0];
    if (key_text == "sum.golang.org") key_text = k_sum_golang_org_key; // cmd/go's knownGOSUMDB
    auto key = parse_verifier_key(key_text);
    if (!key) {
        return bad_gosumdb(key_text.find('+') == std::string_view::npos
                               ? shown(key_text) + " is neither 'off' nor a verifier key (name+hash+key)"
                               : key.error().message());
    }
    if (!is_db_name(key->name)) return bad_gosumdb("database name " + shown(key->name) + " is not host[/path]");
    out.key = std::move(*key);
    if (f.size() == 2) {
        auto url = parse_url(f[1]);
        if (!url || (url->scheme != "https" && url->scheme != "http") || url->host.empty()) {
            return bad_gosumdb(shown(f[1]) + " is not an https or http URL");
        }
        out.url = std::string(f[1]);
    }
    return out;
}

} // namespace goinstall::sumdb
