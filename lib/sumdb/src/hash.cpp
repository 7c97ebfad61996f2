#include "goinstall/sumdb/hash.hpp"

#include <algorithm>

#include "crypto.hpp"
#include "goinstall/sumdb/base64.hpp"

namespace goinstall::sumdb {
namespace {

std::string_view as_text(const Hash& h) { return {reinterpret_cast<const char*>(h.data()), h.size()}; }

} // namespace

Hash sha256(std::string_view data) {
    Hash out{};
    const std::string_view parts[] = {data};
    detail::sha256_parts(parts, out.data());
    return out;
}

Hash record_hash(std::string_view record) {
    Hash out{};
    const std::string_view parts[] = {std::string_view("\x00", 1), record};
    detail::sha256_parts(parts, out.data());
    return out;
}

Hash node_hash(const Hash& left, const Hash& right) {
    Hash out{};
    const std::string_view parts[] = {std::string_view("\x01", 1), as_text(left), as_text(right)};
    detail::sha256_parts(parts, out.data());
    return out;
}

std::string to_base64(const Hash& hash) { return base64_encode(hash); }

std::optional<Hash> parse_hash(std::string_view base64) {
    auto bytes = base64_decode(base64);
    if (!bytes || bytes->size() != k_hash_size) return std::nullopt;
    Hash out{};
    std::copy(bytes->begin(), bytes->end(), out.begin());
    return out;
}

} // namespace goinstall::sumdb
