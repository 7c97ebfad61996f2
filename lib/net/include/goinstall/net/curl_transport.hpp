#pragma once
// Transport over libcurl (the only place that includes curl).

#include <memory>
#include <string>

#include "goinstall/net/transport.hpp"

namespace goinstall {

struct TransportConfig {
    std::string user_agent; // empty → "goinstall/<version>"
    // Extra trust anchors (PEM file), added to the system store rather than replacing it.
    std::string extra_ca_file;
};

class CurlTransport final : public Transport {
public:
    // Validates the configuration (a CA file must exist and hold at least one certificate).
    static Result<std::unique_ptr<CurlTransport>> create(TransportConfig config);
    ~CurlTransport() override;

    Result<Response> fetch(const Request& request, BodySink& sink, const CancelToken* cancel,
                           const ProgressFn& progress) override;

private:
    explicit CurlTransport(TransportConfig config) : m_config(std::move(config)) {}
    TransportConfig m_config;
};

} // namespace goinstall
