#include "cli.hpp"

#include <csignal>
#include <cstdio>
#include <cctype>
#include <cstring>
#include <map>
#include <string>

#include "exit_codes.hpp"
#include "goinstall/platform/env.hpp"
#include "verbs.hpp"

namespace goinstall::cli {

namespace {

CancelToken g_cancel;

extern "C" void on_signal(int) { g_cancel.cancel(); }

void install_signal_handlers() {
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    std::signal(SIGPIPE, SIG_IGN);
}

using VerbFn = int (*)(const std::vector<std::string>&, Context&);

const std::map<std::string, VerbFn>& verbs() {
    static const std::map<std::string, VerbFn> table = {
        {"install", verb_install}, {"list", verb_list},           {"ls-remote", verb_ls_remote},
        {"use", verb_use},         {"uninstall", verb_uninstall}, {"current", verb_current},
        {"env", verb_env},         {"init", verb_init},           {"mirrors", verb_mirrors},
        {"proxy", verb_proxy},     {"doctor", verb_doctor},       {"download", verb_download},
        {"mirror", verb_mirror},   {"config", verb_config},
    };
    return table;
}

int print_main_help() {
    std::printf("goinstall %s — a resilient installer for the Go toolchain\n\n"
                "Usage: goinstall [VERB] [ARGS] [OPTIONS]\n\n"
                "Verbs:\n"
                "  install [VERSION] download, verify and install a toolchain (the default verb)\n"
                "  list              installed toolchains (* = current)\n"
                "  ls-remote         versions available for this OS/arch (--all: betas and RCs too)\n"
                "  use VERSION       make an installed toolchain current\n"
                "  uninstall VERSION remove an installed toolchain\n"
                "  current           print the current version\n"
                "  env               print the shell line that puts the current toolchain on PATH\n"
                "  init              add that line to your shell's startup file (once; --dry-run shows it)\n"
                "  mirrors           the mirror catalogue and the order in effect (--probe: measure them)\n"
                "  proxy [URL]       which proxy each request uses, and why\n"
                "  doctor [URL|MIRROR...]  diagnose the network path to the index and mirrors, layer by layer\n"
                "  download VERSION  save a verified archive + manifest (-o DIR) for offline installs\n"
                "  mirror sync DIR   build a static mirror (index.json + archives) for air-gapped networks\n"
                "  config            the settings in effect and where each came from (flag, env, file, default)\n\n"
                "VERSION: latest, 1.21 (newest 1.21.x), 1.21.3 or go1.21.3, 1.22rc1. Without one, the project's:\n"
                "  .go-version here or in a parent, else go.mod's toolchain line, else its go line.\n"
                "Run 'goinstall VERB --help' for a verb's options.\n\n"
                "Examples:\n"
                "  goinstall latest && eval \"$(goinstall env)\"\n"
                "  goinstall 1.21.3 --prefix /usr/local\n"
                "  cd myproject && goinstall         the version its .go-version or go.mod asks for\n\n%s",
                GOINSTALL_VERSION, exit_code_help());
    return k_exit_ok;
}

} // namespace

int run(int argc, char** argv) {
    install_signal_handlers();
    SystemEnv env;
    Context ctx{&g_cancel, &env};
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty()) {
        // A bare `goinstall` installs the project's version (.go-version, go.mod) when there is one.
        auto project = project_version_spec(env);
        if (!project || *project) return verb_install({"goinstall install"}, ctx);
        print_main_help();
        return k_exit_usage;
    }
    const std::string& first = args[0];
    if (first == "-h" || first == "--help" || first == "help") {
        if (first == "help" && args.size() > 1 && verbs().count(args[1])) {
            return verbs().at(args[1])({"goinstall " + args[1], "--help"}, ctx);
        }
        return print_main_help();
    }
    if (first == "--version" || first == "version") {
        std::printf("goinstall %s\n", GOINSTALL_VERSION);
        return k_exit_ok;
    }
    std::string verb = "install";
    std::vector<std::string> rest;
    if (auto it = verbs().find(first); it != verbs().end()) {
        verb = first;
        rest.assign(args.begin() + 1, args.end());
    } else if (!first.empty() && first[0] != '-' && !std::isdigit(static_cast<unsigned char>(first[0])) &&
               !first.starts_with("go") && first != "latest" && first != "stable") {
        std::fprintf(stderr, "goinstall: error: unknown verb or version '%s' (see 'goinstall --help')\n",
                     first.c_str());
        return k_exit_usage;
    } else {
        rest = args;
    }
    rest.insert(rest.begin(), "goinstall " + verb);
    try {
        return verbs().at(verb)(rest, ctx);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "goinstall: internal error: %s\n", e.what());
        return k_exit_internal;
    }
}

} // namespace goinstall::cli
