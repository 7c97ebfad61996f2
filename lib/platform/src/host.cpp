#include "goinstall/platform/host.hpp"

#include "goinstall/base/strings.hpp"

namespace goinstall {

Platform host_platform() {
    Platform p;
#if defined(__linux__)
    p.os = "linux";
#elif defined(__APPLE__)
    p.os = "darwin";
#elif defined(_WIN32)
    p.os = "windows";
#elif defined(__FreeBSD__)
    p.os = "freebsd";
#elif defined(__OpenBSD__)
    p.os = "openbsd";
#elif defined(__NetBSD__)
    p.os = "netbsd";
#else
    p.os = "unknown";
#endif

#if defined(__x86_64__) || defined(_M_X64)
    p.arch = "amd64";
#elif defined(__aarch64__) || defined(_M_ARM64)
    p.arch = "arm64";
#elif defined(__i386__) || defined(_M_IX86)
    p.arch = "386";
#elif defined(__arm__)
    p.arch = "arm";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    p.arch = "ppc64le";
#elif defined(__powerpc64__)
    p.arch = "ppc64";
#elif defined(__s390x__)
    p.arch = "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
    p.arch = "riscv64";
#elif defined(__loongarch64)
    p.arch = "loong64";
#elif defined(__mips64) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    p.arch = "mips64le";
#elif defined(__mips64)
    p.arch = "mips64";
#elif defined(__mips__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    p.arch = "mipsle";
#elif defined(__mips__)
    p.arch = "mips";
#else
    p.arch = "unknown";
#endif
    return p;
}

std::string normalize_arch(const std::string& arch) {
    auto a = to_lower(arch);
    if (a == "x86_64" || a == "x64" || a == "x86-64") return "amd64";
    if (a == "aarch64" || a == "armv8" || a == "armv8l") return "arm64";
    if (a == "i386" || a == "i486" || a == "i586" || a == "i686" || a == "x86") return "386";
    if (a == "armv6l" || a == "armv6" || a == "armv7l" || a == "armv7" || a == "armhf" || a == "armel") return "arm";
    if (a == "ppc64el") return "ppc64le";
    if (a == "riscv") return "riscv64";
    if (a == "loongarch64") return "loong64";
    return a;
}

std::string normalize_os(const std::string& os) {
    auto o = to_lower(os);
    if (o == "macos" || o == "osx" || o == "mac") return "darwin";
    if (o == "win" || o == "win32" || o == "win64") return "windows";
    return o;
}

} // namespace goinstall
