// Verbs that manage installed toolchains: list, use, uninstall, current; and the shell side: env, init.
#include <cstdio>

#include "exit_codes.hpp"
#include "goinstall/base/strings.hpp"
#include "goinstall/fs/file_lock.hpp"
#include "goinstall/install/layout.hpp"
#include "goinstall/install/toolchain.hpp"
#include "goinstall/release/version.hpp"
#include "shell_profile.hpp"
#include "verbs.hpp"

namespace goinstall::cli {

namespace {

struct Parsed {
    cxxopts::ParseResult args;
    Settings settings;
    std::vector<std::string> positional;
};

// Parses a management verb's arguments; returns nullopt with `code` set when it should exit.
std::optional<Parsed> parse_manage(const char* name, const char* summary, const char* examples, bool takes_version,
                                   const std::vector<std::string>& args, Context& ctx, int& code,
                                   void (*extra)(cxxopts::Options&) = nullptr) {
    cxxopts::Options opts(std::string("goinstall ") + name, summary);
    add_common_options(opts);
    // clang-format off
    opts.add_options("Locking")("lock-timeout", "Seconds to wait for another goinstall (default 600)",
                                cxxopts::value<std::string>(), "SECS");
    // clang-format on
    if (extra != nullptr) extra(opts);
    opts.add_options()("positional", "", cxxopts::value<std::vector<std::string>>());
    opts.parse_positional({"positional"});
    opts.positional_help(takes_version ? "VERSION" : "");
    auto a = parse_args(opts, args, code);
    if (!a) return std::nullopt;
    if (a->count("help")) {
        code = print_help(opts, examples);
        return std::nullopt;
    }
    Reporter reporter(output_mode(*a), *ctx.env);
    std::vector<std::string> pos;
    if (a->count("positional")) pos = (*a)["positional"].as<std::vector<std::string>>();
    if (takes_version && pos.size() != 1) {
        code = report_error(reporter, Error(ErrorCode::usage, std::string("usage: goinstall ") + name + " VERSION"));
        return std::nullopt;
    }
    if (!takes_version && !pos.empty()) {
        code =
            report_error(reporter, Error(ErrorCode::usage, std::string("goinstall ") + name + " takes no arguments"));
        return std::nullopt;
    }
    auto s = resolve_settings(*a, *ctx.env);
    if (!s) {
        code = report_error(reporter, s.error());
        return std::nullopt;
    }
    return Parsed{*a, std::move(*s), std::move(pos)}; // cxxopts::ParseResult is copy-only
}

// "1.21.3" / "go1.21.3" → "go1.21.3"; usage error otherwise.
Result<std::string> exact_version(const std::string& text) {
    auto v = parse_version(text);
    if (!v) {
        return fail(ErrorCode::usage, "'" + sanitize_for_display(text, 80) + "' is not a Go version (e.g. 1.21.3)");
    }
    return v->text;
}

} // namespace

int verb_list(const std::vector<std::string>& args, Context& ctx) {
    int code = 0;
    auto p = parse_manage("list", "List installed toolchains; * marks the current one.", "  goinstall list\n", false,
                          args, ctx, code);
    if (!p) return code;
    Reporter reporter(p->settings.output, *ctx.env);
    auto items = list_installed(p->settings.layout());
    std::string text;
    for (const auto& t : items) {
        text += (t.active ? "* " : "  ") + t.version + "\t" + t.path.string() + "\n";
    }
    if (!text.empty()) text.pop_back();
    if (reporter.mode() == OutputMode::json) {
        for (const auto& t : items) {
            reporter.emit(Event{EventKind::info, ""}
                              .with("version", t.version)
                              .with("path", t.path.string())
                              .with("active", t.active));
        }
    }
    reporter.result(text, Event{EventKind::info, ""}.with("count", static_cast<std::int64_t>(items.size())));
    return k_exit_ok;
}

int verb_current(const std::vector<std::string>& args, Context& ctx) {
    int code = 0;
    auto p = parse_manage("current", "Print the current toolchain version.", "  goinstall current\n", false, args, ctx,
                          code);
    if (!p) return code;
    Reporter reporter(p->settings.output, *ctx.env);
    auto v = current_version(p->settings.layout());
    if (!v) {
        return report_error(
            reporter, Error(ErrorCode::not_found, "no current toolchain (install one, or 'goinstall use VERSION')"));
    }
    reporter.result(
        *v, Event{EventKind::info, ""}.with("version", *v).with("path", (p->settings.layout().root() / *v).string()));
    return k_exit_ok;
}

int verb_use(const std::vector<std::string>& args, Context& ctx) {
    int code = 0;
    auto p = parse_manage("use", "Make an installed toolchain current.\nUsage: goinstall use VERSION",
                          "  goinstall use 1.21.3\n", true, args, ctx, code);
    if (!p) return code;
    Reporter reporter(p->settings.output, *ctx.env);
    auto version = exact_version(p->positional[0]);
    if (!version) return report_error(reporter, version.error());
    auto layout = p->settings.layout();
    auto lock = FileLock::acquire(layout.lock_path(), p->settings.lock_timeout, ctx.cancel);
    if (!lock) return report_error(reporter, lock.error());
    if (auto st = use_version(layout, *version); !st) return report_error(reporter, st.error());
    reporter.result(*version + " is now current", Event{EventKind::switched, ""}.with("version", *version));
    return k_exit_ok;
}

int verb_uninstall(const std::vector<std::string>& args, Context& ctx) {
    int code = 0;
    auto p = parse_manage("uninstall", "Remove an installed toolchain.\nUsage: goinstall uninstall VERSION",
                          "  goinstall uninstall 1.21.3\n", true, args, ctx, code);
    if (!p) return code;
    Reporter reporter(p->settings.output, *ctx.env);
    auto version = exact_version(p->positional[0]);
    if (!version) return report_error(reporter, version.error());
    auto layout = p->settings.layout();
    std::error_code ec;
    if (!std::filesystem::exists(layout.root(), ec)) {
        return report_error(reporter, Error(ErrorCode::not_found, *version + " is not installed"));
    }
    auto lock = FileLock::acquire(layout.lock_path(), p->settings.lock_timeout, ctx.cancel);
    if (!lock) return report_error(reporter, lock.error());
    bool was_active = false;
    if (auto st = uninstall_version(layout, *version, &was_active); !st) return report_error(reporter, st.error());
    reporter.result(*version + " uninstalled" + (was_active ? " (it was current; no toolchain is current now)" : ""),
                    Event{EventKind::info, ""}.with("version", *version).with("was_current", was_active));
    return k_exit_ok;
}

int verb_env(const std::vector<std::string>& args, Context& ctx) {
    int code = 0;
    auto p =
        parse_manage("env", "Print the shell line that puts the current toolchain on PATH.",
                     "  eval \"$(goinstall env)\"\n  goinstall env --shell fish | source\n"
                     "  goinstall env --shell powershell | Invoke-Expression\n",
                     false, args, ctx, code, [](cxxopts::Options& o) {
                         // clang-format off
                              o.add_options("Shell")("shell", "bash, zsh, sh, fish or powershell (default: from $SHELL)",
                                                     cxxopts::value<std::string>(), "SHELL");
                         // clang-format on
                     });
    if (!p) return code;
    Reporter reporter(p->settings.output, *ctx.env);
    auto shell = normalize_shell(p->args.count("shell") ? p->args["shell"].as<std::string>() : "", *ctx.env);
    if (!shell) return report_error(reporter, shell.error());
    auto bin = p->settings.layout().current_link() / "bin";
    auto line = shell_path_line(*shell, bin);
    reporter.result(line, Event{EventKind::info, ""}.with("path", bin.string()).with("line", line));
    return k_exit_ok;
}

int verb_init(const std::vector<std::string>& args, Context& ctx) {
    int code = 0;
    auto p = parse_manage(
        "init",
        "Add the line of 'goinstall env' to your shell's startup file, once: a second run changes nothing.\n"
        "It prints the line and the file. Files: ~/.bashrc, ${ZDOTDIR:-~}/.zshrc, ~/.profile (sh),\n"
        "$XDG_CONFIG_HOME/fish/conf.d/goinstall.fish, $XDG_CONFIG_HOME/powershell/Microsoft.PowerShell_profile.ps1.",
        "  goinstall init                   the shell in $SHELL\n"
        "  goinstall init --shell zsh\n"
        "  goinstall init --dry-run         show the file and the line, change nothing\n"
        "  goinstall init --profile ~/.bash_profile\n",
        false, args, ctx, code, [](cxxopts::Options& o) {
            // clang-format off
            o.add_options("Shell")("shell", "bash, zsh, sh, fish or powershell (default: from $SHELL)",
                                   cxxopts::value<std::string>(), "SHELL")(
                "profile", "The file to add the line to (default: the shell's startup file)",
                cxxopts::value<std::string>(), "FILE")("dry-run", "Print what would be added, change nothing");
            // clang-format on
        });
    if (!p) return code;
    Reporter reporter(p->settings.output, *ctx.env);
    auto shell = normalize_shell(p->args.count("shell") ? p->args["shell"].as<std::string>() : "", *ctx.env);
    if (!shell) return report_error(reporter, shell.error());
    Result<std::filesystem::path> profile = p->args.count("profile")
                                                ? Result<std::filesystem::path>(p->args["profile"].as<std::string>())
                                                : default_profile(*shell, *ctx.env);
    if (!profile) return report_error(reporter, profile.error());
    if (profile->empty()) return report_error(reporter, Error(ErrorCode::usage, "--profile: an empty path"));
    auto bin = p->settings.layout().current_link() / "bin";
    auto line = shell_path_line(*shell, bin);
    const std::string shown = sanitize_for_display(profile->string(), 300);
    auto data = [&](bool changed) {
        return Event{EventKind::info, ""}
            .with("profile", profile->string())
            .with("line", line)
            .with("changed", changed)
            .with("dry_run", p->args.count("dry-run") > 0);
    };
    if (p->args.count("dry-run")) {
        reporter.result("would add to " + shown + ":\n" + line, data(false));
        return k_exit_ok;
    }
    auto added = append_line_once(*profile, "# Added by 'goinstall init': the current Go toolchain on PATH", line);
    if (!added) return report_error(reporter, added.error());
    if (*added) {
        reporter.result("added to " + shown + ":\n" + line + "\n(open a new shell, or run the line now)", data(true));
    } else {
        reporter.result(shown + " already has the line:\n" + line, data(false));
    }
    return k_exit_ok;
}

} // namespace goinstall::cli
