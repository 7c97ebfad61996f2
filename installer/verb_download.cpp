// goinstall download VERSION -o DIR: the archive and its manifest, for installing elsewhere later.

#include <cstdio>

#include "exit_codes.hpp"
#include "goinstall/base/strings.hpp"
#include "goinstall/core/offline.hpp"
#include "triage_report.hpp"
#include "verbs.hpp"

namespace goinstall::cli {

namespace {

const char* k_examples = "  goinstall download 1.21.3 -o /media/usb            the host's archive + manifest\n"
                         "  goinstall download latest --os linux --arch arm64 -o ./dist\n"
                         "  # later, on a machine without network access:\n"
                         "  goinstall install --archive /media/usb/go1.21.3.linux-amd64.tar.gz\n";

} // namespace

int verb_download(const std::vector<std::string>& args, Context& ctx) {
    cxxopts::Options opts("goinstall download",
                          "Download and verify a toolchain archive into a directory, with a manifest beside it\n"
                          "(<file>.manifest.json: version, platform, SHA-256, size, index source, mirror), so that\n"
                          "'goinstall install --archive FILE' can install it later without network access.\n"
                          "Usage: goinstall download VERSION [-o DIR] [options]");
    add_common_options(opts);
    add_network_options(opts);
    add_platform_options(opts);
    add_triage_options(opts);
    // clang-format off
    opts.add_options("Download")
        ("o,output", "Directory to save the archive and manifest in (default: the current directory)", cxxopts::value<std::string>(), "DIR")
        ("sha256", "Expected SHA-256 (required when the index has none; must agree when it has one)", cxxopts::value<std::string>(), "HEX")
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
    if (positional.size() != 1) {
        return report_error(
            reporter,
            Error(ErrorCode::usage, positional.empty() ? "which version? e.g. 'goinstall download 1.21.3 -o DIR'"
                                                       : "give one version, not " + std::to_string(positional.size())));
    }
    auto settings = resolve_settings(a, *ctx.env);
    if (!settings) return report_error(reporter, settings.error());
    if (auto st = require_index(*settings); !st) return report_error(reporter, st.error());
    if (auto st = require_mirrors(*settings); !st) return report_error(reporter, st.error());

    ArchiveDownloadRequest rq;
    rq.spec = positional[0];
    rq.platform = settings->platform;
    rq.index = settings->index_options();
    rq.download = settings->download_options();
    rq.sha256_override = settings->sha256_text();
    rq.output_dir = std::filesystem::absolute(a.count("output") ? a["output"].as<std::string>() : std::string("."));
    emit_mirror_notes(reporter, *settings);
    auto transport = make_transport(*settings, *ctx.env, ctx.cancel);
    if (!transport) return report_error(reporter, transport.error());

    SystemClock clock;
    auto out = download_archive(**transport, clock, reporter, rq, ctx.cancel);
    if (!out) return report_failure(reporter, out.error(), *settings, ctx);
    Event result{EventKind::info, ""};
    result.with("version", out->version)
        .with("path", out->archive.string())
        .with("manifest", out->manifest.string())
        .with("sha256", out->sha256)
        .with("size", static_cast<std::int64_t>(out->size))
        .with("already_present", out->already_present)
        .with("mirror", out->mirror)
        .with("bytes_downloaded", static_cast<std::int64_t>(out->bytes_downloaded));
    reporter.result(out->archive.string() + (out->already_present ? " (already there, verified)" : " (verified)") +
                        "\n" + out->manifest.string(),
                    result);
    return k_exit_ok;
}

} // namespace goinstall::cli
