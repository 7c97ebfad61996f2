// `goinstall mirror sync DIR` (layout and contract in mirror_sync.hpp).

#include "goinstall/core/mirror_sync.hpp"

#include <algorithm>

#include "goinstall/base/strings.hpp"
#include "goinstall/core/index_route.hpp"
#include "goinstall/fs/file_lock.hpp"
#include "goinstall/fs/files.hpp"
#include "goinstall/release/index.hpp"
#include "goinstall/verify/sha256.hpp"

namespace goinstall {

namespace {

constexpr std::uint64_t k_max_state_bytes = 16ULL << 20;

struct Wanted {
    const Release* release;
    ReleaseFile file;
    Platform platform;
};

class MirrorDir {
public:
    MirrorDir(std::filesystem::path dir, EventSink& events, const CancelToken* cancel)
        : m_dir(std::move(dir)), m_events(events), m_cancel(cancel) {
        if (auto text = read_file(m_dir / k_mirror_state_name, k_max_state_bytes)) {
            m_state = parse_mirror_state(*text);
        }
    }

    // True when dir/<file> is present with the expected hash: from the state when size and mtime
    // are unchanged, else by hashing it (and recording the result).
    Result<bool> verified(const ReleaseFile& file) {
        auto now = regular_file_stat(m_dir / file.filename);
        if (!now || (file.size != 0 && now->size != file.size)) return false;
        const std::string sha = to_lower(file.sha256);
        if (auto it = m_state.find(file.filename); it != m_state.end()) {
            if (it->second.size == now->size && it->second.mtime_ns == now->mtime_ns) return it->second.sha256 == sha;
        }
        m_events.emit(Event{EventKind::info, "verifying " + file.filename + " (" + human_bytes(now->size) + ")"});
        auto got = sha256_file(m_dir / file.filename, m_cancel);
        if (!got) return std::unexpected(got.error());
        if (*got != sha) return false;
        return record(file.filename, sha);
    }

