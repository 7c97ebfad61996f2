#pragma once
// An EventSink that keeps every event for later assertions.

#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

#include "goinstall/base/events.hpp"

namespace goinstall::test {

class RecordingEvents final : public EventSink {
public:
    void emit(const Event& event) override { m_events.push_back(event); }

    const std::vector<Event>& events() const { return m_events; }
    std::size_t count(EventKind kind) const {
        return static_cast<std::size_t>(
            std::count_if(m_events.begin(), m_events.end(), [&](const Event& e) { return e.kind == kind; }));
    }
    // The first event of `kind`, or nullptr.
    const Event* first(EventKind kind) const {
        auto it = std::find_if(m_events.begin(), m_events.end(), [&](const Event& e) { return e.kind == kind; });
        return it == m_events.end() ? nullptr : &*it;
    }
    // True when some event of `kind` has `needle` in its message.
    bool has(EventKind kind, const std::string& needle = "") const {
        return std::any_of(m_events.begin(), m_events.end(), [&](const Event& e) {
            return e.kind == kind && e.message.find(needle) != std::string::npos;
        });
    }

private:
    std::vector<Event> m_events;
};

} // namespace goinstall::test
