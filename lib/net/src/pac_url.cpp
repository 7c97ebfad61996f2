// pac_url (pac.hpp): what a PAC script is allowed to see of a request's URL.
#include "goinstall/base/url.hpp"
#include "goinstall/net/pac.hpp"

namespace goinstall {

std::string pac_url(std::string_view url) {
    auto u = parse_url(url);
    if (!u) {
        return "";
    }
    const bool origin_only = u->scheme == "https" || u->scheme == "wss";
    const unsigned default_port = origin_only ? 443 : (u->scheme == "http" || u->scheme == "ws") ? 80 : 0;
    std::string out = u->scheme + "://";
    out += u->host.find(':') != std::string::npos ? "[" + u->host + "]" : u->host;
    if (u->port && *u->port != default_port) {
        out += ":" + std::to_string(*u->port);
    }
    if (origin_only) {
        return out + "/";
    }
    const auto& pq = u->path_and_query;
    return out + pq.substr(0, pq.find('#'));
}

} // namespace goinstall
