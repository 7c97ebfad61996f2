#include "goinstall/download/catalog.hpp"

#include <algorithm>
#include <optional>
#include <nlohmann/json.hpp>

#include "goinstall/base/strings.hpp"
#include "goinstall/base/url.hpp"

namespace goinstall {

extern const char* const k_builtin_mirrors_json; // generated from data/mirrors.json

namespace {

using nlohmann::json;

Result<MirrorStatus> parse_status(const std::string& s, std::string_view where) {
    static const std::pair<const char*, MirrorStatus> table[] = {
        {"ok", MirrorStatus::ok},           {"unverified", MirrorStatus::unverified},
        {"stale", MirrorStatus::stale},     {"missing", MirrorStatus::missing},
        {"retired", MirrorStatus::retired}, {"disabled", MirrorStatus::disabled}};
    for (const auto& [name, st] : table) {
        if (s == name) return st;
    }
    return fail(ErrorCode::usage, std::string(where) + ": status '" + sanitize_for_display(s, 40) +
                                      "' is not one of ok, unverified, stale, missing, retired, disabled");
}

Result<std::string> get_string(const json& obj, const char* key, std::string_view where) {
    const auto& v = obj.at(key);
    if (!v.is_string()) {
        return fail(ErrorCode::usage, std::string(where) + ": '" + key + "' must be a string");
    }
    return v.get<std::string>();
}

// Fills `e` from a JSON object, field by field; unknown keys are errors.
Status apply_fields(CatalogEntry& e, const json& obj, std::string_view where) {
    std::optional<bool> enabled; // applied after "status", whatever the key order
    for (const auto& [key, value] : obj.items()) {
        if (key == "name") continue;
        if (key == "url" || key == "index" || key == "region" || key == "checked" || key == "note" || key == "status") {
            auto s = get_string(obj, key.c_str(), where);
            if (!s) return std::unexpected(s.error());
            if (key == "url" || key == "index") {
                auto u = parse_url(*s);
                if (!u || (u->scheme != "http" && u->scheme != "https" && u->scheme != "file")) {
                    return fail(ErrorCode::usage, std::string(where) + ": '" + key +
                                                      "' is not an http(s):// or file:// URL: '" + redact_url(*s) +
                                                      "'");
                }
                (key == "url" ? e.url : e.index_url) = *s;
            } else if (key == "status") {
                auto st = parse_status(*s, where);
                if (!st) return std::unexpected(st.error());
                e.status = *st;
            } else if (key == "region") {
                e.region = *s;
            } else if (key == "checked") {
                e.checked = *s;
            } else {
                e.note = *s;
            }
        } else if (key == "serves") {
            if (!value.is_array()) return fail(ErrorCode::usage, std::string(where) + ": 'serves' must be a list");
            e.serves.clear();
            for (const auto& s : value) {
                if (!s.is_string()) return fail(ErrorCode::usage, std::string(where) + ": 'serves' must list strings");
                e.serves.push_back(s.get<std::string>());
            }
        } else if (key == "enabled") {
            if (!value.is_boolean())
                return fail(ErrorCode::usage, std::string(where) + ": 'enabled' must be true or false");
            enabled = value.get<bool>();
        } else {
            return fail(ErrorCode::usage, std::string(where) + ": unknown key '" + sanitize_for_display(key, 40) + "'");
        }
    }
    if (enabled == false)
        e.status = MirrorStatus::disabled;
    else if (enabled == true && e.status == MirrorStatus::disabled)
        e.status = MirrorStatus::ok;
    return {};
}

Result<Catalog> parse_catalog_json(Catalog base, std::string_view text, std::string_view source, bool builtin) {
    json doc = json::parse(text.begin(), text.end(), nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) {
        return fail(ErrorCode::usage, std::string(source) + " is not a JSON object");
    }
    bool keep_builtin = true;
    for (const auto& [key, value] : doc.items()) {
        if (key == "schema" || key == "about") continue;
        if (key == "builtin") {
            if (!value.is_boolean())
                return fail(ErrorCode::usage, std::string(source) + ": 'builtin' must be true or false");
            keep_builtin = value.get<bool>();
        } else if (key != "mirrors") {
            return fail(ErrorCode::usage,
                        std::string(source) + ": unknown key '" + sanitize_for_display(key, 40) + "'");
        }
    }
    if (!keep_builtin) {
        // Keep the built-ins the file names: their entries below override them.
        std::vector<std::string> named;
        if (auto m = doc.find("mirrors"); m != doc.end() && m->is_array()) {
            for (const auto& obj : *m) {
                if (obj.is_object() && obj.contains("name") && obj["name"].is_string())
                    named.push_back(obj["name"].get<std::string>());
            }
        }
        std::erase_if(base.entries, [&](const CatalogEntry& e) {
            return e.builtin && std::find(named.begin(), named.end(), e.name) == named.end();
        });
    }
    if (doc.contains("mirrors")) {
        const auto& list = doc["mirrors"];
        if (!list.is_array()) return fail(ErrorCode::usage, std::string(source) + ": 'mirrors' must be a list");
        for (std::size_t i = 0; i < list.size(); ++i) {
            const auto& obj = list[i];
            std::string where = std::string(source) + ": mirrors[" + std::to_string(i) + "]";
            if (!obj.is_object() || !obj.contains("name") || !obj["name"].is_string() ||
                obj["name"].get<std::string>().empty()) {
                return fail(ErrorCode::usage, where + " needs a \"name\"");
            }
            auto name = obj["name"].get<std::string>();
            where = std::string(source) + ": mirror '" + sanitize_for_display(name, 40) + "'";
            auto it =
                std::find_if(base.entries.begin(), base.entries.end(), [&](const auto& e) { return e.name == name; });
            if (it == base.entries.end()) {
                CatalogEntry e;
                e.name = name;
                e.builtin = builtin;
                e.status = MirrorStatus::ok;
                if (auto st = apply_fields(e, obj, where); !st) return std::unexpected(st.error());
                if (e.url.empty()) return fail(ErrorCode::usage, where + " needs a \"url\"");
                base.entries.push_back(std::move(e));
            } else if (auto st = apply_fields(*it, obj, where); !st) {
                return std::unexpected(st.error());
            }
        }
    }
    return base;
}

} // namespace

const char* to_string(MirrorStatus s) {
    switch (s) {
    case MirrorStatus::ok: return "ok";
    case MirrorStatus::unverified: return "unverified";
    case MirrorStatus::stale: return "stale";
    case MirrorStatus::missing: return "missing";
    case MirrorStatus::retired: return "retired";
    case MirrorStatus::disabled: return "disabled";
    }
    return "unverified";
}

bool CatalogEntry::healthy() const {
    return status == MirrorStatus::ok || status == MirrorStatus::unverified || status == MirrorStatus::stale;
}

const CatalogEntry* Catalog::find(std::string_view name) const {
    for (const auto& e : entries) {
        if (e.name == name) return &e;
    }
    return nullptr;
}

Catalog builtin_catalog() {
    auto c = parse_catalog_json(Catalog{}, k_builtin_mirrors_json, "built-in mirror catalogue", true);
    return c ? *c : Catalog{}; // the built-in file is checked by a unit test
}

Result<Catalog> apply_user_catalog(Catalog base, std::string_view json_text, std::string_view source) {
    return parse_catalog_json(std::move(base), json_text, source, false);
}

Result<MirrorPlan> plan_mirrors(const Catalog& catalog, const std::vector<std::string>& preferred, bool no_fallback) {
    MirrorPlan plan;
    auto add = [&](Mirror m) {
        auto same = [&](const Mirror& x) { return x.base_url == m.base_url; };
        if (std::none_of(plan.mirrors.begin(), plan.mirrors.end(), same)) plan.mirrors.push_back(std::move(m));
    };
    for (const auto& p : preferred) {
        if (p == "auto") {
            plan.auto_rank = true;
            continue;
        }
        if (p.find("://") != std::string::npos) {
            auto u = parse_url(p);
            if (!u || (u->scheme != "http" && u->scheme != "https" && u->scheme != "file")) {
                return fail(ErrorCode::usage, "--mirror: '" + redact_url(p) + "' is not an http(s):// or file:// URL");
            }
            add(Mirror{redact_url(p), p});
            continue;
        }
        const auto* e = catalog.find(p);
        if (e == nullptr) {
            std::string known;
            for (const auto& c : catalog.entries) known += (known.empty() ? "" : ", ") + c.name;
            return fail(ErrorCode::usage, "--mirror: unknown mirror '" + sanitize_for_display(p, 40) +
                                              "' (known: " + known + "; or give a URL)");
        }
        if (!e->healthy()) {
            plan.notes.push_back(e->name + ": " + (e->note.empty() ? to_string(e->status) : e->note) +
                                 (e->checked.empty() ? "" : " (as of " + e->checked + ")"));
        }
        add(Mirror{e->name, e->url});
    }
    if (preferred.empty() || !no_fallback || plan.mirrors.empty()) {
        for (const auto& e : catalog.entries) {
            if (e.healthy()) add(Mirror{e.name, e.url});
        }
    }
    if (plan.mirrors.empty()) {
        return fail(ErrorCode::usage,
                    "no mirror to download from (every catalogue entry is disabled; pass --mirror URL)");
    }
    return plan;
}

std::vector<std::string> index_sources(const Catalog& catalog) {
    std::vector<std::string> out;
    for (const auto& e : catalog.entries) {
        if (!e.index_url.empty() && e.healthy()) out.push_back(e.index_url);
    }
    return out;
}

} // namespace goinstall
