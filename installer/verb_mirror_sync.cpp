// goinstall mirror sync DIR: a static mirror (index.json + archives) for air-gapped networks and fleets.

#include <cstdio>

#include "exit_codes.hpp"
#include "goinstall/base/strings.hpp"
#include "goinstall/core/mirror_sync.hpp"
#include "triage_report.hpp"
#include "verbs.hpp"

namespace goinstall::cli {

namespace {

const char* k_examples =
    "  goinstall mirror sync /srv/go-mirror                         latest stable, this host's platform\n"
    "  goinstall mirror sync /srv/go-mirror --versions 1.21,1.22 --platform linux/amd64,linux/arm64\n"
    "  goinstall mirror sync DIR --versions 1.22.5 --os linux --arch amd64 --os darwin --arch arm64\n"
    "  # then, on the machines (file:// or the directory served over HTTP(S)):\n"
    "  goinstall 1.22.5 --index-url file:///srv/go-mirror/index.json --mirror file:///srv/go-mirror/ --no-fallback\n"
    "  goinstall 1.22.5 --index-url https://go-mirror.corp/index.json --mirror https://go-mirror.corp/ --no-fallback\n"
    "  goinstall mirror sync /srv/go-mirror --versions 1.22.5 --modules   # also a GOPROXY for the toolchain modules\n"
    "  GOPROXY=https://go-mirror.corp/ goinstall 1.22.5 --via goproxy      # or the go command, GOTOOLCHAIN=go1.22.5\n";

// --os/--arch are repeatable here (pairs), unlike the other verbs; they are taken out before the
// shared option parser sees them. Returns a usage error for a flag without a value.
Result<std::vector<std::string>> take_repeated(std::vector<std::string>& args, const std::string& flag) {
    std::vector<std::string> values, rest;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const auto& s = args[i];
        if (s == "--" + flag) {
            if (i + 1 >= args.size()) return fail(ErrorCode::usage, "--" + flag + " needs a value");
            values.push_back(args[++i]);
        } else if (s.starts_with("--" + flag + "=")) {
            values.push_back(s.substr(flag.size() + 3));
        } else {
            rest.push_back(s);
        }
    }
    args = std::move(rest);
    return values;
}

Result<Platform> checked_platform(const std::string& os, const std::string& arch) {
    Platform p{normalize_os(std::string(trim(os))), normalize_arch(std::string(trim(arch)))};
    for (const auto& part : {p.os, p.arch}) {
        if (part.empty() || part.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789") != std::string::npos) {
            return fail(ErrorCode::usage,
                        "'" + sanitize_for_display(os + "/" + arch, 60) + "' is not a Go OS/architecture pair");
        }
    }
    return p;
}

// The platforms asked for: --platform OS/ARCH entries, then --os/--arch pairs (one --os with several
// --arch, or the reverse, means every combination).
Result<std::vector<Platform>> platforms_from(const std::vector<std::string>& os, const std::vector<std::string>& arch,
                                             const std::vector<std::string>& pairs) {
    std::vector<Platform> out;
    auto add = [&](const std::string& o, const std::string& a) -> Status {
        auto p = checked_platform(o, a);
        if (!p) return std::unexpected(p.error());
        if (std::find(out.begin(), out.end(), *p) == out.end()) out.push_back(*p);
        return {};
    };
    for (const auto& item : pairs) {
        for (const auto& pair : split(item, ',')) {
            auto slash = pair.find('/');
            if (slash == std::string::npos)
                return fail(ErrorCode::usage, "--platform: '" + sanitize_for_display(pair, 60) + "' is not OS/ARCH");
            if (auto st = add(pair.substr(0, slash), pair.substr(slash + 1)); !st) return std::unexpected(st.error());
        }
    }
    if (os.empty() && arch.empty()) return out;
    const Platform host = host_platform();
    if (os.size() == arch.size()) {
        for (std::size_t i = 0; i < os.size(); ++i) {
            if (auto st = add(os[i], arch[i]); !st) return std::unexpected(st.error());
        }
    } else if (os.size() <= 1 || arch.size() <= 1) {
        for (const auto& o : os.empty() ? std::vector<std::string>{host.os} : os) {
            for (const auto& a : arch.empty() ? std::vector<std::string>{host.arch} : arch) {
                if (auto st = add(o, a); !st) return std::unexpected(st.error());
            }
        }
    } else {
        return fail(ErrorCode::usage, "give --os and --arch in pairs (" + std::to_string(os.size()) + " --os, " +
                                          std::to_string(arch.size()) + " --arch), or use --platform OS/ARCH");
    }
    return out;
}

} // namespace

