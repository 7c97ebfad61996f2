#pragma once
// Turns a failed curl transfer into an Error with a NetDetail and a message a user can act on.

#include <curl/curl.h>

#include "goinstall/base/cancel.hpp"
#include "goinstall/base/error.hpp"
#include "goinstall/net/transport.hpp"

namespace goinstall {

Error curl_failure(CURL* curl, CURLcode rc, const char* errbuf, const Request& request, const CancelToken* cancel);

} // namespace goinstall
