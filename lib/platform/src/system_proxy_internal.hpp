#pragma once
// Helpers shared by the system_proxy_*.cpp parsers and readers. Not part of the public API.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace goinstall::sysproxy {

// "host:port"; a bare IPv6 literal gets brackets ("[::1]:3128").
std::string host_port(std::string_view host, std::uint64_t port);

// A valid TCP port, 1..65535, from decimal text; nullopt otherwise.
std::optional<std::uint64_t> parse_port(std::string_view text);

// A SOCKS proxy as a URL: "socks://h:p" and scheme-less "h:p" become "socks5://h:p"; socks4,
// socks4a, socks5 and socks5h URLs are kept. "" stays "".
std::string socks_url(std::string_view value, std::string_view default_scheme = "socks5");

// Splits on any of `separators`, trims each piece, drops empty ones.
std::vector<std::string> split_list(std::string_view text, std::string_view separators);

// Reads a small text file; nullopt when it is missing, unreadable or larger than `max_bytes`.
std::optional<std::string> read_small_file(const std::filesystem::path& path, std::uintmax_t max_bytes);

// Line-by-line iteration over text with \n or \r\n endings.
std::vector<std::string_view> lines_of(std::string_view text);

} // namespace goinstall::sysproxy