int verb_mirror(const std::vector<std::string>& in_args, Context& ctx) {
    cxxopts::Options opts("goinstall mirror",
                          "Build or update a static mirror directory: DIR/index.json (go.dev's index format, only the\n"
                          "synced files) and DIR/<archive> as on the official download site. Checksums come from the\n"
                          "upstream index; interrupted syncs resume; files already verified are not fetched again.\n"
                          "Usage: goinstall mirror sync DIR [--versions SPEC,...] [--platform OS/ARCH,...] [options]");
    add_common_options(opts);
    add_network_options(opts);
    add_triage_options(opts);
    // clang-format off
    opts.add_options("Mirror")
        ("versions", "Versions to sync (latest, 1.22, 1.22.5; repeatable or comma-separated; default latest)", cxxopts::value<std::vector<std::string>>(), "SPEC")
        ("platform", "Platforms to sync, OS/ARCH (repeatable or comma-separated; default this host)", cxxopts::value<std::vector<std::string>>(), "OS/ARCH")
        ("os", "Target OS; repeatable, paired with --arch in order", cxxopts::value<std::string>(), "OS")
        ("arch", "Target architecture; repeatable, paired with --os in order", cxxopts::value<std::string>(), "ARCH")
        ("lock-timeout", "Seconds to wait for another sync of DIR (default 600)", cxxopts::value<std::string>(), "SECS")
        ("modules", "Also make DIR a Go module proxy for the toolchain modules (golang.org/toolchain, from GOPROXY, "
                    "checked by GOSUMDB) with the checksum database under DIR/sumdb/, for goinstall --via goproxy "
                    "and the go command (GOPROXY=file://DIR or https://host/)")
        ("words", "", cxxopts::value<std::vector<std::string>>());
    // clang-format on
    opts.parse_positional({"words"});
    opts.positional_help("sync DIR");
    std::vector<std::string> args = in_args;
    auto os = take_repeated(args, "os");
    auto arch = os ? take_repeated(args, "arch") : Result<std::vector<std::string>>(std::unexpected(os.error()));
    int code = 0;
    auto parsed = parse_args(opts, args, code);
    if (!parsed) return code;
    auto& a = *parsed;
    if (a.count("help")) return print_help(opts, k_examples);
    Reporter reporter(output_mode(a), *ctx.env);
    if (!arch) return report_error(reporter, arch.error());

    std::vector<std::string> words;
    if (a.count("words")) words = a["words"].as<std::vector<std::string>>();
    if (words.size() != 2 || words[0] != "sync") {
        return report_error(reporter, Error(ErrorCode::usage, "usage: goinstall mirror sync DIR [--versions SPEC,...] "
                                                              "[--platform OS/ARCH,...]"));
    }
    auto platforms = platforms_from(
        *os, *arch, a.count("platform") ? a["platform"].as<std::vector<std::string>>() : std::vector<std::string>{});
    if (!platforms) return report_error(reporter, platforms.error());
    auto settings = resolve_settings(a, *ctx.env);
    if (!settings) return report_error(reporter, settings.error());
    if (auto st = require_index(*settings); !st) return report_error(reporter, st.error());
    if (auto st = require_mirrors(*settings); !st) return report_error(reporter, st.error());

    MirrorSyncRequest rq;
    rq.dir = std::filesystem::absolute(words[1]);
    if (a.count("versions")) {
        for (const auto& v : a["versions"].as<std::vector<std::string>>()) {
            for (const auto& part : split(v, ',')) rq.specs.emplace_back(trim(part));
        }
    }
    rq.platforms = std::move(*platforms);
    rq.index = settings->index_options();
    rq.download = settings->download_options();
    rq.lock_timeout = settings->lock_timeout;
    if (a.count("modules")) {
        rq.modules = settings->module_route_options();
        if (!rq.modules || rq.modules->goproxy.empty() ||
            rq.modules->goproxy.front().kind == sumdb::ProxyEntry::Kind::off) {
            return report_error(reporter, Error(ErrorCode::usage, "--modules needs a module proxy to read from "
                                                                  "(GOPROXY=off or --via index given)"));
        }
        if (rq.modules->gosumdb.off) { // refused before any archive is synced
            return report_error(reporter,
                                Error(ErrorCode::usage, "--modules needs the checksum database (GOSUMDB=off): "
                                                        "a module mirror serves only zips it vouches for"));
        }
    }
    emit_mirror_notes(reporter, *settings);
    auto transport = make_transport(*settings, *ctx.env, ctx.cancel);
    if (!transport) return report_error(reporter, transport.error());

    SystemClock clock;
    auto out = sync_mirror(**transport, clock, reporter, rq, ctx.cancel);
    if (!out) return report_failure(reporter, out.error(), *settings, ctx);
    std::int64_t downloaded = 0;
    std::string text;
    for (const auto& f : out->files) {
        downloaded += f.downloaded ? 1 : 0;
        text += f.filename + (f.downloaded ? "\tdownloaded" : "\talready there") + "\n";
        if (reporter.mode() == OutputMode::json) {
            reporter.emit(Event{EventKind::info, ""}
                              .with("filename", f.filename)
                              .with("version", f.version)
                              .with("os", f.platform.os)
                              .with("arch", f.platform.arch)
                              .with("size", static_cast<std::int64_t>(f.size))
                              .with("downloaded", f.downloaded));
        }
    }
    text += out->index_path.string() + "\t" + std::to_string(out->index_files) + " files listed";
    std::int64_t modules_downloaded = 0;
    if (out->modules) {
        for (const auto& m : out->modules->modules) {
            modules_downloaded += m.downloaded ? 1 : 0;
            text += "\ngolang.org/toolchain@" + m.module_version + (m.downloaded ? "\tdownloaded" : "\talready there");
            if (reporter.mode() == OutputMode::json) {
                reporter.emit(Event{EventKind::info, ""}
                                  .with("module", "golang.org/toolchain@" + m.module_version)
                                  .with("h1", m.h1)
                                  .with("downloaded", m.downloaded));
            }
        }
        text += "\n" + (rq.dir / "golang.org/toolchain/@v/list").string() + "\t" +
                std::to_string(out->modules->listed) + " versions listed; checksum database " +
                out->modules->sumdb_name + " under " + (rq.dir / "sumdb").string();
    }
    Event result{EventKind::info, ""};
    if (out->modules) {
        result.with("modules", static_cast<std::int64_t>(out->modules->modules.size()))
            .with("modules_downloaded", modules_downloaded)
            .with("modules_listed", static_cast<std::int64_t>(out->modules->listed))
            .with("sumdb", out->modules->sumdb_name)
            .with("sumdb_files", static_cast<std::int64_t>(out->modules->sumdb_files));
    }
    reporter.result(text, std::move(result)
                              .with("dir", rq.dir.string())
                              .with("index", out->index_path.string())
                              .with("files", static_cast<std::int64_t>(out->files.size()))
                              .with("downloaded", downloaded)
                              .with("bytes_downloaded", static_cast<std::int64_t>(out->bytes_downloaded))
                              .with("index_files", static_cast<std::int64_t>(out->index_files)));
    return k_exit_ok;
}

} // namespace goinstall::cli
