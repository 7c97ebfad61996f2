#include "curl_errors.hpp"

#include <optional>
#include <string>

#include "goinstall/base/strings.hpp"
#include "goinstall/base/url.hpp"

namespace goinstall {

namespace {

std::string seconds_text(long ms) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f s", static_cast<double>(ms) / 1000.0);
    return buf;
}

} // namespace

namespace {

std::string proxy_name(const ProxyChoice& p) { return p.proxy->display() + " (from " + p.source + ")"; }

void replace_all(std::string& text, const std::string& from, const std::string& to) {
    if (from.empty()) return;
    for (auto pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos + to.size())) {
        text.replace(pos, from.size(), to);
    }
}

// The port a CONNECT asked for: the URL's, else its scheme's default; 0 when the URL does not parse.
unsigned tunnel_port(const std::string& url) {
    auto u = parse_url(url);
    if (!u) return 0;
    return u->port.value_or(u->scheme == "http" ? 80U : 443U);
}

// A CONNECT refused: squid's stock configuration (squid.conf.documented: "acl SSL_ports port 443",
// "http_access deny CONNECT !SSL_ports") answers 403 to a tunnel to any other port, and many
// corporate proxies copy that rule, so a mirror on another port says why.
std::string connect_refused(const std::string& name, const NetDetail& d, long connect_code, const Request& request) {
    std::string msg = "the proxy " + name + " refused to connect to " + d.url + " (CONNECT answered " +
                      std::to_string(connect_code) + ")";
    unsigned port = tunnel_port(request.url);
    if (connect_code == 403 && port != 0 && port != 443) {
        msg += ": it may only allow tunnels to port 443 (squid's stock SSL_ports rule) and this server is on port " +
               std::to_string(port) + "; use a mirror on port 443 or ask the proxy's administrators to allow port " +
               std::to_string(port);
    }
    return msg;
}

// CURLE_PROXY from a SOCKS5 proxy that refused the user name and password (RFC 1929 status not 0)
// or wanted credentials none were given for (no acceptable method, RFC 1928 §3: X'FF'); nullopt
// for any other proxy failure.
std::optional<Error> socks_auth_error(CURL* c, const Request& request, const ProxyChoice& p, NetDetail d) {
#if LIBCURL_VERSION_NUM >= 0x074900 // CURLINFO_PROXY_ERROR: 7.73.0
    long px = CURLPX_OK;
    if (curl_easy_getinfo(c, CURLINFO_PROXY_ERROR, &px) != CURLE_OK) return std::nullopt;
    const bool socks5 = p.proxy->scheme == ProxyScheme::socks5 || p.proxy->scheme == ProxyScheme::socks5h;
    if (!socks5 || (px != CURLPX_USER_REJECTED && px != CURLPX_NO_AUTH)) return std::nullopt;
    d.phase = NetPhase::proxy;
    d.url = redact_url(request.url);
    std::string msg = "the SOCKS5 proxy " + proxy_name(p);
    if (px == CURLPX_USER_REJECTED) {
        msg += " refused the user name and password given for user '" + sanitize_for_display(p.proxy->user, 64) + "'";
    } else if (p.proxy->user.empty()) {
        msg += " requires a user name and password: put them in the proxy URL (socks5h://USER:PASSWORD@host:port) "
               "or pass --proxy-user USER:PASSWORD";
    } else {
        msg += " accepts none of the authentication methods offered (no authentication, user name and password)";
    }
    return Error(ErrorCode::proxy_auth, msg).with_net(d);
#else
    (void)c, (void)request, (void)p, (void)d;
    return std::nullopt;
#endif
}

} // namespace

Error proxy_auth_error(const Request& request, const ProxyChoice& p) {
    NetDetail d{.phase = NetPhase::proxy, .http_status = 407, .url = redact_url(request.url)};
    std::string msg = "the proxy " + proxy_name(p) + " requires authentication (HTTP 407): " +
                      (p.proxy->user.empty() ? "put credentials in the proxy URL or pass --proxy-user USER:PASSWORD"
                                             : "it refused the credentials given for user '" + p.proxy->user + "'");
    return Error(ErrorCode::proxy_auth, msg).with_net(d);
}

