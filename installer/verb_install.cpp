#include <cstdio>

#include "exit_codes.hpp"
#include "goinstall/base/strings.hpp"
#include "goinstall/core/installer.hpp"
#include "triage_report.hpp"
#include "verbs.hpp"

namespace goinstall::cli {

namespace {

const char* k_examples = "  goinstall latest                      newest stable release\n"
                         "  goinstall 1.21.3                      an exact version (go1.21.3 works too)\n"
                         "  goinstall 1.21                        newest 1.21.x\n"
                         "  goinstall 1.22rc1                     a release candidate\n"
                         "  goinstall 1.21.3 --prefix /usr/local  the official layout: /usr/local/go\n"
                         "  goinstall 1.21.3 --mirror https://mirrors.aliyun.com/golang/\n";

} // namespace

int verb_install(const std::vector<std::string>& args, Context& ctx) {
    cxxopts::Options opts("goinstall install", "Download, verify and install a Go toolchain; make it current.\n"
                                               "Usage: goinstall [install] VERSION [options]");
    add_common_options(opts);
    add_network_options(opts);
    add_platform_options(opts);
    add_triage_options(opts);
    // clang-format off
    opts.add_options("Install")
        ("prefix", "Install exactly DIR/go (the official layout) instead of under the root", cxxopts::value<std::string>(), "DIR")
        ("sha256", "Expected SHA-256 (required when the index has none; must agree when it has one)", cxxopts::value<std::string>(), "HEX")
        ("reinstall", "Download and install again even if already installed")
        ("no-switch", "Do not point <root>/current at the new toolchain")
        ("archive", "Install from this local archive, no network (checksum from <FILE>.manifest.json, the cached index, or --sha256)", cxxopts::value<std::string>(), "FILE")
        ("lock-timeout", "Seconds to wait for another goinstall on the same root (default 600)", cxxopts::value<std::string>(), "SECS")
        ("check-timeout", "Seconds the installed tree's 'bin/go version' check may take, child processes included (env GOINSTALL_CHECK_TIMEOUT; default 30)", cxxopts::value<std::string>(), "SECS")
        ("version_spec", "", cxxopts::value<std::vector<std::string>>());
    // clang-format on
    opts.parse_positional({"version_spec"});
    opts.positional_help("VERSION");
    int code = 0;
    auto parsed = parse_args(opts, args, code);
    if (!parsed) return code;
    auto& a = *parsed;
    if (a.count("help")) return print_help(opts, k_examples);
    Reporter reporter(output_mode(a), *ctx.env);

    std::vector<std::string> positional;
    if (a.count("version_spec")) positional = a["version_spec"].as<std::vector<std::string>>();
    if (positional.size() > 1) {
        return report_error(reporter,
                            Error(ErrorCode::usage, "give one version, not " + std::to_string(positional.size())));
    }
    if (a.count("archive")) return install_from_archive(a, positional, reporter, ctx);
    if (positional.empty()) {
        // No version given: the project's (.go-version, go.mod), if there is one.
        auto project = project_version_spec(*ctx.env);
        if (!project) return report_error(reporter, project.error());
        if (!*project) {
            return report_error(reporter,
                                Error(ErrorCode::usage, "which version? e.g. 'goinstall latest' or 'goinstall 1.21.3' "
                                                        "(no .go-version or go.mod here or in a parent directory)"));
        }
        reporter.emit(Event{EventKind::info, "version " + (*project)->message}
                          .with("spec", (*project)->spec)
                          .with("version_file", (*project)->file.string())
                          .with("version_origin", (*project)->origin));
        positional.push_back((*project)->spec);
    }
    auto settings = resolve_settings(a, *ctx.env);
    if (!settings) return report_error(reporter, settings.error());
    auto modules = settings->module_route_options();
    bool use_index = true;
    for (auto st : {require_index(*settings), require_mirrors(*settings)}) {
        if (st) continue;
        if (!modules) return report_error(reporter, st.error());
        use_index = false; // the module proxy route alone
    }
    auto transport = make_transport(*settings, *ctx.env, ctx.cancel);
    if (!transport) return report_error(reporter, transport.error());

    InstallRequest rq;
    rq.spec = positional[0];
    rq.platform = settings->platform;
    rq.layout = settings->layout();
    rq.index = settings->index_options();
    rq.download = settings->download_options();
    rq.sha256_override = settings->sha256_text();
    rq.modules = std::move(modules);
    rq.use_index = use_index;
    rq.modules_first = settings->modules.via == ModuleRouteSettings::Via::goproxy;
    emit_mirror_notes(reporter, *settings);
    rq.reinstall = a.count("reinstall") > 0;
    rq.switch_current = a.count("no-switch") == 0;
    rq.lock_timeout = settings->lock_timeout;
    rq.check_timeout = settings->check_timeout;

    SystemClock clock;
    Installer installer(**transport, clock, reporter);
    auto out = installer.install(rq, ctx.cancel);
    if (!out) return report_failure(reporter, out.error(), *settings, ctx);

    Event result{EventKind::installed, ""};
    result.with("version", out->version)
        .with("path", out->path.string())
        .with("already_installed", out->already_installed)
        .with("switched", out->switched);
    if (!out->already_installed) {
        result.with("mirror", out->mirror)
            .with("sha256", out->sha256)
            .with("bytes_downloaded", static_cast<std::int64_t>(out->bytes_downloaded))
            .with("route", out->provenance.route)
            .with("authority", out->provenance.authority)
            .with("server", out->provenance.server);
        if (!out->h1.empty()) result.with("h1", out->h1);
    }
    std::string text;
    if (!out->already_installed) {
        text = out->version + " installed in " + out->path.string();
        if (out->provenance.route == "goproxy") {
            text += " (toolchain module from " + out->provenance.server + ", vouched for by " +
                    out->provenance.authority + ")";
        }
    } else if (out->switched) {
        text = out->version + " is now current";
    }
    reporter.result(text, result);
    return k_exit_ok;
}

} // namespace goinstall::cli
