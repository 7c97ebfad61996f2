#include "goinstall/net/ca_bundle.hpp"

#include <openssl/x509.h>

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

namespace goinstall {

namespace {

Status write_all(int fd, const std::string& data) {
    std::size_t done = 0;
    while (done < data.size()) { // bounded: each pass writes ≥ 1 byte or returns
        ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0)
            return fail(ErrorCode::filesystem, std::string("writing the --cacert bundle: ") + std::strerror(errno));
        done += static_cast<std::size_t>(n);
    }
    return {};
}

} // namespace

Status check_ca_file(const std::string& path) {
    X509_STORE* store = X509_STORE_new();
    int ok = store != nullptr ? X509_STORE_load_file(store, path.c_str()) : 0;
    X509_STORE_free(store);
    if (ok != 1) return fail(ErrorCode::usage, "--cacert " + path + ": cannot read a PEM certificate from this file");
    return {};
}

Result<std::string> make_ca_bundle(const std::vector<std::string>& files) {
    if (files.size() <= 1) return files.empty() ? std::string() : files.front();
    std::string bundle;
    for (const auto& path : files) {
        if (auto st = check_ca_file(path); !st) return std::unexpected(st.error());
        std::ifstream in(path, std::ios::binary);
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (!in.good() && !in.eof()) return fail(ErrorCode::usage, "--cacert " + path + ": cannot read this file");
        bundle += text;
        if (!text.empty() && text.back() != '\n') bundle += '\n';
    }
    int fd = ::memfd_create("goinstall-cacert-bundle", MFD_CLOEXEC);
    if (fd < 0) return fail(ErrorCode::filesystem, std::string("making the --cacert bundle: ") + std::strerror(errno));
    if (auto st = write_all(fd, bundle); !st) {
        ::close(fd);
        return std::unexpected(st.error());
    }
    return "/proc/self/fd/" + std::to_string(fd); // kept open for the life of the process
}

} // namespace goinstall
