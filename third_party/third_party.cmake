# Every outside library goinstall uses, found here and nowhere else; read by the root
# CMakeLists.txt. All come from Debian packages (see README.md in this folder for the table of what
# each does for us, its package, version and licence). Nothing is downloaded at configure time.
#
# Targets the modules link (PRIVATE, in the one module that wraps each library):
#   CURL::libcurl                 lib/net        transfers, proxies, TLS
#   OpenSSL::SSL OpenSSL::Crypto  lib/net, lib/triage (TLS probes), lib/verify (SHA-256)
#   nlohmann_json::nlohmann_json  lib/release, lib/download, installer (JSON)
#   LibArchive::LibArchive        lib/archive    tar/zip reading
#   goinstall_gzip                lib/archive    ISA-L igzip, else zlib (isal.cmake)
#   goinstall_duktape             lib/net        PAC scripts; only when GOINSTALL_HAVE_DUKTAPE (duktape.cmake)
#   PkgConfig::LIBIDN2            lib/net        IDNA host names for NO_PROXY (src/idna.cpp)
#   cxxopts::cxxopts              installer      command-line parsing
# Catch2 (tests only) is found by tests/CMakeLists.txt.

find_package(CURL REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(LibArchive REQUIRED)
find_package(cxxopts REQUIRED)
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
# libidn2 (libidn2-dev) has no CMake package file; pkg-config gives the imported target.
pkg_check_modules(LIBIDN2 REQUIRED IMPORTED_TARGET libidn2)

include(${CMAKE_CURRENT_LIST_DIR}/isal.cmake)
include(${CMAKE_CURRENT_LIST_DIR}/duktape.cmake)
