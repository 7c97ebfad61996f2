#pragma once
// Private: a TLS client session on an already connected non-blocking socket, shared by the TLS
// probe and the https:// proxy hop. OpenSSL stays inside tls.cpp; callers see an opaque session.

#include <memory>
#include <string>
#include <string_view>

#include "goinstall/triage/probes.hpp"
#include "socket_util.hpp"

namespace goinstall::triage::detail {

struct TlsSession;
struct TlsSessionDeleter {
    void operator()(TlsSession* s) const;
};
using TlsSessionPtr = std::unique_ptr<TlsSession, TlsSessionDeleter>;

// Handshakes with the peer on `fd` (SNI and name check for `host`), filling `out` (everything but
// tcp and elapsed). Returns the session when the handshake completed, whatever the verification
// result (out.status says it); nullptr when it did not.
TlsSessionPtr tls_handshake(int fd, const std::string& host, const TlsProbeOptions& options, Deadline deadline,
                            const CancelToken* cancel, TlsResult& out);

// I/O on a connection that is either plain (session == nullptr) or TLS. Both return 0 / bytes or a
// negative errno-style code: -ETIMEDOUT, -ECANCELED, -EPIPE, -ECONNRESET, -EPROTO (TLS error).
int conn_write_all(int fd, TlsSession* session, std::string_view data, Deadline deadline, const CancelToken* cancel);
// Reads at most `size` bytes; 0 = orderly end of stream.
long conn_read_some(int fd, TlsSession* session, char* buf, std::size_t size, Deadline deadline,
                    const CancelToken* cancel);

} // namespace goinstall::triage::detail
