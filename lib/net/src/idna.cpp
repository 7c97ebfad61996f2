#include "idna.hpp"

#include "goinstall/base/strings.hpp"

#include <idn2.h>

#include <algorithm>
#include <memory>

namespace goinstall::net_detail {

namespace {

struct Idn2Free {
    void operator()(char* p) const { idn2_free(p); }
};

std::optional<std::string> lookup(const std::string& name, int flags) {
    char* out = nullptr;
    const int rc = idn2_to_ascii_8z(name.c_str(), &out, flags);
    std::unique_ptr<char, Idn2Free> owned(out);
    if (rc != IDN2_OK || owned == nullptr) {
        return std::nullopt;
    }
    return to_lower(owned.get());
}

} // namespace

std::optional<std::string> idna_to_ascii(std::string_view name) {
    const bool ascii =
        std::all_of(name.begin(), name.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
    if (ascii) {
        return to_lower(name);
    }
    if (name.find('\0') != std::string_view::npos) {
        return std::nullopt;
    }
    const std::string text(name);
    // curl's lib/idn.c: non-transitional first (IDNA2008), transitional when that is disallowed.
    if (auto a = lookup(text, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL)) {
        return a;
    }
    return lookup(text, IDN2_NFC_INPUT | IDN2_TRANSITIONAL);
}

} // namespace goinstall::net_detail
