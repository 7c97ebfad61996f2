// PAC evaluation on Duktape; see pac.hpp. Without GOINSTALL_HAVE_PAC (no duktape-dev at configure
// time) only the answer parser is real and PacScript::compile reports that PAC is unsupported.
#include "goinstall/net/pac.hpp"

#include <cctype>
#include <optional>
#include <string>
#include <utility>

#ifdef GOINSTALL_HAVE_PAC
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <strings.h>
#include <new>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Wshadow"
#include <duktape.h> // our private copy (lib/net/CMakeLists.txt): execution-timeout hook enabled
#pragma GCC diagnostic pop

#include "child_call.hpp"
#include "pac_utils_js.hpp"
#endif

namespace goinstall {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

std::string upper(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

// Quotes an answer for an error message, cut short so a hostile script cannot flood the log.
std::string quote_answer(std::string_view answer) {
    constexpr std::size_t k_max = 200;
    std::string out = "\"";
    out.append(answer.substr(0, k_max));
    if (answer.size() > k_max) out += "...";
    out += "\"";
    return out;
}

} // namespace

Result<std::vector<PacEntry>> parse_pac_answer(std::string_view answer) {
    std::vector<PacEntry> entries;
    std::string_view rest = answer;
    while (!rest.empty()) {
        const auto semi = rest.find(';');
        const std::string_view item = trim(rest.substr(0, semi));
        rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
        if (item.empty()) continue;

        // Split into whitespace-separated words.
        std::vector<std::string_view> words;
        std::string_view w = item;
        while (!w.empty()) {
            std::size_t end = 0;
            while (end < w.size() && !std::isspace(static_cast<unsigned char>(w[end]))) ++end;
            words.push_back(w.substr(0, end));
            w = trim(w.substr(end));
        }
        const std::string keyword = upper(words.front());
        if (keyword == "DIRECT") {
            if (words.size() == 1) entries.push_back(PacEntry{PacEntry::Kind::direct, "", ""});
            continue;
        }
        PacEntry entry;
        if (keyword == "PROXY" || keyword == "HTTP") {
            entry = {PacEntry::Kind::proxy, "", "http"};
        } else if (keyword == "HTTPS") {
            entry = {PacEntry::Kind::proxy, "", "https"};
        } else if (keyword == "SOCKS" || keyword == "SOCKS4") {
            entry = {PacEntry::Kind::socks, "", "socks4"};
        } else if (keyword == "SOCKS5") {
            entry = {PacEntry::Kind::socks, "", "socks5"};
        } else {
            continue; // unknown keyword (QUIC, ...): skipped, as browsers do
        }
        if (words.size() != 2) continue; // "PROXY" with no address, or trailing garbage
        entry.host_port = std::string(words[1]);
        entries.push_back(std::move(entry));
    }
    if (entries.empty()) return fail(ErrorCode::usage, "PAC answer " + quote_answer(answer) + " has no usable entry");
    return entries;
}

#ifndef GOINSTALL_HAVE_PAC

// ---- stub: this build has no JavaScript engine ----------------------------------------------

struct PacScript::State {};

bool pac_supported() { return false; }

Result<PacScript> PacScript::compile(std::string_view, std::string_view source, std::chrono::milliseconds) {
    return fail(ErrorCode::usage, "PAC script " + std::string(source) +
                                      ": this build has no PAC support (install duktape-dev and rebuild)");
}

Result<std::vector<PacEntry>> PacScript::find_proxy(std::string_view, std::string_view) const {
    return fail(ErrorCode::usage, "this build has no PAC support (install duktape-dev and rebuild)");
}

#else

// ---- Duktape --------------------------------------------------------------------------------

namespace {
constexpr std::size_t k_heap_limit = 64u * 1024u * 1024u;
using Clock = std::chrono::steady_clock;
} // namespace

struct PacScript::State {
    duk_context* ctx = nullptr;
    std::chrono::milliseconds time_limit{};
    Clock::time_point deadline = Clock::time_point::max();
    bool timed_out = false;
    bool out_of_memory = false;
    std::size_t heap_used = 0;

    State() = default;
    State(const State&) = delete;
    State& operator=(const State&) = delete;
    ~State() {
        if (ctx != nullptr) duk_destroy_heap(ctx);
    }

    void arm() {
        timed_out = false;
        out_of_memory = false;
        deadline = Clock::now() + time_limit;
    }
    void disarm() { deadline = Clock::time_point::max(); }
};

} // namespace goinstall

