#include "goinstall/archive/stream_extract.hpp"

#include <cerrno>
#include <memory>
#include <thread>
#include <vector>

#include <archive.h>

#include "disk_writer.hpp"
#include "entries.hpp"
#include "goinstall/archive/byte_pipe.hpp"
#include "inflater.hpp"

namespace goinstall {

using archive_detail::DiskWriter;
using archive_detail::Inflater;

namespace {

// Compressed bytes read from the source per read(): a few hundred per archive, and the .part it
// comes from is in the page cache.
constexpr std::size_t k_in_block = 256U << 10;
// Decoded tar between the two threads: 8 × 128 KiB. Small enough to stay in the L2 caches the two
// threads share poorly anyway, large enough that neither waits on the other's scheduling jitter
// (2 cores shared with the download thread). Measured on the 140 MB test archive: 64 KiB–1 MiB
// blocks are within noise of each other.
constexpr std::size_t k_out_block = 128U << 10;
constexpr std::size_t k_out_blocks = 8;

struct ReadArchiveDeleter {
    void operator()(struct archive* a) const { archive_read_free(a); }
};

struct TarInput {
    BytePipe* pipe;
    std::optional<Error> error; // why the pipe failed (the decoder's error)
};

la_ssize_t tar_read(struct archive* a, void* ctx, const void** buf) {
    auto* in = static_cast<TarInput*>(ctx);
    auto block = in->pipe->next();
    if (!block) {
        in->error = block.error();
        archive_set_error(a, EIO, "%s", block.error().message().c_str());
        return -1;
    }
    *buf = block->data();
    return static_cast<la_ssize_t>(block->size());
}

// Parses the tar coming through `pipe` and writes its entries; runs on its own thread.
Result<ExtractStats> untar(BytePipe& pipe, DiskWriter& writer, const ExtractOptions& options) {
    std::unique_ptr<struct archive, ReadArchiveDeleter> reader(archive_read_new());
    if (!reader) {
        return fail(ErrorCode::internal, "archive_read_new failed");
    }
    struct archive* a = reader.get();
    if (archive_read_support_format_tar(a) != ARCHIVE_OK) {
        return fail(ErrorCode::internal, "libarchive setup failed: " + archive_detail::libarchive_message(a));
    }
    TarInput input{&pipe, std::nullopt};
    if (archive_read_open(a, &input, nullptr, tar_read, nullptr) != ARCHIVE_OK) {
        if (input.error) {
            return std::unexpected(*input.error);
        }
        return fail(ErrorCode::bad_archive,
                    "archive is corrupt or truncated: " + archive_detail::libarchive_message(a));
    }
    auto stats = archive_detail::extract_entries(a, writer, options, "the stream");
    if (!stats && input.error) {
        return std::unexpected(*input.error); // the decoder's (or the source's) error says more
    }
    return stats;
}

// Decodes `source` into `pipe` until the end of the gzip stream, the consumer closing its end, an
// error or cancellation. Does not close the pipe.
Status inflate_into(ByteSource& source, Inflater& inflater, BytePipe& pipe, const ExtractOptions& options) {
    std::vector<unsigned char> in(k_in_block);
    std::size_t in_pos = 0;
    std::size_t in_len = 0;
    bool member_ended = false;
    bool any_input = false;
    std::span<unsigned char> out = pipe.acquire();
    std::size_t out_used = 0;
    for (;;) {
        if (out.empty()) {
            return {}; // the tar side stopped (finished, or failed: it reports why)
        }
        if (out_used == out.size()) {
            pipe.publish(out_used);
            out = pipe.acquire();
            out_used = 0;
            continue;
        }
        auto step =
            inflater.step(std::span<const unsigned char>(in.data() + in_pos, in_len - in_pos), out.subspan(out_used));
        if (!step) {
            pipe.publish(0);
            return std::unexpected(step.error());
        }
        in_pos += step->consumed;
        out_used += step->produced;
        member_ended = step->member_end;
        if (step->consumed != 0 || step->produced != 0) {
            continue;
        }
        if (in_pos < in_len) {
            if (!member_ended) {
                pipe.publish(0);
                return fail(ErrorCode::bad_archive, "archive is corrupt or truncated: gzip: decoder made no progress");
            }
            if (auto st = inflater.reset(); !st) { // another gzip member follows
                pipe.publish(0);
                return st;
            }
            continue;
        }
        if (options.cancel != nullptr && options.cancel->cancelled()) {
            pipe.publish(0);
            return fail(ErrorCode::cancelled, "extraction was cancelled");
        }
        auto n = source.read(in);
        if (!n) {
            pipe.publish(0);
            return std::unexpected(n.error());
        }
        if (*n == 0) {
            break;
        }
        any_input = true;
        in_pos = 0;
        in_len = *n;
    }
    if (!member_ended) {
        pipe.publish(0);
        return fail(ErrorCode::bad_archive, any_input ? "archive is corrupt or truncated: gzip: unexpected end of data"
                                                      : "archive is corrupt or truncated: empty input");
    }
    pipe.publish(out_used);
    return {};
}

} // namespace

Result<ExtractStats> extract_tar_gz_stream(ByteSource& source, const std::filesystem::path& dest_dir,
                                           const ExtractOptions& options) {
    if (auto st = archive_detail::check_top_dir(options.top_dir); !st) {
        return std::unexpected(st.error());
    }
    auto writer = DiskWriter::open(dest_dir);
    if (!writer) {
        return std::unexpected(writer.error());
    }
    auto inflater = Inflater::create();
    if (!inflater) {
        return std::unexpected(inflater.error());
    }
    BytePipe pipe(k_out_block, k_out_blocks);
    Result<ExtractStats> untarred = fail(ErrorCode::internal, "tar thread did not run");
    std::thread tar([&] {
        untarred = untar(pipe, *writer, options);
        pipe.close_read();
    });
    Status inflated = inflate_into(source, **inflater, pipe, options);
    pipe.close_write(inflated ? std::nullopt : std::optional<Error>(inflated.error()));
    tar.join();
    if (!inflated) {
        return std::unexpected(inflated.error());
    }
    return untarred;
}

const char* inflate_backend() { return Inflater::backend(); }

} // namespace goinstall
