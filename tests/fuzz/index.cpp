// Fuzzes the release index parser (parse_index) with whole documents.
// Properties: failures are index_invalid and never show the source URL's password; a parsed index
// is sorted newest first without equal versions, every filename is one plain path component, every
// sha256 is empty or 64 hex digits; serialize_index → parse_index gives equal data and nothing
// skipped, and serialising again gives the same bytes.
#include "fuzz_check.hpp"

#include "goinstall/base/strings.hpp"
#include "goinstall/release/index.hpp"

using namespace goinstall;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::size_t skipped = 0;
    const auto input = fuzz::as_text(data, size);
    auto index = parse_index(input, "https://user:s3cr3t-pw@mirror.example/dl/?mode=json", &skipped);
    if (!index) {
        FUZZ_CHECK(index.error().code() == ErrorCode::index_invalid, index.error().message());
        // (An input that holds the password itself may be quoted: that is not the URL's password.)
        if (input.find("s3cr3t-pw") == std::string_view::npos) {
            FUZZ_CHECK(index.error().message().find("s3cr3t-pw") == std::string::npos, index.error().message());
        }
        return 0;
    }
    const auto& releases = index->releases;
    for (std::size_t i = 0; i < releases.size(); ++i) {
        if (i > 0) FUZZ_CHECK(releases[i - 1].version > releases[i].version, to_string(releases[i].version));
        for (const auto& f : releases[i].files) {
            FUZZ_CHECK(!f.filename.empty() && f.filename.front() != '.' &&
                           f.filename.find_first_of("/\\:") == std::string::npos,
                       f.filename);
            FUZZ_CHECK(f.sha256.empty() || is_hex(f.sha256, 64), f.sha256);
        }
    }
    const auto text = serialize_index(*index);
    std::size_t skipped_again = 1;
    auto again = parse_index(text, "serialized", &skipped_again);
    FUZZ_CHECK(again.has_value(), again ? std::string() : again.error().message());
    FUZZ_CHECK(skipped_again == 0, text);
    FUZZ_CHECK(*again == *index, text);
    FUZZ_CHECK(serialize_index(*again) == text, text);
    return 0;
}
