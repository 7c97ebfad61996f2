#include "goinstall/sumdb/client.hpp"

#include "cache_tiles.hpp"
#include "goinstall/base/strings.hpp"
#include "goinstall/fs/files.hpp"

namespace goinstall::sumdb {
namespace {

// Far above any real response (a lookup is a few hundred bytes, a note under 1 KiB); bounds what a
// corrupt cache file can make us read.
constexpr std::uint64_t k_max_cached = 1U << 20;

bool is_path_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '~' || c == '+' || c == '-';
}

// A module path or version safe to put in a URL path and a cache path without escaping: x/mod
// would escape upper case as "!x", which this client does not need (golang.org/toolchain has none).
Status check_path_part(std::string_view what, std::string_view s, bool slashes) {
    bool ok = !s.empty() && s.front() != '/' && s.back() != '/';
    for (const auto& element : split(s, '/', true)) {
        if (element.empty() || element == "." || element == ".." ||
            (!slashes && s.find('/') != std::string_view::npos)) {
            ok = false;
        }
        for (char c : element) ok = ok && is_path_char(c);
    }
    if (!ok)
        return fail(ErrorCode::usage, std::string(what) + " '" + sanitize_for_display(s, 120) + "' is not supported");
    return {};
}

// Go's SECURITY ERROR report: both signed notes, and the hash the newer tree's tiles give for the
// older size (with the older note, the proof of a fork).
Error security_error(const SignedTree& older, const SignedTree& newer, const Hash& recomputed) {
    auto indent = [](const std::string& note) {
        std::string out = "\t";
        for (char c : note) {
            out += c;
            if (c == '\n') out += '\t';
        }
        return out;
    };
    std::string msg = "SECURITY ERROR: checksum database server misbehavior detected!\n";
    msg += "old database:\n" + indent(older.note) + "\n";
    msg += "new database:\n" + indent(newer.note) + "\n";
    msg += "proof of misbehavior: tree " + std::to_string(older.tree.size) + " in the new database hashes to\n\t" +
           to_base64(recomputed) + "\n\tnot to the old database's " + to_base64(older.tree.hash);
    return Error(ErrorCode::security, std::move(msg));
}

} // namespace

SumdbClient::SumdbClient(SumdbFetcher& fetcher, SumdbClientOptions options)
    : m_fetcher(fetcher), m_options(std::move(options)) {}

Status SumdbClient::check_trees(const SignedTree& older, const SignedTree& newer) {
    if (older.tree.size == newer.tree.size) {
        if (older.tree.hash == newer.tree.hash) return {};
        return std::unexpected(security_error(older, newer, newer.tree.hash)); // two signed roots for one size
    }
    detail::CacheTiles tiles(m_fetcher, m_options.cache_dir);
    TileHashReader reader(newer.tree, tiles);
    auto h = tree_hash(older.tree.size, reader);
    if (!h) {
        return std::unexpected(std::move(h.error()).with_context("checking tree " + std::to_string(older.tree.size) +
                                                                 " against tree " + std::to_string(newer.tree.size)));
    }
    if (*h != older.tree.hash) return std::unexpected(security_error(older, newer, *h));
    return {};
}

Result<bool> SumdbClient::check_against_latest(const SignedTree& tree) {
    const auto path = m_options.cache_dir / "latest";
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return true; // first use: trust on first use, as Go does
    auto text = read_file(path, k_max_cached);
    if (!text) return std::unexpected(std::move(text.error()));
    auto latest = open_tree_note(*text, m_options.key);
    if (!latest) {
        return std::unexpected(std::move(latest.error())
                                   .with_context("the cached note " + path.string() + " does not verify (remove it)"));
    }
    if (tree.tree.size <= latest->tree.size) {
        if (auto ok = check_trees(tree, *latest); !ok) return std::unexpected(std::move(ok.error()));
        return false;
    }
    if (auto ok = check_trees(*latest, tree); !ok) return std::unexpected(std::move(ok.error()));
    return true;
}

Result<SumdbLookup> SumdbClient::verify_response(const std::string& body, std::string_view module_path,
                                                 std::string_view version) {
    auto response = parse_lookup(body);
    if (!response) return std::unexpected(std::move(response.error()));
    auto tree = open_tree_note(response->note, m_options.key);
    if (!tree) return std::unexpected(std::move(tree.error()));
    auto newer = check_against_latest(*tree);
    if (!newer) return std::unexpected(std::move(newer.error()));
    detail::CacheTiles tiles(m_fetcher, m_options.cache_dir);
    auto proven = prove_record(*response, *tree, tiles);
    if (!proven) return std::unexpected(std::move(proven.error()));
    auto hashes = module_hashes(*proven, module_path, version);
    if (!hashes) return std::unexpected(std::move(hashes.error()));
    if (*newer) {
        if (auto ok = ensure_dir(m_options.cache_dir); !ok) return std::unexpected(std::move(ok.error()));
        // Another client may have moved "latest" on meanwhile: check again right before replacing it.
        auto still_newer = check_against_latest(*tree);
        if (!still_newer) return std::unexpected(std::move(still_newer.error()));
        if (*still_newer) {
            if (auto ok = write_file_atomic(m_options.cache_dir / "latest", tree->note); !ok) {
                return std::unexpected(std::move(ok.error()));
            }
        }
    }
    return SumdbLookup{*hashes, proven->id(), tree->tree, false};
}

Result<SumdbLookup> SumdbClient::lookup(std::string_view module_path, std::string_view version) {
    const std::string what = std::string(module_path) + "@" + std::string(version);
    const std::string context = "checksum database " + m_options.key.name + ": " + sanitize_for_display(what, 200);
    auto with_context = [&context](Error e) { return std::unexpected(std::move(e).with_context(context)); };
    if (auto ok = check_path_part("module path", module_path, true); !ok) return with_context(std::move(ok.error()));
    if (auto ok = check_path_part("module version", version, false); !ok) return with_context(std::move(ok.error()));

    const std::string remote = "lookup/" + what;
    const auto cached_path = m_options.cache_dir / remote;
    std::error_code ec;
    if (std::filesystem::is_regular_file(cached_path, ec)) {
        if (auto body = read_file(cached_path, k_max_cached)) {
            auto result = verify_response(*body, module_path, version);
            if (result) {
                result->from_cache = true;
                return result;
            }
            if (result.error().code() == ErrorCode::security) return with_context(std::move(result.error()));
            // Otherwise the cached copy is stale or damaged: ask the database again.
        }
    }
    auto body = m_fetcher.get(remote);
    if (!body) {
        if (detail::is_not_there(body.error())) {
            Error e(ErrorCode::not_found, "the checksum database has no record of " + sanitize_for_display(what, 200));
            if (body.error().net()) e.with_net(*body.error().net());
            return with_context(std::move(e));
        }
        return with_context(std::move(body.error()));
    }
    auto result = verify_response(*body, module_path, version);
    if (!result) return with_context(std::move(result.error()));
    if (ensure_dir(cached_path.parent_path())) (void)write_file_atomic(cached_path, *body);
    return result;
}

} // namespace goinstall::sumdb
