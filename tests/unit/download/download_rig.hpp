#pragma once
// Shared setup for the downloader tests: a temp dir, a scripted transport, a fake clock, recorded
// events, a 10 000-byte pseudo-random file and two mirrors.

#include <catch2/catch.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "../fakes/fake_clock.hpp"
#include "../fakes/fake_transport.hpp"
#include "../fakes/recording_events.hpp"
#include "../fakes/temp_dir.hpp"
#include "goinstall/base/url.hpp"
#include "goinstall/download/downloader.hpp"
#include "goinstall/verify/sha256.hpp"

namespace goinstall::test {

inline std::string pseudo_random(std::size_t n, std::uint32_t seed = 2463534242U) {
    std::string s(n, '\0');
    std::uint32_t x = seed;
    for (auto& ch : s) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        ch = static_cast<char>(x & 0xff);
    }
    return s;
}

inline std::string sha256_hex(std::string_view data) {
    Sha256 h;
    h.update(data);
    return h.hex_digest();
}

struct Rig {
    static constexpr std::uint64_t k_size = 10000;
    TempDir tmp;
    FakeTransport net;
    FakeClock clock;
    RecordingEvents events;
    Downloader downloader{net, clock, events, [] { return 0.5; }};
    std::string body = pseudo_random(k_size);
    DownloadTarget target{"go1.21.3.linux-amd64.tar.gz", sha256_hex(body), k_size};
    DownloadOptions options;
    std::vector<Attempt> attempts;

    Rig() {
        options.mirrors = {{"first", "https://one.example/dl/"}, {"second", "https://two.example/golang"}};
        // No racing: these tests are about one transfer at a time (race_test.cpp races on the fake clock).
        options.head_start = std::chrono::milliseconds(0);
    }

    // The backoff of each retry, as announced by the retry events (the clock may sleep in slices).
    std::vector<std::int64_t> retry_delays_ms() const {
        std::vector<std::int64_t> out;
        for (const auto& e : events.events()) {
            for (const auto& [key, value] : e.fields) {
                if (e.kind == EventKind::retry && key == "delay_ms") out.push_back(std::get<std::int64_t>(value));
            }
        }
        return out;
    }

    std::string url(std::size_t mirror = 0) const {
        return join_url(options.mirrors[mirror].base_url, target.filename);
    }
    std::filesystem::path dir() const { return tmp / "downloads"; }
    std::filesystem::path final_path() const { return dir() / target.filename; }
    std::filesystem::path part() const { return dir() / (target.filename + ".part"); }
    std::filesystem::path meta() const { return dir() / (target.filename + ".part.meta"); }

    // Leaves what an earlier, interrupted run would have: a .part and its sidecar.
    void earlier_run(std::string_view part_bytes, const std::string& etag, const std::string& last_modified,
                     const std::string& meta_url = "") const {
        write_text(part(), part_bytes);
        write_text(meta(), "url=" + (meta_url.empty() ? url() : meta_url) + "\netag=" + etag +
                               "\nlast_modified=" + last_modified + "\nexpected_size=" + std::to_string(k_size) + "\n");
    }

    Result<DownloadResult> run(const CancelToken* cancel = nullptr) {
        attempts.clear();
        return downloader.download(target, dir(), options, cancel, &attempts);
    }

    // The file is in place, verified, with no .part or sidecar left.
    void check_installed(const Result<DownloadResult>& r) const {
        REQUIRE(r.has_value());
        CHECK(r->path == final_path());
        CHECK(r->sha256 == target.expected_sha256);
        CHECK(read_text(final_path()) == body);
        CHECK_FALSE(std::filesystem::exists(part()));
        CHECK_FALSE(std::filesystem::exists(meta()));
        CHECK(events.count(EventKind::verified) == 1);
    }
};

} // namespace goinstall::test