Error curl_failure(CURL* c, CURLcode rc, const char* errbuf, const Request& request, const CancelToken* cancel,
                   const ProxyChoice& proxy, const std::string& location) {
    NetDetail d;
    d.curl_code = static_cast<int>(rc);
    d.url = redact_url(request.url);
    long os_errno = 0;
    curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &os_errno);
    d.os_errno = static_cast<int>(os_errno);
    long connect_code = 0;
    curl_easy_getinfo(c, CURLINFO_HTTP_CONNECTCODE, &connect_code);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    d.http_status = status;
    curl_off_t connect_us = 0;
    curl_easy_getinfo(c, CURLINFO_CONNECT_TIME_T, &connect_us);

    std::string detail =
        (errbuf != nullptr && errbuf[0] != '\0') ? sanitize_for_display(errbuf, 300) : curl_easy_strerror(rc);
    if (proxy.proxy && !proxy.proxy->user.empty()) {
        // CURLOPT_PROXY carries the credentials (curl_transport.cpp); should curl quote it, mask them.
        replace_all(detail, proxy.proxy->curl_url_with_credentials(), proxy.proxy->display());
        replace_all(detail, proxy.proxy->password, "***");
    }
    ErrorCode code = ErrorCode::network;
    std::string message;
    switch (rc) {
    case CURLE_ABORTED_BY_CALLBACK:
        if (cancel != nullptr && cancel->cancelled()) {
            return Error(ErrorCode::cancelled, "cancelled while fetching " + d.url);
        }
        message = "transfer aborted: " + detail;
        break;
    case CURLE_COULDNT_RESOLVE_PROXY:
        d.phase = NetPhase::proxy;
        message = "cannot resolve the proxy host (" + detail + ")";
        break;
    case CURLE_COULDNT_RESOLVE_HOST:
        d.phase = NetPhase::resolve;
        message = "cannot resolve the host of " + d.url + " (" + detail + ")";
        break;
    case CURLE_COULDNT_CONNECT:
        d.phase = NetPhase::connect;
        message = "cannot connect to " + d.url + " (" + detail + ")";
        break;
    case CURLE_OPERATION_TIMEDOUT: {
        if (connect_us == 0) {
            d.phase = NetPhase::connect;
            message = "connecting to " + d.url + " timed out after " +
                      seconds_text(static_cast<long>(request.limits.connect_timeout.count()));
        } else if (detail.find("slower than") != std::string::npos || request.limits.total_timeout.count() == 0) {
            d.phase = NetPhase::body;
            message = "transfer from " + d.url + " stalled: less than " +
                      std::to_string(request.limits.stall_bytes_per_second) + " B/s for " +
                      std::to_string(request.limits.stall_time.count()) + " s";
        } else {
            d.phase = NetPhase::body;
            message = "request to " + d.url + " timed out after " +
                      seconds_text(static_cast<long>(request.limits.total_timeout.count()));
        }
        break;
    }
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
        code = ErrorCode::tls;
        d.phase = NetPhase::tls;
        message = "TLS failure with " + d.url + ": " + detail;
        break;
    case CURLE_TOO_MANY_REDIRECTS:
        d.phase = NetPhase::http;
        message = "too many redirects from " + d.url + " (more than " + std::to_string(request.max_redirects) + ")";
        break;
    case CURLE_UNSUPPORTED_PROTOCOL: {
        d.phase = NetPhase::http;
        char* redirect_info = nullptr;
        curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &redirect_info);
        std::string redirect = redirect_info != nullptr ? std::string(redirect_info) : location;
        if (!redirect.empty() && status >= 300 && status < 400) {
            message = "refused a redirect from " + d.url + " to " + sanitize_for_display(redact_url(redirect), 200) +
                      (request.secure_only ? " (the release index must come over HTTPS)" : " (scheme not allowed)");
        } else {
            message = "URL scheme not allowed: " + d.url +
                      (request.secure_only ? " (the release index must come over HTTPS or from a file)" : "");
        }
        break;
    }
    case CURLE_FILESIZE_EXCEEDED:
        d.phase = NetPhase::body;
        message =
            "response from " + d.url + " is larger than the " + human_bytes(request.limits.max_body_bytes) + " allowed";
        break;
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        d.phase = status > 0 ? NetPhase::body : NetPhase::connect;
        message = "connection to " + d.url + " broke: " + detail;
        break;
    default: message = "request to " + d.url + " failed: " + detail; break;
    }
    if (proxy.proxy) {
        const std::string name = proxy_name(proxy);
        if (connect_code == 407 || connect_code == 401) {
            // 401 to a CONNECT can only be the proxy's (tinyproxy answers BasicAuth failures so).
            return proxy_auth_error(request, proxy);
        }
        if (rc == CURLE_PROXY) {
            if (auto auth = socks_auth_error(c, request, proxy, d)) return std::move(*auth);
        }
        if (connect_code >= 400) {
            d.phase = NetPhase::proxy;
            d.http_status = connect_code;
            message = connect_refused(name, d, connect_code, request);
        } else if (rc == CURLE_COULDNT_RESOLVE_PROXY) {
            message = "cannot resolve the host of the proxy " + name;
        } else if (rc == CURLE_COULDNT_CONNECT && connect_us == 0) {
            d.phase = NetPhase::proxy;
            message = "cannot connect to the proxy " + name + " (" + detail + ")";
        } else if (proxy.proxy->scheme == ProxyScheme::https &&
                   ((rc == CURLE_SSL_CONNECT_ERROR && detail.find("wrong version number") != std::string::npos) ||
                    (rc == CURLE_OPERATION_TIMEDOUT && status == 0 && connect_code == 0))) {
            // docs/field-notes.md#proxies: HTTPS_PROXY=https://… pointing at a plain-HTTP proxy.
            // Some proxies answer the ClientHello with plain text (curl: "wrong version number"),
            // others wait for a request line.
            code = ErrorCode::network;
            d.phase = NetPhase::proxy;
            message = "the proxy " + name + " does not speak TLS (" + detail +
                      "): the setting says https:// but it "
                      "looks like a plain HTTP proxy; use http:// for it";
        } else if ((rc == CURLE_RECV_ERROR || rc == CURLE_GOT_NOTHING || rc == CURLE_PROXY) && status == 0) {
            d.phase = NetPhase::proxy;
            message = "the proxy " + name + " closed the connection before answering (" + detail + ")";
        }
    }
    return Error(code, message).with_net(d);
}

} // namespace goinstall
