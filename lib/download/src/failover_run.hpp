#pragma once
// The sequential (single-stream) phase of a download: the driver of the failover state machine
// (failover.hpp). Each round asks the first idle mirror (and, past the head start, the next one
// too), turns every outcome into a MirrorEvent and carries out the action the transition names.

#include <cstddef>
#include <filesystem>
#include <optional>

#include "goinstall/base/cancel.hpp"
#include "goinstall/base/clock.hpp"
#include "goinstall/base/events.hpp"
#include "goinstall/download/downloader.hpp"
#include "goinstall/net/transport.hpp"
#include "failover.hpp"
#include "part_file.hpp"

namespace goinstall {

struct FailoverSetup {
    Transport& transport;
    Clock& clock;
    EventSink& events;
    const JitterFn& jitter;
    const DownloadTarget& target;
    const DownloadOptions& options;
    const CancelToken* cancel;
    std::filesystem::path part_path, meta_path, final_path;
    std::optional<std::size_t> served_by; // the segmented phase's main mirror, credited for a complete .part
};

// Fetches (or resumes) the .part behind `sink` from the mirrors until it verifies, renames it to
// final_path and fills `result`; or returns the most informative error.
Result<DownloadResult> run_failover(FailoverSetup setup, PartFileSink& sink, PartMeta& meta, DownloadResult& result,
                                    AttemptLog& log);

} // namespace goinstall
