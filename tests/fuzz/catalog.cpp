// Fuzzes the mirror catalogue reader (lib/download catalog.hpp): a user's mirrors.json applied on
// top of the built-in catalogue, then turned into a download plan.
// Properties:
// - an error is a usage error naming the source;
// - a catalogue that loads has unique, non-empty names, and every entry has an http(s):// or
//   file:// URL (the built-in ones included);
// - plan_mirrors with no preference either fails (everything disabled) or lists healthy entries
//   only, each base URL once; index_sources lists only healthy entries' index URLs.
#include "fuzz_check.hpp"

#include <set>

#include "goinstall/base/url.hpp"
#include "goinstall/download/catalog.hpp"

using namespace goinstall;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const Catalog builtin = builtin_catalog();
    auto catalog = apply_user_catalog(builtin, fuzz::as_text(data, size), "mirrors.json");
    if (!catalog) {
        FUZZ_CHECK(catalog.error().code() == ErrorCode::usage, catalog.error().message());
        FUZZ_CHECK(catalog.error().message().starts_with("mirrors.json"), catalog.error().message());
        return 0;
    }
    std::set<std::string> names;
    for (const auto& e : catalog->entries) {
        FUZZ_CHECK(!e.name.empty() && names.insert(e.name).second, e.name);
        auto url = parse_url(e.url);
        FUZZ_CHECK(url && (url->scheme == "http" || url->scheme == "https" || url->scheme == "file"), e.url);
    }
    auto plan = plan_mirrors(*catalog, {}, false);
    if (!plan) {
        FUZZ_CHECK(plan.error().code() == ErrorCode::usage, plan.error().message());
        for (const auto& e : catalog->entries) FUZZ_CHECK(!e.healthy(), e.name);
        return 0;
    }
    std::set<std::string> bases;
    for (const auto& m : plan->mirrors) {
        FUZZ_CHECK(bases.insert(m.base_url).second, m.base_url);
        const auto* e = catalog->find(m.name);
        FUZZ_CHECK(e != nullptr && e->healthy(), m.name);
    }
    for (const auto& u : index_sources(*catalog)) FUZZ_CHECK(!u.empty(), u);
    return 0;
}
