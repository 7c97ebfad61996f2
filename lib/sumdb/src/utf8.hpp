#pragma once
// UTF-8 checks shared by the note and record parsers (the rules of x/mod sumdb/note and tlog).

#include <string_view>

namespace goinstall::sumdb::detail {

// Decodes the UTF-8 sequence at the front of s into cp and returns its length, or 0 when the bytes
// are not valid UTF-8 (overlong forms, surrogates and code points above U+10FFFF included).
std::size_t decode_utf8(std::string_view s, char32_t& cp);

// Valid UTF-8 without ASCII control characters other than '\n'.
bool is_note_text(std::string_view s);

// A signer name: non-empty valid UTF-8, no Unicode white space, no '+'.
bool is_valid_note_name(std::string_view s);

// A log record's text: is_note_text, ends with '\n', and has no empty line.
bool is_record_text(std::string_view s);

} // namespace goinstall::sumdb::detail
