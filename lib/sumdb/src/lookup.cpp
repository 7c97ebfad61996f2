#include "goinstall/sumdb/lookup.hpp"

#include "goinstall/base/strings.hpp"
#include "utf8.hpp"

namespace goinstall::sumdb {
namespace {

std::unexpected<Error> bad_lookup(const std::string& why) {
    return fail(ErrorCode::checksum, "checksum database lookup: " + why);
}

} // namespace

Result<LookupResponse> parse_lookup(std::string_view body) {
    if (body.empty()) return bad_lookup("empty response");
    const auto nl = body.find('\n');
    if (nl == std::string_view::npos) return bad_lookup("malformed response (no record id line)");
    const std::string_view id_text = body.substr(0, nl);
    auto id = parse_u64(id_text);
    if (!id || *id > static_cast<std::uint64_t>(k_max_tree_size) || (id_text.size() > 1 && id_text[0] == '0')) {
        return bad_lookup("malformed record id '" + sanitize_for_display(id_text, 40) + "'");
    }
    const std::string_view rest = body.substr(nl + 1);
    const auto blank = rest.find("\n\n");
    if (blank == std::string_view::npos) return bad_lookup("malformed response (no blank line after the record)");
    LookupResponse out;
    out.id = static_cast<std::int64_t>(*id);
    out.record = std::string(rest.substr(0, blank + 1));
    out.note = std::string(rest.substr(blank + 2));
    if (!detail::is_record_text(out.record)) return bad_lookup("malformed record text");
    return out;
}

Result<ProvenRecord> prove_record(const LookupResponse& response, const SignedTree& tree, TileReader& tiles) {
    if (auto ok = check_record_in_tree(tree.tree, response.id, response.record, tiles); !ok) {
        return std::unexpected(std::move(ok.error()));
    }
    return ProvenRecord(response.id, response.record, tree);
}

bool is_h1_hash(std::string_view s) {
    return s.starts_with("h1:") && s.size() == 3 + 44 && parse_hash(s.substr(3)).has_value();
}

Result<ModuleHashes> module_hashes(const ProvenRecord& record, std::string_view module_path, std::string_view version) {
    const std::string zip_prefix = std::string(module_path) + " " + std::string(version) + " ";
    const std::string mod_prefix = std::string(module_path) + " " + std::string(version) + "/go.mod ";
    const std::string what = std::string(module_path) + "@" + std::string(version);
    ModuleHashes out;
    int zip_lines = 0, mod_lines = 0;
    for (const std::string& line : split(record.text(), '\n')) {
        std::string* slot = nullptr;
        std::string_view hash;
        if (line.starts_with(zip_prefix)) {
            slot = &out.zip;
            hash = std::string_view(line).substr(zip_prefix.size());
            ++zip_lines;
        } else if (line.starts_with(mod_prefix)) {
            slot = &out.go_mod;
            hash = std::string_view(line).substr(mod_prefix.size());
            ++mod_lines;
        } else {
            continue; // a line for another module or version: Go ignores these as well
        }
        if (!is_h1_hash(hash)) {
            return bad_lookup("record " + std::to_string(record.id()) + " has a malformed line for " + what + ": '" +
                              sanitize_for_display(line, 160) + "'");
        }
        *slot = std::string(hash);
    }
    if (zip_lines == 0 && mod_lines == 0) {
        return bad_lookup("record " + std::to_string(record.id()) + " is not about " + what);
    }
    if (zip_lines != 1 || mod_lines != 1) {
        return bad_lookup("record " + std::to_string(record.id()) + " has " + std::to_string(zip_lines) + " zip and " +
                          std::to_string(mod_lines) + " go.mod lines for " + what + ", want one each");
    }
    return out;
}

} // namespace goinstall::sumdb