// Called by Duktape's bytecode executor every few thousand instructions (DUK_USE_EXEC_TIMEOUT_CHECK
// in our duk_config.h). It must keep answering "timed out" until the error has left Duktape, which
// holds because the deadline stays in the past until disarm().
extern "C" duk_bool_t goinstall_duk_exec_timeout(void* udata) {
    auto* state = static_cast<goinstall::PacScript::State*>(udata);
    if (state == nullptr) return 0;
    if (goinstall::Clock::now() >= state->deadline) {
        state->timed_out = true;
        return 1;
    }
    return 0;
}

namespace goinstall {

namespace {

// ---- allocator with a cap: each block carries its size in a header ----------------------------

constexpr std::size_t k_header = alignof(std::max_align_t) > sizeof(std::size_t) ? alignof(std::max_align_t)
                                                                                 : sizeof(std::size_t);

void* duk_alloc_capped(void* udata, duk_size_t size) {
    auto* state = static_cast<PacScript::State*>(udata);
    if (size > k_heap_limit || state->heap_used + size > k_heap_limit) {
        state->out_of_memory = true;
        return nullptr;
    }
    auto* block = static_cast<unsigned char*>(std::malloc(size + k_header));
    if (block == nullptr) {
        state->out_of_memory = true;
        return nullptr;
    }
    std::memcpy(block, &size, sizeof size);
    state->heap_used += size;
    return block + k_header;
}

void duk_free_capped(void* udata, void* ptr) {
    if (ptr == nullptr) return;
    auto* state = static_cast<PacScript::State*>(udata);
    auto* block = static_cast<unsigned char*>(ptr) - k_header;
    std::size_t size = 0;
    std::memcpy(&size, block, sizeof size);
    state->heap_used -= size;
    std::free(block);
}

void* duk_realloc_capped(void* udata, void* ptr, duk_size_t size) {
    if (ptr == nullptr) return duk_alloc_capped(udata, size);
    if (size == 0) {
        duk_free_capped(udata, ptr);
        return nullptr;
    }
    auto* state = static_cast<PacScript::State*>(udata);
    auto* block = static_cast<unsigned char*>(ptr) - k_header;
    std::size_t old = 0;
    std::memcpy(&old, block, sizeof old);
    if (size > k_heap_limit || state->heap_used - old + size > k_heap_limit) {
        state->out_of_memory = true;
        return nullptr;
    }
    auto* grown = static_cast<unsigned char*>(std::realloc(block, size + k_header));
    if (grown == nullptr) {
        state->out_of_memory = true;
        return nullptr;
    }
    std::memcpy(grown, &size, sizeof size);
    state->heap_used = state->heap_used - old + size;
    return grown + k_header;
}

// Only reached on an error outside any protected call, which this file never makes.
[[noreturn]] void duk_fatal_handler(void*, const char* msg) {
    std::fprintf(stderr, "goinstall: fatal PAC engine error: %s\n", msg != nullptr ? msg : "(none)");
    std::abort();
}

// ---- native helpers (no DNS, see pac.hpp). No C++ objects with destructors live across Duktape
// calls here, because Duktape errors unwind with longjmp.

duk_ret_t js_dns_resolve(duk_context* ctx) {
    if (!duk_is_string(ctx, 0)) {
        duk_push_null(ctx);
        return 1;
    }
    duk_size_t len = 0;
    const char* host = duk_get_lstring(ctx, 0, &len);
    char buf[INET6_ADDRSTRLEN + 2] = {};
    if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
        host += 1;
        len -= 2;
    }
    if (len == 0 || len >= sizeof buf) {
        duk_push_null(ctx);
        return 1;
    }
    std::memcpy(buf, host, len);
    buf[len] = '\0';
    unsigned char addr[sizeof(in6_addr)];
    if (inet_pton(AF_INET, buf, addr) == 1 || inet_pton(AF_INET6, buf, addr) == 1) {
        duk_push_string(ctx, buf);
        return 1;
    }
    if (strcasecmp(buf, "localhost") == 0 || strcasecmp(buf, "localhost.") == 0) {
        duk_push_string(ctx, "127.0.0.1");
        return 1;
    }
    duk_push_null(ctx); // any other name: no DNS query, by design
    return 1;
}

duk_ret_t js_my_ip_address(duk_context* ctx) {
    duk_push_string(ctx, "127.0.0.1");
    return 1;
}

// ---- protected steps ------------------------------------------------------------------------

struct LoadArgs {
    const char* script;
    std::size_t script_len;
    const char* filename;
    std::size_t filename_len;
};

// [ ] -> [ result ]: compiles the script under `filename` and runs its top level.
duk_ret_t load_step(duk_context* ctx, void* udata) {
    const auto* a = static_cast<const LoadArgs*>(udata);
    duk_push_lstring(ctx, a->filename, a->filename_len);
    duk_compile_lstring_filename(ctx, 0, a->script, a->script_len);
    duk_call(ctx, 0);
    return 1;
}

// [ ] -> [ bool ]: whether the global FindProxyForURL is a function.
duk_ret_t has_entry_point_step(duk_context* ctx, void*) {
    duk_get_global_string(ctx, "FindProxyForURL");
    const bool ok = duk_is_function(ctx, -1) != 0;
    duk_pop(ctx);
    duk_push_boolean(ctx, ok ? 1 : 0);
    return 1;
}

// [ ] -> [ answer ]
struct CallArgs {
    const char* url;
    std::size_t url_len;
    const char* host;
    std::size_t host_len;
};

duk_ret_t find_proxy_step(duk_context* ctx, void* udata) {
    const auto* a = static_cast<const CallArgs*>(udata);
    duk_get_global_string(ctx, "FindProxyForURL");
    if (!duk_is_function(ctx, -1)) return duk_type_error(ctx, "FindProxyForURL is not a function");
    duk_push_lstring(ctx, a->url, a->url_len);
    duk_push_lstring(ctx, a->host, a->host_len);
    duk_call(ctx, 2);
    return 1;
}

// [ ] -> [ ]: registers the native helpers.
duk_ret_t natives_step(duk_context* ctx, void*) {
    duk_push_c_function(ctx, js_dns_resolve, 1);
    duk_put_global_string(ctx, "dnsResolve");
    duk_push_c_function(ctx, js_my_ip_address, 0);
    duk_put_global_string(ctx, "myIpAddress");
    return 0;
}

// Describes the error on the stack top ("SyntaxError: ... (line 3)") and pops it. Call with the
// deadline still armed, since a thrown object's toString() runs script code.
std::string describe_error(PacScript::State& state) {
    std::string out;
    if (state.timed_out) {
        out = "timed out after " + std::to_string(state.time_limit.count()) + " ms";
    } else if (state.out_of_memory) {
        out = "ran out of memory (limit " + std::to_string(k_heap_limit / (1024 * 1024)) + " MiB)";
    } else {
        const char* text = duk_safe_to_string(state.ctx, -1);
        out = text != nullptr ? text : "unknown error";
    }
    duk_pop(state.ctx);
    return out;
}

// Runs a protected step with the time limit armed. On failure returns the error text.
std::optional<std::string> run_step(PacScript::State& state, duk_safe_call_function fn, void* udata, int nrets) {
    state.arm();
    const duk_int_t rc = duk_safe_call(state.ctx, fn, udata, 0, nrets);
    std::optional<std::string> error;
    if (rc != DUK_EXEC_SUCCESS) error = describe_error(state);
    state.disarm();
    return error;
}

} // namespace

