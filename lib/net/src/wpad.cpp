#include "goinstall/net/wpad.hpp"

#include <algorithm>
#include <array>
#include <condition_variable>
#include <mutex>
#include <thread>

#if !defined(_WIN32)
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>
#endif

#include "goinstall/base/strings.hpp"
#include "goinstall/net/pac.hpp"

namespace goinstall {

namespace {

// Multi-label public suffixes that a devolving WPAD client must never query and never go past: the
// common second-level registries of https://publicsuffix.org/list/ (ICANN section). Not the whole
// list (~7,000 rules, plus private registries such as dyndns names); a domain under a suffix that is
// missing here still never devolves to a single label, which the draft's own examples would do.
constexpr std::string_view k_multi_label_suffixes[] = {
    "ac.uk",  "co.uk",  "gov.uk",  "ltd.uk",  "me.uk",   "net.uk", "nhs.uk", "org.uk",    "plc.uk", "police.uk",
    "sch.uk", "asn.au", "com.au",  "edu.au",  "gov.au",  "id.au",  "net.au", "org.au",                        //
    "ac.nz",  "co.nz",  "geek.nz", "gen.nz",  "govt.nz", "net.nz", "org.nz", "school.nz",                     //
    "ac.jp",  "ad.jp",  "co.jp",   "ed.jp",   "go.jp",   "gr.jp",  "lg.jp",  "ne.jp",     "or.jp",            //
    "ac.cn",  "com.cn", "edu.cn",  "gov.cn",  "net.cn",  "org.cn",                                            //
    "com.hk", "edu.hk", "gov.hk",  "net.hk",  "org.hk",                                                       //
    "com.tw", "edu.tw", "gov.tw",  "net.tw",  "org.tw",                                                       //
    "ac.kr",  "co.kr",  "go.kr",   "ne.kr",   "or.kr",   "re.kr",                                             //
    "ac.in",  "co.in",  "edu.in",  "firm.in", "gen.in",  "gov.in", "ind.in", "net.in",    "org.in", "res.in", //
    "com.br", "edu.br", "gov.br",  "net.br",  "org.br",                                                       //
    "com.ar", "gob.ar", "net.ar",  "org.ar",                                                                  //
    "com.mx", "edu.mx", "gob.mx",  "net.mx",  "org.mx",                                                       //
    "ac.za",  "co.za",  "gov.za",  "net.za",  "org.za",  "web.za",                                            //
    "ac.il",  "co.il",  "gov.il",  "net.il",  "org.il",                                                       //
    "com.sg", "edu.sg", "gov.sg",  "net.sg",  "org.sg",                                                       //
    "com.my", "edu.my", "gov.my",  "net.my",  "org.my",                                                       //
    "ac.id",  "co.id",  "go.id",   "net.id",  "or.id",   "web.id",                                            //
    "ac.th",  "co.th",  "go.th",   "in.th",   "net.th",  "or.th",                                             //
    "com.tr", "edu.tr", "gov.tr",  "net.tr",  "org.tr",                                                       //
    "com.ua", "net.ua", "org.ua",                                                                             //
    "com.pl", "net.pl", "org.pl",                                                                             //
    "com.es", "edu.es", "gob.es",  "nom.es",  "org.es",                                                       //
    "com.vn", "edu.vn", "gov.vn",  "net.vn",  "org.vn",                                                       //
    "com.ph", "net.ph", "org.ph",                                                                             //
    "com.pk", "net.pk", "org.pk",                                                                             //
    "co.ke",  "com.ng", "com.eg",
};

// A host name we are willing to put in a URL: labels of letters, digits and '-' (not at either
// end), 1..63 characters each, 253 in all, and not an IPv4 address (its last label all digits).
bool valid_domain(std::string_view d) {
    if (d.empty() || d.size() > 253) return false;
    auto labels = split(d, '.', true);
    for (const auto& l : labels) {
        if (l.empty() || l.size() > 63 || l.front() == '-' || l.back() == '-') return false;
        for (char c : l) {
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
        }
    }
    const auto& last = labels.back();
    return !std::all_of(last.begin(), last.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Lowercased, without a trailing dot; "" when invalid.
std::string normalize_domain(std::string_view raw) {
    std::string d = to_lower(trim(raw));
    if (!d.empty() && d.back() == '.') d.pop_back();
    return valid_domain(d) ? d : std::string();
}

std::string join_labels(const std::vector<std::string>& labels, std::size_t from) {
    std::string out;
    for (std::size_t i = from; i < labels.size(); ++i) out += (out.empty() ? "" : ".") + labels[i];
    return out;
}

// A short reason for a failed fetch, from the transport's numbers (CURLE_* values in comments).
std::string describe_failure(const Error& e) {
    if (e.code() == ErrorCode::cancelled) return "cancelled";
    if (e.net()) {
        switch (e.net()->curl_code) {
        case 6: return "host not found";         // CURLE_COULDNT_RESOLVE_HOST
        case 7: return "connection refused";     // CURLE_COULDNT_CONNECT
        case 28: return "timed out";             // CURLE_OPERATION_TIMEDOUT
        case 47: return "redirect not followed"; // CURLE_TOO_MANY_REDIRECTS (max_redirects 0)
        case 52: return "empty reply";           // CURLE_GOT_NOTHING
        case 63: return "larger than 1 MiB";     // CURLE_FILESIZE_EXCEEDED
        default: break;
        }
    }
    return sanitize_for_display(e.message(), 120);
}

} // namespace

std::vector<std::string> parse_resolv_conf_domains(std::string_view text) {
    std::vector<std::string> out;
    for (const auto& raw_line : split(text, '\n')) {
        std::string_view line = trim(raw_line);
        if (line.empty() || line.front() == '#' || line.front() == ';') continue;
        std::vector<std::string> words;
        for (const auto& w : split(line, ' ')) {
            for (const auto& ww : split(w, '\t')) words.push_back(ww);
        }
        if (words.empty() || (words[0] != "search" && words[0] != "domain")) continue;
        out.clear(); // the last search/domain line wins
        for (std::size_t i = 1; i < words.size(); ++i) {
            if (words[i].starts_with('#') || words[i].starts_with(';')) break; // a trailing comment
            if (auto d = normalize_domain(words[i]); !d.empty() && std::find(out.begin(), out.end(), d) == out.end()) {
                out.push_back(std::move(d));
            }
        }
    }
    return out;
}

std::string domain_of_fqdn(std::string_view fqdn) {
    std::string name = to_lower(trim(fqdn));
    if (!name.empty() && name.back() == '.') name.pop_back();
    auto dot = name.find('.');
    if (dot == std::string::npos) return {};
    return normalize_domain(std::string_view(name).substr(dot + 1));
}

bool is_public_suffix(std::string_view domain) {
    std::string d = to_lower(trim(domain));
    if (!d.empty() && d.back() == '.') d.pop_back();
    if (d.find('.') == std::string::npos) return true; // a TLD, or an internal single label
    return std::find(std::begin(k_multi_label_suffixes), std::end(k_multi_label_suffixes), d) !=
           std::end(k_multi_label_suffixes);
}

std::vector<std::string> wpad_candidates(const std::vector<std::string>& domains, std::size_t max_candidates) {
    std::vector<std::string> out;
    for (const auto& raw : domains) {
        std::string d = normalize_domain(raw);
        if (d.empty()) continue;
        auto labels = split(d, '.');
        for (std::size_t i = 0; i + 2 <= labels.size(); ++i) {
            std::string cand = join_labels(labels, i);
            if (is_public_suffix(cand)) break;
            std::string url = "http://wpad." + cand + "/wpad.dat";
            if (std::find(out.begin(), out.end(), url) == out.end()) {
                if (out.size() >= max_candidates) return out;
                out.push_back(std::move(url));
            }
            if (is_public_suffix(join_labels(labels, i + 1))) break; // cand is the registrable domain
        }
    }
    return out;
}

std::string host_fqdn(std::chrono::milliseconds timeout) {
#if defined(_WIN32)
    (void)timeout;
    return {};
#else
    std::array<char, 256> buf{};
    if (gethostname(buf.data(), buf.size() - 1) != 0) return {};
    std::string name(buf.data());
    if (name.empty()) return {};
    if (name.find('.') != std::string::npos) return name;
    // getaddrinfo may ask DNS and take long: run it in a thread we can stop waiting for.
    struct Shared {
        std::mutex mu;
        std::condition_variable cv;
        bool done = false;
        std::string canon;
    };
    auto shared = std::make_shared<Shared>();
    std::thread([shared, name] {
        addrinfo hints{};
        hints.ai_flags = AI_CANONNAME;
        hints.ai_socktype = SOCK_STREAM;
        addrinfo* res = nullptr;
        std::string canon;
        if (getaddrinfo(name.c_str(), nullptr, &hints, &res) == 0 && res != nullptr) {
            if (res->ai_canonname != nullptr) canon = res->ai_canonname;
            freeaddrinfo(res);
        }
        std::lock_guard lock(shared->mu);
        shared->canon = std::move(canon);
        shared->done = true;
        shared->cv.notify_all();
    }).detach();
    std::unique_lock lock(shared->mu);
    if (!shared->cv.wait_for(lock, timeout, [&] { return shared->done; })) return {};
    return shared->canon.find('.') != std::string::npos ? shared->canon : std::string();
#endif
}

std::string WpadResult::summary() const {
    if (script) return "WPAD: found " + url;
    if (attempts.empty())
        return "WPAD: " + (nothing_tried.empty() ? std::string("no DNS domain to search") : nothing_tried);
    std::string out = "WPAD: no wpad.dat at ";
    for (std::size_t i = 0; i < attempts.size(); ++i) {
        out += (i == 0 ? "" : ", ") + attempts[i].url + " (" + attempts[i].outcome + ")";
    }
    return out;
}

WpadResult discover_wpad(const std::vector<std::string>& candidates, Transport& direct, const Clock& clock,
                         const WpadOptions& options, const CancelToken* cancel) {
    WpadResult r;
    if (!pac_supported()) {
        r.nothing_tried = "this build has no PAC support (install duktape-dev and rebuild)";
        return r;
    }
    if (candidates.empty()) {
        r.nothing_tried = "no DNS domain to search";
        return r;
    }
    const auto deadline = clock.now() + options.total_budget;
    for (const auto& url : candidates) {
        if (r.script) break;
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock.now());
        if (cancel != nullptr && cancel->cancelled()) {
            r.attempts.push_back({url, "not tried: cancelled"});
            continue;
        }
        // Below 10 ms curl cannot even connect: count the budget as spent.
        if (left < std::chrono::milliseconds(10)) {
            r.attempts.push_back({url, "not tried: the " + std::to_string(options.total_budget.count()) +
                                           " ms WPAD budget was used up"});
            continue;
        }
        Request req{.url = url};
        req.max_redirects = 0;
        req.limits.connect_timeout = std::min(options.connect_timeout, left);
        req.limits.total_timeout = left;
        req.limits.max_body_bytes = options.max_bytes;
        StringSink sink;
        auto resp = direct.fetch(req, sink, cancel, {});
        if (!resp) {
            r.attempts.push_back({url, describe_failure(resp.error())});
            continue;
        }
        if (resp->status != 200) {
            r.attempts.push_back({url, "HTTP " + std::to_string(resp->status)});
            continue;
        }
        auto script = PacScript::compile(sink.body(), url);
        if (!script) {
            r.attempts.push_back({url, "not a PAC script: " + sanitize_for_display(script.error().message(), 120)});
            continue;
        }
        r.attempts.push_back({url, "found"});
        r.script = std::make_shared<const PacScript>(std::move(*script));
        r.url = url;
    }
    return r;
}

} // namespace goinstall
