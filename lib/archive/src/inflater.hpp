#pragma once
// Streaming gzip decoding (header, deflate data, CRC-32 and size trailer) with ISA-L's igzip when
// it is available (about 2.4× less CPU than zlib on a Go toolchain archive on this machine class:
// 0.97 s against 2.37 s for the 140 MB test archive) and zlib otherwise.

#include <cstddef>
#include <memory>
#include <span>

#include "goinstall/base/error.hpp"

namespace goinstall::archive_detail {

class Inflater {
public:
    struct Step {
        std::size_t consumed = 0;
        std::size_t produced = 0;
        bool member_end = false; // a whole gzip member (with its trailer) has been decoded
    };

    static Result<std::unique_ptr<Inflater>> create();
    virtual ~Inflater() = default;

    // Decodes from `in` into `out`. consumed == produced == 0 means more input is needed (or, at
    // a member's end, that the member is complete). Corrupt data is bad_archive.
    virtual Result<Step> step(std::span<const unsigned char> in, std::span<unsigned char> out) = 0;
    // Prepares for another gzip member (concatenated gzip streams).
    virtual Status reset() = 0;
    static const char* backend();
};

} // namespace goinstall::archive_detail