bool pac_supported() { return true; }

namespace {

// The hard limit on top of the interpreter's own time checks (child start-up, a loaded machine).
constexpr std::chrono::milliseconds k_child_grace{1000};

std::string child_failure(const ChildResult& r, std::chrono::milliseconds limit) {
    switch (r.outcome) {
    case ChildOutcome::timed_out: return "timed out after " + std::to_string(limit.count()) + " ms (stopped)";
    case ChildOutcome::crashed: return "the evaluation crashed";
    default: return r.text;
    }
}

} // namespace

Result<PacScript> PacScript::compile(std::string_view script, std::string_view source,
                                     std::chrono::milliseconds time_limit) {
    const auto limit = 3 * time_limit + k_child_grace;
    auto trial = call_in_child(
        [&]() -> Result<std::string> {
            auto compiled = compile_here(script, source, time_limit);
            if (!compiled) return std::unexpected(compiled.error());
            return std::string();
        },
        limit);
    // Without a child (fork failed: no processes left) the in-process limits still apply.
    if (trial && trial->outcome != ChildOutcome::ok) {
        if (trial->outcome == ChildOutcome::failed) return fail(ErrorCode::usage, trial->text);
        return fail(ErrorCode::usage, "PAC script " + std::string(source) + ": " + child_failure(*trial, limit));
    }
    return compile_here(script, source, time_limit);
}

