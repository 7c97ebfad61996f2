#pragma once
// One function per verb. Each parses its own arguments (argv[0] is "goinstall <verb>") and returns
// the process exit code.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "goinstall/base/cancel.hpp"
#include "goinstall/net/transport.hpp"
#include "reporter.hpp"
#include "settings.hpp"

namespace goinstall::cli {

struct Context {
    CancelToken* cancel = nullptr;
    const Env* env = nullptr;
};

int verb_install(const std::vector<std::string>& args, Context& ctx);
int verb_list(const std::vector<std::string>& args, Context& ctx);
int verb_ls_remote(const std::vector<std::string>& args, Context& ctx);
int verb_use(const std::vector<std::string>& args, Context& ctx);
int verb_uninstall(const std::vector<std::string>& args, Context& ctx);
int verb_current(const std::vector<std::string>& args, Context& ctx);
int verb_env(const std::vector<std::string>& args, Context& ctx);
int verb_init(const std::vector<std::string>& args, Context& ctx);
int verb_mirrors(const std::vector<std::string>& args, Context& ctx);
int verb_proxy(const std::vector<std::string>& args, Context& ctx);
int verb_doctor(const std::vector<std::string>& args, Context& ctx); // verb_doctor.cpp
int verb_download(const std::vector<std::string>& args, Context& ctx);
int verb_mirror(const std::vector<std::string>& args, Context& ctx); // `mirror sync`: verb_mirror_sync.cpp

// install --archive FILE [VERSION] (verb_install_archive.cpp): a local archive, no network.
int install_from_archive(const cxxopts::ParseResult& args, const std::vector<std::string>& positional,
                         Reporter& reporter, Context& ctx);
int verb_config(const std::vector<std::string>& args, Context& ctx);

// ---- shared by the verbs (verb_common.cpp) ----

// Parses args with opts; on a cxxopts error, prints a one-line usage error and returns nullopt
// with `exit_code` set.
std::optional<cxxopts::ParseResult> parse_args(cxxopts::Options& opts, const std::vector<std::string>& args,
                                               int& exit_code);

// Prints --help for a verb: its usage, examples, options and the exit codes.
int print_help(cxxopts::Options& opts, const char* examples);

// Reports an error and returns its exit code.
int report_error(Reporter& reporter, const Error& err);

// Emits one warning event per note on the mirrors in effect (e.g. a preferred mirror that is known
// not to host Go binaries).
void emit_mirror_notes(Reporter& reporter, const Settings& s);

// The proxy resolver for these settings: `env` (the CLI's environment) and the system's settings.
// When the system asks for proxy auto-detection without a PAC URL, WPAD runs (once per process, at
// most ~5 s; see goinstall/net/wpad.hpp); finding nothing is not an error: the resolver goes direct
// and says why.
Result<ProxyResolver> make_proxy_resolver(const Settings& s, const Env& env, const CancelToken* cancel = nullptr);

// Makes the real transport from settings.
Result<std::unique_ptr<Transport>> make_transport(const Settings& s, const Env& env,
                                                  const CancelToken* cancel = nullptr);

} // namespace goinstall::cli
