// The Transport contract, checked on the scripted fake that the download and core tests rely on,
// plus the small pieces of transport.hpp that need no network.
#include <catch2/catch.hpp>

#include <string>

#include "../fakes/fake_transport.hpp"

using namespace goinstall;
using namespace goinstall::test;

namespace {

// Records what the transport handed over.
class RecordingSink final : public BodySink {
public:
    Status on_response(const Response& head) override {
        ++heads;
        status = head.status;
        return {};
    }
    Status on_data(std::span<const unsigned char> data) override {
        ++chunks;
        body.append(reinterpret_cast<const char*>(data.data()), data.size());
        if (fail_at_chunk != 0 && chunks == fail_at_chunk) {
            return std::unexpected(Error(ErrorCode::disk_full, "sink full"));
        }
        return {};
    }
    int heads = 0, chunks = 0, fail_at_chunk = 0;
    long status = 0;
    std::string body;
};

const std::string k_url = "https://example.test/f";

} // namespace

TEST_CASE("Response::header and ok()", "[net]") {
    Response r;
    r.headers = {{"etag", "\"x\""}, {"content-range", "bytes 0-1/2"}};
    CHECK(r.header("etag") == "\"x\"");
    CHECK(r.header("missing").empty());
    for (long s : {0L, 200L, 206L, 299L}) CHECK(Response{.status = s}.ok());
    for (long s : {199L, 300L, 304L, 404L, 416L, 503L}) CHECK_FALSE(Response{.status = s}.ok());
}

TEST_CASE("StringSink keeps the body", "[net]") {
    StringSink sink;
    const std::string a = "hello ", b = "world";
    REQUIRE(sink.on_response(Response{}).has_value());
    REQUIRE(sink.on_data(std::span(reinterpret_cast<const unsigned char*>(a.data()), a.size())).has_value());
    REQUIRE(sink.on_data(std::span(reinterpret_cast<const unsigned char*>(b.data()), b.size())).has_value());
    CHECK(sink.body() == "hello world");
}

TEST_CASE("FakeTransport gives 2xx bodies to the sink in chunks", "[net]") {
    FakeTransport net;
    auto s = Scripted::ok(std::string(2500, 'a'), {{"etag", "\"e\""}});
    net.script(k_url, s);
    RecordingSink sink;
    std::uint64_t last_progress = 0;
    auto r =
        net.fetch(Request{.url = k_url}, sink, nullptr, [&](std::uint64_t got, std::uint64_t) { last_progress = got; });
    REQUIRE(r.has_value());
    CHECK(r->status == 200);
    CHECK(r->body_bytes == 2500);
    CHECK(r->header("etag") == "\"e\"");
    CHECK(sink.heads == 1);
    CHECK(sink.chunks == 3);
    CHECK(sink.body == std::string(2500, 'a'));
    CHECK(last_progress == 2500);
    CHECK(net.bytes_served() == 2500);
}

TEST_CASE("FakeTransport puts non-2xx bodies in error_body", "[net]") {
    FakeTransport net;
    net.script(k_url, Scripted::with_status(404, {}, "no such file"));
    RecordingSink sink;
    auto r = net.fetch(Request{.url = k_url}, sink, nullptr);
    REQUIRE(r.has_value());
    CHECK(r->status == 404);
    CHECK(r->error_body == "no such file");
    CHECK(sink.heads == 0);
    CHECK(sink.body.empty());
}

TEST_CASE("FakeTransport serves ranges when scripted to", "[net]") {
    FakeTransport net;
    const std::string body = "0123456789";
    for (int i = 0; i < 4; ++i) net.script(k_url, Scripted::ok(body, {{"etag", "\"e\""}}).ranged());

    RecordingSink partial;
    auto r = net.fetch(Request{.url = k_url, .range_start = 4, .if_range = "\"e\""}, partial, nullptr);
    REQUIRE(r.has_value());
    CHECK(r->status == 206);
    CHECK(r->header("content-range") == "bytes 4-9/10");
    CHECK(partial.body == "456789");

    RecordingSink changed;
    r = net.fetch(Request{.url = k_url, .range_start = 4, .if_range = "\"other\""}, changed, nullptr);
    REQUIRE(r.has_value());
    CHECK(r->status == 200);
    CHECK(changed.body == body);

    RecordingSink past_end;
    r = net.fetch(Request{.url = k_url, .range_start = 10}, past_end, nullptr);
    REQUIRE(r.has_value());
    CHECK(r->status == 416);
    CHECK(r->header("content-range") == "bytes */10");

    RecordingSink whole;
    r = net.fetch(Request{.url = k_url}, whole, nullptr);
    REQUIRE(r.has_value());
    CHECK(r->status == 200);
    CHECK(whole.body == body);
    CHECK(net.requests().size() == 4);
    CHECK(net.requests()[0].range_start == 4);
    CHECK(net.requests()[0].if_range == "\"e\"");
}

TEST_CASE("FakeTransport fails after N bytes, returns sink errors unchanged, and honours cancel", "[net]") {
    FakeTransport net;
    net.script(k_url,
               Scripted::ok(std::string(5000, 'b')).fail_after_bytes(1500, net_error(NetPhase::body, 18, k_url)));
    RecordingSink sink;
    auto r = net.fetch(Request{.url = k_url}, sink, nullptr);
    REQUIRE_FALSE(r.has_value());
    REQUIRE(r.error().net().has_value());
    CHECK(r.error().net()->phase == NetPhase::body);
    CHECK(r.error().message().find(k_url) != std::string::npos);
    CHECK(sink.body.size() == 1500);

    net.script(k_url, Scripted::ok(std::string(5000, 'c')));
    RecordingSink full;
    full.fail_at_chunk = 2;
    r = net.fetch(Request{.url = k_url}, full, nullptr);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == ErrorCode::disk_full);
    CHECK(full.body.size() == 2000);

    net.script(k_url, Scripted::ok("x"));
    CancelToken cancel;
    cancel.cancel();
    RecordingSink none;
    r = net.fetch(Request{.url = k_url}, none, &cancel);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == ErrorCode::cancelled);
    CHECK(net.pending(k_url) == 1);

    RecordingSink unscripted;
    r = net.fetch(Request{.url = "https://nothing.test/"}, unscripted, nullptr);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().net()->phase == NetPhase::connect);
    CHECK(net.unscripted() == 1);
}
