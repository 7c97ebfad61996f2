#include "goinstall/archive/byte_pipe.hpp"

namespace goinstall {

BytePipe::BytePipe(std::size_t block_size, std::size_t blocks)
    : m_block_size(block_size == 0 ? 1 : block_size), m_storage(m_block_size * (blocks == 0 ? 1 : blocks)) {
    for (std::size_t i = 0; i < m_storage.size() / m_block_size; ++i) {
        m_free.push_back(i);
    }
}

std::span<unsigned char> BytePipe::acquire() {
    std::unique_lock lock(m_mutex);
    if (m_producing) { // acquire twice without publish: hand back the same block
        return {m_storage.data() + *m_producing * m_block_size, m_block_size};
    }
    m_changed.wait(lock, [&] { return m_read_closed || !m_free.empty(); });
    if (m_read_closed) {
        return {};
    }
    m_producing = m_free.front();
    m_free.pop_front();
    return {m_storage.data() + *m_producing * m_block_size, m_block_size};
}

void BytePipe::publish(std::size_t used) {
    std::lock_guard lock(m_mutex);
    if (!m_producing) {
        return;
    }
    const std::size_t index = *m_producing;
    m_producing.reset();
    if (used == 0 || m_read_closed || m_write_closed) {
        m_free.push_back(index);
    } else {
        m_filled.push_back(Filled{index, used < m_block_size ? used : m_block_size});
    }
    m_changed.notify_all();
}

void BytePipe::close_write(std::optional<Error> error) {
    std::lock_guard lock(m_mutex);
    if (m_write_closed) {
        return;
    }
    m_write_closed = true;
    m_error = std::move(error);
    if (m_producing) {
        m_free.push_back(*m_producing);
        m_producing.reset();
    }
    m_changed.notify_all();
}

Result<std::span<const unsigned char>> BytePipe::next() {
    std::unique_lock lock(m_mutex);
    if (m_consuming) {
        m_free.push_back(*m_consuming);
        m_consuming.reset();
        m_changed.notify_all();
    }
    m_changed.wait(lock, [&] { return m_read_closed || m_write_closed || !m_filled.empty(); });
    if (!m_filled.empty() && !m_read_closed) {
        const Filled f = m_filled.front();
        m_filled.pop_front();
        m_consuming = f.index;
        return std::span<const unsigned char>(m_storage.data() + f.index * m_block_size, f.used);
    }
    if (m_error) {
        return std::unexpected(*m_error);
    }
    return std::span<const unsigned char>();
}

void BytePipe::close_read() {
    std::lock_guard lock(m_mutex);
    m_read_closed = true;
    if (m_consuming) {
        m_free.push_back(*m_consuming);
        m_consuming.reset();
    }
    while (!m_filled.empty()) {
        m_free.push_back(m_filled.front().index);
        m_filled.pop_front();
    }
    m_changed.notify_all();
}

} // namespace goinstall