Result<std::vector<PacEntry>> PacScript::find_proxy(std::string_view url, std::string_view host) const {
    if (!m_state || m_state->ctx == nullptr) return fail(ErrorCode::internal, "PAC script used after move");
    const auto limit = m_state->time_limit + k_child_grace;
    auto child = call_in_child([&] { return find_proxy_here(url, host); }, limit);
    Result<std::string> answer = child ? Result<std::string>(child->text) : find_proxy_here(url, host);
    if (child && child->outcome != ChildOutcome::ok) {
        if (child->outcome == ChildOutcome::failed) return fail(ErrorCode::usage, child->text);
        return fail(ErrorCode::usage, "PAC script " + m_source + ": FindProxyForURL: " + child_failure(*child, limit));
    }
    if (!answer) return std::unexpected(answer.error());
    auto entries = parse_pac_answer(*answer);
    if (!entries) return std::unexpected(std::move(entries.error()).with_context("PAC script " + m_source));
    return entries;
}

Result<PacScript> PacScript::compile_here(std::string_view script, std::string_view source,
                                          std::chrono::milliseconds time_limit) {
    try {
        const std::string name(source);
        auto state = std::make_unique<State>();
        state->time_limit = time_limit;
        state->ctx =
            duk_create_heap(duk_alloc_capped, duk_realloc_capped, duk_free_capped, state.get(), duk_fatal_handler);
        if (state->ctx == nullptr)
            return fail(ErrorCode::internal, "PAC script " + name + ": cannot create the JavaScript heap");

        if (auto err = run_step(*state, natives_step, nullptr, 0))
            return fail(ErrorCode::internal, "PAC helpers: " + *err);
        const std::string_view helpers = pac_detail::k_pac_utils_js;
        LoadArgs helper_args{helpers.data(), helpers.size(), "pac_utils.js", 11};
        if (auto err = run_step(*state, load_step, &helper_args, 1))
            return fail(ErrorCode::internal, "PAC helpers: " + *err);
        duk_pop(state->ctx);

        LoadArgs args{script.data(), script.size(), name.data(), name.size()};
        if (auto err = run_step(*state, load_step, &args, 1))
            return fail(ErrorCode::usage, "PAC script " + name + ": " + *err);
        duk_pop(state->ctx);

        if (auto err = run_step(*state, has_entry_point_step, nullptr, 1))
            return fail(ErrorCode::usage, "PAC script " + name + ": " + *err);
        const bool has_entry = duk_get_boolean(state->ctx, -1) != 0;
        duk_pop(state->ctx);
        if (!has_entry)
            return fail(ErrorCode::usage, "PAC script " + name + " does not define a FindProxyForURL function");

        return PacScript(std::move(state), name);
    } catch (const std::bad_alloc&) {
        return fail(ErrorCode::internal, "PAC script " + std::string(source) + ": out of memory");
    }
}

Result<std::string> PacScript::find_proxy_here(std::string_view url, std::string_view host) const {
    try {
        State& state = *m_state;
        CallArgs args{url.data(), url.size(), host.data(), host.size()};
        if (auto err = run_step(state, find_proxy_step, &args, 1))
            return fail(ErrorCode::usage, "PAC script " + m_source + ": FindProxyForURL: " + *err);
        if (!duk_is_string(state.ctx, -1)) {
            const char* type = duk_is_null(state.ctx, -1)        ? "null"
                               : duk_is_undefined(state.ctx, -1) ? "undefined"
                               : duk_is_number(state.ctx, -1)    ? "a number"
                               : duk_is_boolean(state.ctx, -1)   ? "a boolean"
                                                                 : "an object";
            duk_pop(state.ctx);
            return fail(ErrorCode::usage,
                        "PAC script " + m_source + ": FindProxyForURL returned " + type + " instead of a string");
        }
        duk_size_t len = 0;
        const char* text = duk_get_lstring(state.ctx, -1, &len);
        std::string answer(text, len);
        duk_pop(state.ctx);
        return answer;
    } catch (const std::bad_alloc&) {
        return fail(ErrorCode::internal, "PAC script " + m_source + ": out of memory");
    }
}

#endif // GOINSTALL_HAVE_PAC

PacScript::PacScript(std::unique_ptr<State> state, std::string source)
    : m_state(std::move(state)), m_source(std::move(source)) {}
PacScript::PacScript(PacScript&&) noexcept = default;
PacScript& PacScript::operator=(PacScript&&) noexcept = default;
PacScript::~PacScript() = default;

} // namespace goinstall
