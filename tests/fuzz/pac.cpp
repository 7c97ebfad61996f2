// Fuzzes PAC evaluation (lib/net pac.hpp): a script from the network is compiled and its
// FindProxyForURL called, under the documented time and memory limits. Input: the script.
// Properties: compile and find_proxy return (never crash, never hang past the time limit: libFuzzer's
// -timeout catches a hang); a successful answer has at least one entry, and only direct entries
// have no host; failures are usage errors (internal only for out-of-memory).
#include "fuzz_check.hpp"

#include <chrono>

#include "goinstall/net/pac.hpp"

using namespace goinstall;

namespace {

void check_answer(const Result<std::vector<PacEntry>>& answer) {
    if (!answer) {
        const auto code = answer.error().code();
        FUZZ_CHECK(code == ErrorCode::usage || code == ErrorCode::internal, answer.error().message());
        return;
    }
    FUZZ_CHECK(!answer->empty(), std::string("empty answer"));
    for (const auto& e : *answer) {
        FUZZ_CHECK((e.kind == PacEntry::Kind::direct) == e.host_port.empty(), e.host_port);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (!pac_supported()) return 0;
    // 100 ms instead of the default second: enough for any real PAC script, and a looping script
    // costs the fuzzer a tenth of a second, not a second.
    auto script = PacScript::compile(fuzz::as_text(data, size), "fuzz.pac", std::chrono::milliseconds(100));
    if (!script) {
        const auto code = script.error().code();
        FUZZ_CHECK(code == ErrorCode::usage || code == ErrorCode::internal, script.error().message());
        return 0;
    }
    check_answer(script->find_proxy("https://dl.google.com/go/go1.22.5.linux-amd64.tar.gz", "dl.google.com"));
    check_answer(script->find_proxy("http://10.1.2.3:8080/x", "10.1.2.3"));
    return 0;
}
