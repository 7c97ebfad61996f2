# goinstall_gzip: the gzip decoder behind lib/archive's Inflater (src/inflater.hpp).
# ISA-L's igzip (libisal-dev) decodes gzip with ~2.4× less CPU than zlib (0.97 s against 2.37 s
# for the 140 MB test archive; measured in lib/archive/src/inflater.hpp); without it, zlib
# (zlib1g-dev). With ISA-L the target carries GOINSTALL_HAVE_ISAL=1 for the code that chooses.
find_package(ZLIB REQUIRED)
if(PKG_CONFIG_FOUND)
  pkg_check_modules(ISAL QUIET IMPORTED_TARGET libisal)
endif()

add_library(goinstall_gzip INTERFACE)
if(ISAL_FOUND)
  target_compile_definitions(goinstall_gzip INTERFACE GOINSTALL_HAVE_ISAL=1)
  target_link_libraries(goinstall_gzip INTERFACE PkgConfig::ISAL)
  message(STATUS "goinstall: gzip decoding with ISA-L ${ISAL_VERSION}")
else()
  target_link_libraries(goinstall_gzip INTERFACE ZLIB::ZLIB)
  message(STATUS "goinstall: gzip decoding with zlib (install libisal-dev for ~2× faster extraction)")
endif()
