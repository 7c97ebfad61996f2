// goinstall install --archive FILE [VERSION]: install from a local archive, without the network.

#include "exit_codes.hpp"
#include "goinstall/base/strings.hpp"
#include "goinstall/core/offline.hpp"
#include "verbs.hpp"

namespace goinstall::cli {

int install_from_archive(const cxxopts::ParseResult& a, const std::vector<std::string>& positional, Reporter& reporter,
                         Context& ctx) {
    if (positional.size() > 1) {
        return report_error(reporter, Error(ErrorCode::usage, "give at most one version with --archive, not " +
                                                                  std::to_string(positional.size())));
    }
    auto settings = resolve_settings(a, *ctx.env);
    if (!settings) return report_error(reporter, settings.error());
    const auto file = a["archive"].as<std::string>();
    if (file.empty()) return report_error(reporter, Error(ErrorCode::usage, "--archive needs a file"));

    ArchiveInstallRequest rq;
    rq.archive = std::filesystem::absolute(file);
    if (!positional.empty()) rq.spec = positional.front();
    if (a.count("os") || a.count("arch")) rq.platform = settings->platform;
    rq.layout = settings->layout();
    rq.cache_dir = settings->cache_dir;
    rq.index_url = settings->index_url;
    rq.sha256_override = settings->sha256_text();
    rq.reinstall = a.count("reinstall") > 0;
    rq.switch_current = a.count("no-switch") == 0;
    rq.lock_timeout = settings->lock_timeout;
    rq.check_timeout = settings->check_timeout;

    auto out = install_archive(reporter, rq, ctx.cancel);
    if (!out) return report_error(reporter, out.error());
    Event result{EventKind::installed, ""};
    result.with("version", out->version)
        .with("path", out->path.string())
        .with("already_installed", out->already_installed)
        .with("switched", out->switched)
        .with("archive", rq.archive.string());
    if (!out->already_installed) result.with("sha256", out->sha256);
    std::string text;
    if (!out->already_installed) {
        text = out->version + " installed in " + out->path.string() + " (from " + rq.archive.filename().string() + ")";
    } else if (out->switched) {
        text = out->version + " is now current";
    }
    reporter.result(text, result);
    return k_exit_ok;
}

} // namespace goinstall::cli
