#pragma once
// Internationalised domain names for NO_PROXY matching: one form (ASCII, "xn--" A-labels) for the
// host and the entries, so "示例.com" and "xn--fsq092h.com" are the same name, as they are to Go's
// httpproxy (which converts with idna.Lookup) and to curl (libidn2, which converts the URL's host
// before connecting). libidn2 is the library curl itself uses (third_party/README.md).

#include <optional>
#include <string>
#include <string_view>

namespace goinstall::net_detail {

// The lowercase ASCII form of a domain name. ASCII input is only lowercased (its "xn--" labels are
// already the ASCII form). Non-ASCII UTF-8 input is mapped by UTS #46 (NFC, case folding, "。" as a
// dot) and converted to A-labels with IDNA2008 non-transitional rules, falling back to transitional
// rules for names only those allow, as curl does. nullopt when the name cannot be converted
// (invalid UTF-8, disallowed characters); such a name matches no domain entry.
std::optional<std::string> idna_to_ascii(std::string_view name);

} // namespace goinstall::net_detail
