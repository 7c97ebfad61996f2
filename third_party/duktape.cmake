# goinstall_duktape: a private static Duktape for PAC scripts (lib/net/src/pac.cpp).
#
# Debian's libduktape.so is built without DUK_USE_INTERRUPT_COUNTER/DUK_USE_EXEC_TIMEOUT_CHECK, so
# a PAC script's run time could not be bounded with it. duktape-dev also ships the amalgamated
# source (/usr/share/duktape/duktape.c + duktape.h + duk_config.h): we compile a private copy whose
# duk_config.h enables the execution-timeout hook, goinstall_duk_exec_timeout (defined in pac.cpp).
# Sets GOINSTALL_HAVE_DUKTAPE; without the source (or when its duk_config.h no longer has the lines
# we rewrite) it is OFF and pac.cpp builds its stub, which reports "no PAC support".
set(GOINSTALL_HAVE_DUKTAPE OFF)
if(PKG_CONFIG_FOUND)
  pkg_check_modules(GOINSTALL_DUKTAPE_PC QUIET duktape)
endif()
find_path(GOINSTALL_DUKTAPE_SOURCE_DIR NAMES duktape.c duk_config.h
          HINTS ${GOINSTALL_DUKTAPE_PC_PREFIX}/share/duktape
          PATHS /usr/share/duktape /usr/local/share/duktape)
if(GOINSTALL_DUKTAPE_SOURCE_DIR AND EXISTS ${GOINSTALL_DUKTAPE_SOURCE_DIR}/duktape.h
   AND EXISTS ${GOINSTALL_DUKTAPE_SOURCE_DIR}/duk_config.h)
  set(duk_out ${CMAKE_CURRENT_BINARY_DIR}/third_party/duktape)
  file(READ ${GOINSTALL_DUKTAPE_SOURCE_DIR}/duk_config.h duk_config)
  string(REPLACE "#undef DUK_USE_INTERRUPT_COUNTER\n" "#define DUK_USE_INTERRUPT_COUNTER\n" duk_config "${duk_config}")
  string(REPLACE "#undef DUK_USE_EXEC_TIMEOUT_CHECK\n"
    "#if defined(__cplusplus)\nextern \"C\"\n#endif\nduk_bool_t goinstall_duk_exec_timeout(void *udata);\n#define DUK_USE_EXEC_TIMEOUT_CHECK(udata) goinstall_duk_exec_timeout((udata))\n"
    duk_config "${duk_config}")
  string(FIND "${duk_config}" "goinstall_duk_exec_timeout" duk_hook_at)
  string(FIND "${duk_config}" "#define DUK_USE_INTERRUPT_COUNTER\n" duk_counter_at)
  if(duk_hook_at GREATER -1 AND duk_counter_at GREATER -1)
    file(WRITE ${duk_out}/duk_config.h.tmp "${duk_config}")
    configure_file(${duk_out}/duk_config.h.tmp ${duk_out}/duk_config.h COPYONLY) # rewrites only on change
    configure_file(${GOINSTALL_DUKTAPE_SOURCE_DIR}/duktape.h ${duk_out}/duktape.h COPYONLY)
    # Compiled as C++ (Duktape supports it; the project enables only CXX); its warnings are not ours.
    configure_file(${GOINSTALL_DUKTAPE_SOURCE_DIR}/duktape.c ${duk_out}/duktape.cpp COPYONLY)
    add_library(goinstall_duktape STATIC ${duk_out}/duktape.cpp)
    target_include_directories(goinstall_duktape PUBLIC ${duk_out})
    target_compile_options(goinstall_duktape PRIVATE -w)
    target_link_libraries(goinstall_duktape PUBLIC m)
    set(GOINSTALL_HAVE_DUKTAPE ON)
  endif()
endif()
message(STATUS "goinstall: PAC support (duktape) ${GOINSTALL_HAVE_DUKTAPE}")
