#include "goinstall/release/index.hpp"

#include <algorithm>
#include <exception>
#include <optional>

#include <nlohmann/json.hpp>

#include "goinstall/base/strings.hpp"
#include "goinstall/base/url.hpp"

namespace goinstall {
namespace {

using nlohmann::json;

// Collects the context every index_invalid message starts with.
class Problem {
public:
    explicit Problem(std::string_view source_url) : m_prefix("release index from " + redact_url(source_url)) {}

    std::unexpected<Error> operator()(const std::string& what) const {
        return fail(ErrorCode::index_invalid, m_prefix + " " + what);
    }

private:
    std::string m_prefix;
};

const char* type_name(const json& j) { return j.type_name(); }

// "an array", "a number", "null": the type with its article, for messages.
std::string a_type(const json& j) {
    if (j.is_null()) return "null";
    const std::string name = j.type_name();
    return (name.front() == 'a' || name.front() == 'o' ? "an " : "a ") + name;
}

// Where an entry or file sits, for messages: "entry 12 (go1.21.3) file 3".
std::string where(std::size_t entry, const std::string& version, std::optional<std::size_t> file = {}) {
    std::string out = "entry " + std::to_string(entry);
    if (!version.empty()) out += " (" + sanitize_for_display(version, 40) + ")";
    if (file) out += " file " + std::to_string(*file);
    return out;
}

// Reads an optional string field; false (after setting `bad`) when present with another type.
bool read_string(const json& obj, const char* key, std::string& out, std::string& bad) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return true;
    if (!it->is_string()) {
        bad = std::string("has \"") + key + "\" of type " + type_name(*it) + ", expected a string";
        return false;
    }
    out = it->get<std::string>();
    return true;
}

// Fills `file` from one element of "files"; on failure returns what was wrong.
std::optional<std::string> read_file(const json& j, ReleaseFile& file) {
    if (!j.is_object()) return "is " + a_type(j) + ", expected an object";
    auto name = j.find("filename");
    if (name == j.end() || !name->is_string() || name->get_ref<const std::string&>().empty())
        return std::string("has no \"filename\" string");
    file.filename = name->get<std::string>();
    if (!is_plain_file_name(file.filename))
        return "has \"filename\" '" + sanitize_for_display(file.filename, 80) + "' that is not a plain file name";
    std::string bad;
    for (auto [key, field] : {std::pair{"os", &file.os},
                              {"arch", &file.arch},
                              {"version", &file.version},
                              {"sha256", &file.sha256},
                              {"kind", &file.kind}}) {
        if (!read_string(j, key, *field, bad)) return bad;
    }
    // Empty means "unknown" and is kept (307 old files in the full index,
    // docs/field-notes.md#release-index).
    if (!file.sha256.empty() && !is_hex(file.sha256, 64))
        return "has a malformed \"sha256\" '" + sanitize_for_display(file.sha256, 80) + "'";
    if (auto size = j.find("size"); size != j.end() && !size->is_null()) {
        if (!size->is_number_unsigned()) // nlohmann stores every non-negative integer as unsigned
            return std::string("has \"size\" that is not a non-negative integer");
        file.size = size->get<std::uint64_t>();
    }
    return std::nullopt;
}

// Reads one top-level entry. Returns an error message, or nullopt with `out` set (or left empty
// when the version does not parse and the entry is to be skipped).
std::optional<std::string> read_release(const json& j, std::size_t n, std::optional<Release>& out) {
    if (!j.is_object()) return where(n, "") + " is " + a_type(j) + ", expected an object";
    auto ver = j.find("version");
    if (ver == j.end() || !ver->is_string()) return where(n, "") + " has no \"version\" string";
    const auto& text = ver->get_ref<const std::string&>();
    auto files = j.find("files");
    if (files == j.end() || !files->is_array()) return where(n, text) + " has no \"files\" array";
    bool stable_flag = false;
    auto stable = j.find("stable");
    const bool has_stable = stable != j.end() && !stable->is_null();
    if (has_stable) {
        if (!stable->is_boolean()) return where(n, text) + " has \"stable\" that is not a boolean";
        stable_flag = stable->get<bool>();
    }
    Release release;
    release.files.reserve(files->size());
    for (std::size_t i = 0; i < files->size(); ++i) {
        ReleaseFile file;
        if (auto bad = read_file((*files)[i], file)) return where(n, text, i) + " " + *bad;
        release.files.push_back(std::move(file));
    }
    auto version = parse_version(text);
    if (!version) return std::nullopt; // skipped: counted by the caller
    release.stable = has_stable ? stable_flag : version->is_stable();
    release.version = std::move(*version);
    out = std::move(release);
    return std::nullopt;
}

Result<json> parse_json(std::string_view text, const Problem& problem) {
    if (trim(text).empty()) return problem("is empty");
    if (trim(text).front() == '<') return problem("is not JSON (it looks like an HTML page)");
    try {
        return json::parse(text.begin(), text.end());
    } catch (const json::parse_error& e) {
        // nlohmann counts the end of input as one byte past the text.
        const bool at_end = e.byte > text.size();
        return problem(std::string("is not valid JSON (") + (at_end ? "truncated? " : "") + "parse error at byte " +
                       std::to_string(std::min(e.byte, text.size())) + ")");
    } catch (const std::exception& e) {
        return problem(std::string("could not be parsed: ") + e.what());
    }
}

} // namespace

