#include "goinstall/base/error.hpp"

#include <cerrno>
#include <cstring>
#include <iterator>

#include "goinstall/base/strings.hpp"

namespace goinstall {

const char* to_string(ErrorCode code) {
    switch (code) {
    case ErrorCode::internal: return "internal";
    case ErrorCode::usage: return "usage";
    case ErrorCode::not_found: return "not_found";
    case ErrorCode::index_invalid: return "index_invalid";
    case ErrorCode::network: return "network";
    case ErrorCode::tls: return "tls";
    case ErrorCode::proxy_auth: return "proxy_auth";
    case ErrorCode::checksum: return "checksum";
    case ErrorCode::no_checksum: return "no_checksum";
    case ErrorCode::bad_archive: return "bad_archive";
    case ErrorCode::toolchain_check: return "toolchain_check";
    case ErrorCode::filesystem: return "filesystem";
    case ErrorCode::disk_full: return "disk_full";
    case ErrorCode::permission: return "permission";
    case ErrorCode::lock_timeout: return "lock_timeout";
    case ErrorCode::cancelled: return "cancelled";
    case ErrorCode::security: return "security";
    }
    return "internal";
}

const char* to_string(NetPhase phase) {
    switch (phase) {
    case NetPhase::none: return "none";
    case NetPhase::proxy: return "proxy";
    case NetPhase::resolve: return "resolve";
    case NetPhase::connect: return "connect";
    case NetPhase::tls: return "tls";
    case NetPhase::http: return "http";
    case NetPhase::body: return "body";
    }
    return "none";
}

Error& Error::with_context(std::string what) & {
    m_context.insert(m_context.begin(), std::move(what));
    return *this;
}

Error&& Error::with_context(std::string what) && {
    m_context.insert(m_context.begin(), std::move(what));
    return std::move(*this);
}

Error& Error::with_net(NetDetail detail) & {
    m_net = std::move(detail);
    return *this;
}

Error&& Error::with_net(NetDetail detail) && {
    m_net = std::move(detail);
    return std::move(*this);
}

Error& Error::with_tried(std::vector<TriedSource> tried) & {
    m_tried.insert(m_tried.end(), std::make_move_iterator(tried.begin()), std::make_move_iterator(tried.end()));
    return *this;
}

Error&& Error::with_tried(std::vector<TriedSource> tried) && {
    with_tried(std::move(tried));
    return std::move(*this);
}

std::string Error::describe() const {
    std::string out;
    for (const auto& c : m_context) {
        out += c;
        out += ": ";
    }
    out += m_message;
    return out;
}

Error errno_error(int err, const std::string& what, const std::string& path) {
    ErrorCode code = ErrorCode::filesystem;
    if (err == ENOSPC || err == EDQUOT) {
        code = ErrorCode::disk_full;
    } else if (err == EACCES || err == EPERM || err == EROFS) {
        code = ErrorCode::permission;
    }
    // Paths can hold any byte but '/' and NUL: never let one reach the terminal raw.
    return Error(code, what + " " + sanitize_for_display(path, 1024) + ": " + std::strerror(err));
}

} // namespace goinstall