    // Records a file just verified (by the downloader or by hashing) and saves the state.
    Result<bool> record(const std::string& filename, const std::string& sha) {
        auto now = regular_file_stat(m_dir / filename);
        if (!now) return false;
        m_state[filename] = VerifiedFile{sha, now->size, now->mtime_ns};
        if (auto st = write_file_atomic(m_dir / k_mirror_state_name, format_mirror_state(m_state)); !st) {
            return std::unexpected(st.error());
        }
        return true;
    }

private:
    std::filesystem::path m_dir;
    EventSink& m_events;
    const CancelToken* m_cancel;
    MirrorState m_state;
};

// Resolves specs × platforms; every pair must name an archive with a checksum (a mirror only
// holds files it can verify).
Result<std::vector<Wanted>> plan(const IndexResult& index, const MirrorSyncRequest& rq, EventSink& events) {
    std::vector<Wanted> out;
    std::vector<std::string> specs = rq.specs.empty() ? std::vector<std::string>{"latest"} : rq.specs;
    std::vector<Platform> platforms = rq.platforms.empty() ? std::vector<Platform>{host_platform()} : rq.platforms;
    for (const auto& text : specs) {
        for (const auto& p : platforms) {
            ReleaseFile file;
            auto artifact = artifact_in_index(index, text, p, "", events, &file);
            if (!artifact) return std::unexpected(artifact.error());
            auto v = parse_version(artifact->version);
            auto release = std::find_if(index.index.releases.begin(), index.index.releases.end(),
                                        [&](const Release& r) { return v && r.version == *v; });
            bool dup =
                std::any_of(out.begin(), out.end(), [&](const Wanted& w) { return w.file.filename == file.filename; });
            if (!dup && release != index.index.releases.end()) out.push_back(Wanted{&*release, file, p});
        }
    }
    return out;
}

// The mirror's index: this sync's files plus earlier syncs' that are still there and verified.
Result<ReleaseIndex> merged_index(const std::filesystem::path& dir, const std::vector<Wanted>& wanted,
                                  MirrorDir& mirror, EventSink& events) {
    ReleaseIndex out;
    auto add = [&](const Release& r, const ReleaseFile& f) {
        auto it = std::find_if(out.releases.begin(), out.releases.end(),
                               [&](const Release& x) { return x.version == r.version; });
        if (it == out.releases.end()) {
            out.releases.push_back(Release{r.version, r.stable, {}});
            it = out.releases.end() - 1;
        }
        if (std::none_of(it->files.begin(), it->files.end(),
                         [&](const ReleaseFile& g) { return g.filename == f.filename; })) {
            it->files.push_back(f);
        }
    };
    for (const auto& w : wanted) add(*w.release, w.file);
    const auto index_path = dir / k_mirror_index_name;
    std::error_code ec;
    if (std::filesystem::exists(index_path, ec)) {
        auto old = read_index_file(index_path, index_path.string());
        if (!old) {
            events.emit(Event{EventKind::warning, "rebuilding " + index_path.string() + ": " + old.error().describe()});
        } else {
            for (const auto& r : old->releases) {
                for (const auto& f : r.files) {
                    if (!is_hex(f.sha256, 64)) continue;
                    auto ok = mirror.verified(f);
                    if (!ok) return std::unexpected(ok.error());
                    if (*ok) add(r, f);
                }
            }
        }
    }
    std::sort(out.releases.begin(), out.releases.end(),
              [](const Release& a, const Release& b) { return b.version < a.version; });
    for (auto& r : out.releases) {
        std::sort(r.files.begin(), r.files.end(),
                  [](const ReleaseFile& a, const ReleaseFile& b) { return a.filename < b.filename; });
    }
    return out;
}

} // namespace

Result<MirrorSyncOutcome> sync_mirror(Transport& transport, Clock& clock, EventSink& events,
                                      const MirrorSyncRequest& rq, const CancelToken* cancel) {
    if (auto st = ensure_dir(rq.dir); !st) return std::unexpected(st.error());
    auto lock = FileLock::acquire(rq.dir / ".goinstall-mirror.lock", rq.lock_timeout, cancel, [&] {
        events.emit(Event{EventKind::info, "waiting for another sync of " + rq.dir.string() + " to finish"});
    });
    if (!lock) return std::unexpected(lock.error());

    auto index = load_index(transport, clock, events, rq.index, cancel);
    if (!index) return std::unexpected(index.error());
    auto wanted = plan(*index, rq, events);
    if (!wanted) return std::unexpected(wanted.error());

    MirrorDir mirror(rq.dir, events, cancel);
    MirrorSyncOutcome out;
    for (const auto& w : *wanted) {
        SyncedFile sf{w.release->version.text, w.file.filename, w.platform, w.file.size, false};
        auto present = mirror.verified(w.file);
        if (!present) return std::unexpected(present.error());
        if (!*present) {
            const auto path = rq.dir / w.file.filename;
            if (regular_file_stat(path)) {
                events.emit(Event{EventKind::warning, w.file.filename + " in the mirror does not match the index's "
                                                                        "SHA-256; downloading it again"});
                if (auto st = remove_file(path); !st) return std::unexpected(st.error());
            }
            DownloadTarget target{w.file.filename, to_lower(w.file.sha256), w.file.size};
            auto got = fetch_from_mirrors(transport, clock, events, target, rq.dir, rq.download, cancel);
            if (!got) return std::unexpected(std::move(got.error()).with_context("downloading " + w.file.filename));
            auto rec = mirror.record(w.file.filename, got->sha256);
            if (!rec) return std::unexpected(rec.error());
            sf.downloaded = true;
            out.bytes_downloaded += got->bytes_transferred;
        } else {
            events.emit(
                Event{EventKind::already_installed, w.file.filename + " is already in the mirror (verified)"}.with(
                    "filename", w.file.filename));
        }
        out.files.push_back(sf);
    }

    auto merged = merged_index(rq.dir, *wanted, mirror, events);
    if (!merged) return std::unexpected(merged.error());
    for (const auto& r : merged->releases) out.index_files += r.files.size();
    out.index_path = rq.dir / k_mirror_index_name;
    if (auto st = write_file_atomic(out.index_path, serialize_index(*merged)); !st) return std::unexpected(st.error());
    events.emit(Event{EventKind::info, "wrote " + out.index_path.string() + " (" +
                                           std::to_string(merged->releases.size()) + " releases, " +
                                           std::to_string(out.index_files) + " files)"}
                    .with("index", out.index_path.string()));
    if (rq.modules) {
        std::vector<ModuleMirrorItem> items;
        for (const auto& w : *wanted) items.push_back(ModuleMirrorItem{w.release->version.text, w.platform});
        auto mods = sync_module_mirror(transport, clock, events, rq.dir, items, *rq.modules, cancel);
        if (!mods) return std::unexpected(mods.error());
        out.modules = std::move(*mods);
    }
    return out;
}

} // namespace goinstall