bool is_plain_file_name(std::string_view name) {
    if (name.empty() || name.front() == '.') return false;
    return std::none_of(name.begin(), name.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return c == '/' || c == '\\' || c == ':' || u < 0x20 || u == 0x7f;
    });
}

Result<ReleaseIndex> parse_index(std::string_view text, std::string_view source_url, std::size_t* skipped) {
    if (skipped) *skipped = 0;
    const Problem problem(source_url);
    try {
        auto doc = parse_json(text, problem);
        if (!doc) return std::unexpected(std::move(doc.error()));
        if (!doc->is_array())
            return problem(std::string("is a JSON ") + type_name(*doc) + ", expected an array of releases");

        ReleaseIndex index;
        index.releases.reserve(doc->size());
        std::size_t dropped = 0;
        for (std::size_t n = 0; n < doc->size(); ++n) {
            std::optional<Release> release;
            if (auto bad = read_release((*doc)[n], n, release)) return problem(*bad);
            if (release) {
                index.releases.push_back(std::move(*release));
            } else {
                ++dropped;
            }
        }
        // Raw order is not sorted (docs/field-notes.md#release-index). A stable sort keeps equal
        // versions in raw order, so erasing adjacent duplicates keeps the first one the index
        // listed.
        std::stable_sort(index.releases.begin(), index.releases.end(),
                         [](const Release& a, const Release& b) { return a.version > b.version; });
        auto dup = std::unique(index.releases.begin(), index.releases.end(),
                               [](const Release& a, const Release& b) { return a.version == b.version; });
        dropped += static_cast<std::size_t>(index.releases.end() - dup);
        index.releases.erase(dup, index.releases.end());
        if (skipped) *skipped = dropped;
        return index;
    } catch (const std::exception& e) { // bad_alloc or a nlohmann surprise: never escapes
        return problem(std::string("could not be parsed: ") + e.what());
    }
}

std::string serialize_index(const ReleaseIndex& index) {
    // ordered_json keeps go.dev's key order; dump(1) matches its 1-space layout.
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const auto& release : index.releases) {
        nlohmann::ordered_json files = nlohmann::ordered_json::array();
        for (const auto& f : release.files) {
            files.push_back({{"filename", f.filename},
                             {"os", f.os},
                             {"arch", f.arch},
                             {"version", f.version},
                             {"sha256", f.sha256},
                             {"size", f.size},
                             {"kind", f.kind}});
        }
        out.push_back(
            {{"version", to_string(release.version)}, {"stable", release.stable}, {"files", std::move(files)}});
    }
    // Invalid UTF-8 cannot come from parse_index; `replace` keeps dump() from throwing on
    // hand-built data.
    return out.dump(1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

} // namespace goinstall
