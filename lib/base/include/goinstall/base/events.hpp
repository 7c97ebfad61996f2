#pragma once
// Structured progress events. Library code reports through an EventSink and never prints; the CLI
// renders events as text or as JSON lines.

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace goinstall {

enum class EventKind {
    info,              // plain information
    warning,           // something the user should know (stale cache, fallback used)
    index_source,      // where the release index came from
    resolved,          // the version a spec resolved to
    download_start,    // a transfer begins (mirror, url, resume offset)
    progress,          // bytes so far (rate-limited by the emitter)
    attempt,           // one transfer attempt ended (the attempt log: mirror, status, bytes, decision)
    retry,             // an attempt failed and will be retried on the same mirror
    failover,          // moving on to the next mirror
    verified,          // checksum matched
    extracted,         // archive extracted to staging
    installed,         // toolchain committed
    already_installed, // nothing to do
    switched,          // `current` now points at a version
    route,             // an install turns to another route (e.g. the module proxy after the index failed)
};

const char* to_string(EventKind kind);

using EventValue = std::variant<std::string, std::int64_t, double, bool>;

struct Event {
    EventKind kind = EventKind::info;
    std::string message; // one human line, already redacted
    std::vector<std::pair<std::string, EventValue>> fields;

    Event& with(std::string key, EventValue value) {
        fields.emplace_back(std::move(key), std::move(value));
        return *this;
    }
};

class EventSink {
public:
    virtual ~EventSink() = default;
    virtual void emit(const Event& event) = 0;
};

class NullEventSink final : public EventSink {
public:
    void emit(const Event&) override {}
};

} // namespace goinstall
