#pragma once
// Transport over libcurl (the only place that includes curl).

#include <memory>
#include <string>
#include <vector>

#include "goinstall/net/proxy_resolver.hpp"
#include "goinstall/net/resolve_pin.hpp"
#include "goinstall/net/transport.hpp"

namespace goinstall {

struct CurlEasy; // one curl easy handle and its sockets: a session (curl_transport.cpp)

struct TransportConfig {
    std::string user_agent; // empty → "goinstall/<version>"
    // Extra trust anchors (PEM file), added to the system store rather than replacing it.
    std::string extra_ca_file;
    // Replace the default trust store (OpenSSL's SSL_CERT_FILE / SSL_CERT_DIR convention).
    std::string ca_file_override;
    std::string ca_dir_override;
    // Decides the proxy per request; null means direct. curl's own environment handling is never used.
    std::shared_ptr<const ProxyResolver> proxy;
    // --resolve: host:port pairs connected to fixed addresses instead of DNS (CURLOPT_RESOLVE).
    std::vector<ResolvePin> resolve;
};

class CurlTransport final : public Transport {
public:
    // Validates the configuration (a CA file must exist and hold at least one certificate).
    static Result<std::unique_ptr<CurlTransport>> create(TransportConfig config);
    ~CurlTransport() override;

    // One curl handle kept for all the session's requests (keep-alive); the transport outlives it.
    std::unique_ptr<TransportSession> session() override;
    // A fresh handle per call: no connection is kept.
    Result<Response> fetch(const Request& request, BodySink& sink, const CancelToken* cancel,
                           const ProgressFn& progress) override;

    // One request on `easy`, trying the proxy choice's alternatives (fetch and sessions).
    Result<Response> fetch_on(CurlEasy& easy, const Request& request, BodySink& sink, const CancelToken* cancel,
                              const ProgressFn& progress);

private:
    // One request through one proxy choice.
    Result<Response> fetch_with(CurlEasy& easy, const Request& request, BodySink& sink, const CancelToken* cancel,
                                const ProgressFn& progress, const ProxyChoice& choice);
    explicit CurlTransport(TransportConfig config) : m_config(std::move(config)) {}
    TransportConfig m_config;
};

} // namespace goinstall
