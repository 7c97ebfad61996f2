#include "inflater.hpp"

#include <climits>
#include <string>

#ifdef GOINSTALL_HAVE_ISAL
#include <isa-l/igzip_lib.h>
#else
#include <zlib.h>
#endif

namespace goinstall::archive_detail {

namespace {

std::unexpected<Error> corrupt(const std::string& why) {
    return fail(ErrorCode::bad_archive, "archive is corrupt or truncated: gzip: " + why);
}

// Both libraries count in 32 bits; steps are capped below that.
std::size_t cap(std::size_t n) { return n < (UINT_MAX >> 1) ? n : (UINT_MAX >> 1); }

#ifdef GOINSTALL_HAVE_ISAL

const char* isal_message(int r) {
    switch (r) {
    case ISAL_INVALID_BLOCK: return "invalid deflate block";
    case ISAL_INVALID_SYMBOL: return "invalid deflate symbol";
    case ISAL_INVALID_LOOKBACK: return "invalid lookback distance";
    case ISAL_INVALID_WRAPPER: return "not in gzip format";
    case ISAL_UNSUPPORTED_METHOD: return "unsupported compression method";
    case ISAL_INCORRECT_CHECKSUM: return "CRC or length check failed";
    default: return "decoding failed";
    }
}

class IsalInflater final : public Inflater {
public:
    IsalInflater() : m_state(std::make_unique<inflate_state>()) { (void)reset(); }

    Result<Step> step(std::span<const unsigned char> in, std::span<unsigned char> out) override {
        static unsigned char dummy = 0;
        inflate_state& s = *m_state;
        if (s.block_state == ISAL_BLOCK_FINISH) {
            return Step{0, 0, true};
        }
        s.next_in = in.empty() ? &dummy : const_cast<unsigned char*>(in.data()); // NOLINT: ISA-L's API is not const
        s.avail_in = static_cast<std::uint32_t>(cap(in.size()));
        s.next_out = out.empty() ? &dummy : out.data();
        s.avail_out = static_cast<std::uint32_t>(cap(out.size()));
        const std::uint32_t in0 = s.avail_in;
        const std::uint32_t out0 = s.avail_out;
        const int r = isal_inflate(&s);
        if (r < 0) {
            return corrupt(isal_message(r));
        }
        return Step{in0 - s.avail_in, out0 - s.avail_out, s.block_state == ISAL_BLOCK_FINISH};
    }

    Status reset() override {
        isal_inflate_init(m_state.get());
        m_state->crc_flag = ISAL_GZIP;
        return {};
    }

private:
    std::unique_ptr<inflate_state> m_state;
};

#else

class ZlibInflater final : public Inflater {
public:
    ~ZlibInflater() override {
        if (m_ready) inflateEnd(&m_z);
    }
    Status init() {
        m_z = z_stream{};
        if (inflateInit2(&m_z, 16 + MAX_WBITS) != Z_OK) { // 16: gzip wrapper only
            return fail(ErrorCode::internal, "zlib inflateInit2 failed");
        }
        m_ready = true;
        return {};
    }

    Result<Step> step(std::span<const unsigned char> in, std::span<unsigned char> out) override {
        if (m_ended) {
            return Step{0, 0, true};
        }
        m_z.next_in = const_cast<unsigned char*>(in.data()); // NOLINT: zlib's API is not const
        m_z.avail_in = static_cast<uInt>(cap(in.size()));
        m_z.next_out = out.data();
        m_z.avail_out = static_cast<uInt>(cap(out.size()));
        const uInt in0 = m_z.avail_in;
        const uInt out0 = m_z.avail_out;
        const int r = ::inflate(&m_z, Z_NO_FLUSH);
        if (r == Z_STREAM_END) {
            m_ended = true;
        } else if (r != Z_OK && r != Z_BUF_ERROR) {
            return corrupt(m_z.msg != nullptr ? m_z.msg : "decoding failed");
        }
        return Step{in0 - m_z.avail_in, out0 - m_z.avail_out, m_ended};
    }

    Status reset() override {
        m_ended = false;
        if (inflateReset(&m_z) != Z_OK) {
            return fail(ErrorCode::internal, "zlib inflateReset failed");
        }
        return {};
    }

private:
    z_stream m_z{};
    bool m_ready = false;
    bool m_ended = false;
};

#endif

} // namespace

Result<std::unique_ptr<Inflater>> Inflater::create() {
#ifdef GOINSTALL_HAVE_ISAL
    return std::make_unique<IsalInflater>();
#else
    auto z = std::make_unique<ZlibInflater>();
    if (auto st = z->init(); !st) {
        return std::unexpected(st.error());
    }
    return z;
#endif
}

const char* Inflater::backend() {
#ifdef GOINSTALL_HAVE_ISAL
    return "isa-l";
#else
    return "zlib";
#endif
}

} // namespace goinstall::archive_detail
