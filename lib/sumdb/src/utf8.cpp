#include "utf8.hpp"

namespace goinstall::sumdb::detail {
namespace {

// Unicode White_Space (the set Go's unicode.IsSpace reports).
bool is_space(char32_t c) {
    return (c >= 0x09 && c <= 0x0d) || c == 0x20 || c == 0x85 || c == 0xa0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000;
}

} // namespace

std::size_t decode_utf8(std::string_view s, char32_t& cp) {
    if (s.empty()) return 0;
    const auto b0 = static_cast<unsigned char>(s[0]);
    if (b0 < 0x80) {
        cp = b0;
        return 1;
    }
    std::size_t len = 0;
    char32_t min = 0;
    if ((b0 & 0xe0) == 0xc0) {
        len = 2;
        cp = b0 & 0x1f;
        min = 0x80;
    } else if ((b0 & 0xf0) == 0xe0) {
        len = 3;
        cp = b0 & 0x0f;
        min = 0x800;
    } else if ((b0 & 0xf8) == 0xf0) {
        len = 4;
        cp = b0 & 0x07;
        min = 0x10000;
    } else {
        return 0;
    }
    if (s.size() < len) return 0;
    for (std::size_t i = 1; i < len; ++i) {
        const auto b = static_cast<unsigned char>(s[i]);
        if ((b & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (b & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return len;
}

bool is_note_text(std::string_view s) {
    while (!s.empty()) {
        char32_t c = 0;
        const std::size_t n = decode_utf8(s, c);
        if (n == 0 || (c < 0x20 && c != '\n')) return false;
        s.remove_prefix(n);
    }
    return true;
}

bool is_valid_note_name(std::string_view s) {
    if (s.empty()) return false;
    while (!s.empty()) {
        char32_t c = 0;
        const std::size_t n = decode_utf8(s, c);
        if (n == 0 || c == '+' || is_space(c)) return false;
        s.remove_prefix(n);
    }
    return true;
}

bool is_record_text(std::string_view s) {
    return is_note_text(s) && s.ends_with('\n') && !s.starts_with('\n') && s.find("\n\n") == std::string_view::npos;
}

} // namespace goinstall::sumdb::detail
