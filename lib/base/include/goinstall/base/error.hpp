#pragma once
// Error values carried through every layer: a stable code, a message, a context chain added on the
// way up, and — for network failures — the phase and the transport's own numbers.

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <vector>

namespace goinstall {

// Stable classes of failure. The CLI maps each to one documented exit code (installer/exit_codes).
enum class ErrorCode {
    internal,        // a bug or an unexpected library failure
    usage,           // bad flag, bad argument, bad value
    not_found,       // the requested version or file does not exist in the index
    index_invalid,   // the release index could not be parsed
    network,         // transport failure (DNS, connect, timeout, HTTP error status)
    tls,             // certificate or handshake failure
    proxy_auth,      // the proxy demanded credentials or refused them
    checksum,        // archive bytes do not match the expected SHA-256
    no_checksum,     // the index has no checksum for the file and none was given
    bad_archive,     // the archive is unreadable or contains unsafe entries
    toolchain_check, // the extracted toolchain does not report the expected version
    filesystem,      // an I/O error on a local path
    disk_full,       // ENOSPC / EDQUOT
    permission,      // EACCES / EPERM / EROFS
    lock_timeout,    // another goinstall held the lock for too long
    cancelled,       // SIGINT / SIGTERM
    security,        // proof of misbehaviour: the checksum database showed two inconsistent signed trees
};

// Short stable name of a code ("checksum", "network", ...), used in JSON output.
const char* to_string(ErrorCode code);

// Where a network attempt failed.
enum class NetPhase { none, proxy, resolve, connect, tls, http, body };
const char* to_string(NetPhase phase);

// Transport detail of a network failure. The URL is always stored redacted.
struct NetDetail {
    NetPhase phase = NetPhase::none;
    int curl_code = 0;
    long http_status = 0;
    int os_errno = 0;
    std::string url; // redacted
    std::optional<std::uint64_t> retry_after_seconds;
};

// One source a failed operation tried: the attempt log as data, carried up to the CLI (triage
// probes exactly these; reports list them).
struct TriedSource {
    std::string role;    // "mirror", "index", "proxy", "sumdb"
    std::string name;    // "tuna", "go.dev"
    std::string url;     // redacted
    std::string outcome; // the attempt's error; empty when it succeeded
    bool operator==(const TriedSource&) const = default;
};

class Error {
public:
    Error(ErrorCode code, std::string message) : m_code(code), m_message(std::move(message)) {}

    ErrorCode code() const { return m_code; }
    const std::string& message() const { return m_message; }
    // Outermost context first ("installing go1.21.3", "downloading ...").
    const std::vector<std::string>& context() const { return m_context; }
    const std::optional<NetDetail>& net() const { return m_net; }
    // The sources tried before this error, in order (empty when none were recorded).
    const std::vector<TriedSource>& tried() const { return m_tried; }

    // Adds a line of context; returns *this so it can be chained on a temporary.
    Error& with_context(std::string what) &;
    Error&& with_context(std::string what) &&;
    Error& with_net(NetDetail detail) &;
    Error&& with_net(NetDetail detail) &&;
    // Appends to the attempt log.
    Error& with_tried(std::vector<TriedSource> tried) &;
    Error&& with_tried(std::vector<TriedSource> tried) &&;

    // "context: context: message" on one line.
    std::string describe() const;

private:
    ErrorCode m_code;
    std::string m_message;
    std::vector<std::string> m_context;
    std::optional<NetDetail> m_net;
    std::vector<TriedSource> m_tried;
};

template <typename T>
using Result = std::expected<T, Error>;

using Status = std::expected<void, Error>;

inline std::unexpected<Error> fail(ErrorCode code, std::string message) {
    return std::unexpected<Error>(Error(code, std::move(message)));
}

// Builds an Error from errno after a failed system call on `path`: ENOSPC/EDQUOT → disk_full,
// EACCES/EPERM/EROFS → permission, otherwise filesystem. Message: "<what> <path>: <strerror>".
Error errno_error(int err, const std::string& what, const std::string& path);

} // namespace goinstall
