#pragma once
// Turns a failed curl transfer into an Error with a NetDetail and a message a user can act on.

#include <curl/curl.h>

#include "goinstall/base/cancel.hpp"
#include "goinstall/base/error.hpp"
#include "goinstall/net/proxy_resolver.hpp"
#include "goinstall/net/transport.hpp"

namespace goinstall {

// `location` is the Location header of the last response (a refused redirect's target), or "".
Error curl_failure(CURL* curl, CURLcode rc, const char* errbuf, const Request& request, const CancelToken* cancel,
                   const ProxyChoice& proxy, const std::string& location);

// "the proxy http://user:***@p:3128 (from HTTPS_PROXY) requires authentication (HTTP 407) ...".
Error proxy_auth_error(const Request& request, const ProxyChoice& proxy);

} // namespace goinstall
