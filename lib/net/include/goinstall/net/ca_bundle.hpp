#pragma once
// Extra trust anchors given as several PEM files (--cacert A --cacert B: a machine behind two
// HTTPS-inspecting proxies) handed on as the one file that libcurl (CURLOPT_PROXY_CAINFO) and
// OpenSSL (X509_STORE_load_file) take.

#include <string>
#include <vector>

#include "goinstall/base/error.hpp"

namespace goinstall {

// OK when `path` is a readable PEM file holding at least one certificate; else ErrorCode::usage,
// "--cacert PATH: cannot read a PEM certificate from this file".
Status check_ca_file(const std::string& path);

// One file: returned as it is (checked later, by CurlTransport::create). Several: each is checked
// with check_ca_file (so a typo names its file), then all are concatenated into an anonymous
// in-memory file (memfd_create) whose path, /proc/self/fd/N, is returned. That file never touches
// the disk, lives until the process ends and needs no clean-up, even after a signal. No files: "".
Result<std::string> make_ca_bundle(const std::vector<std::string>& files);

} // namespace goinstall
