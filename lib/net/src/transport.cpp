#include "goinstall/net/transport.hpp"

namespace goinstall {

namespace {

// Each request through Transport::fetch: no connection is kept between them.
class ForwardingSession final : public TransportSession {
public:
    explicit ForwardingSession(Transport& transport) : m_transport(transport) {}
    Result<Response> fetch(const Request& request, BodySink& sink, const CancelToken* cancel,
                           const ProgressFn& progress) override {
        return m_transport.fetch(request, sink, cancel, progress);
    }

private:
    Transport& m_transport;
};

} // namespace

std::unique_ptr<TransportSession> Transport::session() { return std::make_unique<ForwardingSession>(*this); }

std::string Response::header(const std::string& lowercase_name) const {
    auto it = headers.find(lowercase_name);
    return it == headers.end() ? std::string() : it->second;
}

} // namespace goinstall
