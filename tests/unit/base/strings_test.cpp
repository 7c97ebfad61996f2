#include <catch2/catch.hpp>

#include "goinstall/base/error.hpp"
#include "goinstall/base/strings.hpp"

#include <cerrno>

using namespace goinstall;

TEST_CASE("parse_u64 accepts only plain decimal numbers that fit", "[base]") {
    // clang-format off
    auto [text, expected] = GENERATE(table<std::string, std::optional<std::uint64_t>>({
        {"0", 0},
        {"42", 42},
        {"18446744073709551615", UINT64_MAX},
        {"18446744073709551616", std::nullopt},
        {"", std::nullopt},
        {"-1", std::nullopt},
        {"1.5", std::nullopt},
        {" 1", std::nullopt},
        {"0x10", std::nullopt},
    }));
    // clang-format on
    CAPTURE(text);
    CHECK(parse_u64(text) == expected);
}

TEST_CASE("sanitize_for_display removes controls and invalid UTF-8 and truncates", "[base]") {
    // clang-format off
    auto [input, max, expected] = GENERATE(table<std::string, std::size_t, std::string>({
        {"plain text", 200, "plain text"},
        {"a\x1b[31mred", 200, "a?[31mred"},
        {"line1\nline2", 200, "line1 line2"},
        {"caf\xc3\xa9", 200, "caf\xc3\xa9"},
        {"bad\xff\xfe", 200, "bad??"},
        {"overlong\xc0\xaf", 200, "overlong??"},
        {"c1\xc2\x9b", 200, "c1??"},
        {"evil\xe2\x80\xaegnp.exe", 200, "evil???gnp.exe"},   // U+202E RIGHT-TO-LEFT OVERRIDE
        {"a\xe2\x81\xa6" "b\xe2\x81\xa9" "c", 200, "a???b???c"},     // U+2066 LRI ... U+2069 PDI
        {"\xe2\x80\x8fx\xd8\x9cy", 200, "???x??y"},             // U+200F RLM, U+061C ALM
        {"p\xe2\x80\xa8q", 200, "p???q"},                     // U+2028 LINE SEPARATOR
        {"zwj\xe2\x80\x8d", 200, "zwj\xe2\x80\x8d"},             // U+200D (emoji sequences) stays
        {"truncated-here", 9, "truncated..."},
        {"nul\0byte", 200, "nul"},
    }));
    // clang-format on
    CAPTURE(input);
    CHECK(sanitize_for_display(input, max) == expected);
}

TEST_CASE("to_hex and is_hex", "[base]") {
    const unsigned char bytes[] = {0x00, 0xab, 0xff};
    CHECK(to_hex(bytes) == "00abff");
    CHECK(is_hex("00abFF", 6));
    CHECK_FALSE(is_hex("00abFG", 6));
    CHECK_FALSE(is_hex("00ab", 6));
}

TEST_CASE("split keeps or drops empty pieces", "[base]") {
    CHECK(split("a,,b", ',') == std::vector<std::string>{"a", "b"});
    CHECK(split("a,,b", ',', true) == std::vector<std::string>{"a", "", "b"});
    CHECK(split("", ',').empty());
}

TEST_CASE("errno_error classifies disk full and permission errors", "[base]") {
    CHECK(errno_error(ENOSPC, "cannot write", "/x").code() == ErrorCode::disk_full);
    CHECK(errno_error(EDQUOT, "cannot write", "/x").code() == ErrorCode::disk_full);
    CHECK(errno_error(EACCES, "cannot write", "/x").code() == ErrorCode::permission);
    CHECK(errno_error(EROFS, "cannot write", "/x").code() == ErrorCode::permission);
    CHECK(errno_error(EIO, "cannot write", "/x").code() == ErrorCode::filesystem);
    CHECK(errno_error(EIO, "cannot write", "/x").message().find("/x") != std::string::npos);
}

TEST_CASE("Error context reads outermost first", "[base]") {
    Error e(ErrorCode::network, "connection refused");
    e.with_context("downloading go1.21.3.linux-amd64.tar.gz");
    e.with_context("installing go1.21.3");
    CHECK(e.describe() == "installing go1.21.3: downloading go1.21.3.linux-amd64.tar.gz: connection refused");
}
