// Fuzzes the version parsers: parse_version, parse_version_spec, and the order between versions.
// Input: "A\nB" (two candidate versions; B optional).
// Properties:
// - a parsed version keeps its text ("go" + input without a "go" prefix);
// - to_string(v) reparses to an equal version, and so does the canonical name built without text;
// - the canonical name is a fixed point (canonical(parse(canonical(v))) == canonical(v));
// - compare() is antisymmetric and consistent with ==;
// - parse_version_spec agrees with parse_version on the trimmed text: latest/stable words aside,
//   a spec parses exactly when the version does, and its error is a usage error.
#include "fuzz_check.hpp"

#include "goinstall/base/strings.hpp"
#include "goinstall/release/version.hpp"
#include "goinstall/release/version_spec.hpp"

using namespace goinstall;

namespace {

std::string canonical(Version v) {
    v.text.clear();
    return to_string(v);
}

void check_one(std::string_view text) {
    auto v = parse_version(text);
    if (v) {
        std::string expected_text = text.starts_with("go") ? std::string(text) : "go" + std::string(text);
        FUZZ_CHECK(v->text == expected_text, v->text);
        auto again = parse_version(to_string(*v));
        FUZZ_CHECK(again && *again == *v, to_string(*v));
        const auto name = canonical(*v);
        auto from_name = parse_version(name);
        FUZZ_CHECK(from_name && *from_name == *v && from_name->is_stable() == v->is_stable(), name);
        FUZZ_CHECK(canonical(*from_name) == name, name);
    }
    auto spec = parse_version_spec(text);
    const auto typed = trim(text);
    const bool word = iequals(typed, "latest") || iequals(typed, "stable");
    if (word) {
        FUZZ_CHECK(spec && spec->kind == VersionSpec::Kind::latest, std::string(text));
        return;
    }
    const auto trimmed_version = parse_version(typed);
    FUZZ_CHECK(spec.has_value() == trimmed_version.has_value(), std::string(text));
    if (!spec) {
        FUZZ_CHECK(spec.error().code() == ErrorCode::usage, spec.error().message());
        return;
    }
    FUZZ_CHECK(spec->version == *trimmed_version, std::string(text));
    if (spec->kind == VersionSpec::Kind::line) {
        FUZZ_CHECK(spec->version.is_stable() && spec->version.patch == 0, std::string(text));
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto parts = fuzz::split_parts(fuzz::as_text(data, size), '\n', 2);
    check_one(parts[0]);
    check_one(parts[1]);
    auto a = parse_version(parts[0]);
    auto b = parse_version(parts[1]);
    if (a && b) {
        const auto ab = compare(*a, *b);
        const auto ba = compare(*b, *a);
        FUZZ_CHECK((ab < 0) == (ba > 0) && (ab == 0) == (ba == 0), a->text + " vs " + b->text);
        FUZZ_CHECK((ab == 0) == (canonical(*a) == canonical(*b)), a->text + " vs " + b->text);
    }
    return 0;
}
