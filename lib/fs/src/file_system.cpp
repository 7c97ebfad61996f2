#include "goinstall/fs/file_system.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "goinstall/fs/files.hpp"

namespace goinstall {

Status RealFileSystem::make_dirs(const std::filesystem::path& dir) { return ensure_dir(dir); }

Result<std::filesystem::path> RealFileSystem::make_unique_dir(const std::filesystem::path& parent,
                                                              const std::string& prefix) {
    return goinstall::make_unique_dir(parent, prefix);
}

Status RealFileSystem::remove_file(const std::filesystem::path& path) { return goinstall::remove_file(path); }

Status RealFileSystem::rename(const std::filesystem::path& from, const std::filesystem::path& to) {
    return rename_path(from, to);
}

Status RealFileSystem::remove_tree(const std::filesystem::path& path) { return goinstall::remove_tree(path); }

Status RealFileSystem::sync_filesystem(const std::filesystem::path& dir) {
#ifdef __linux__
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return std::unexpected(errno_error(errno, "opening", dir.string()));
    }
    const int rc = ::syncfs(fd);
    const int err = errno;
    ::close(fd);
    if (rc != 0) {
        return std::unexpected(errno_error(err, "syncing the file system of", dir.string()));
    }
#else
    (void)dir;
    ::sync();
#endif
    return {};
}

FileSystem& real_file_system() {
    static RealFileSystem fs;
    return fs;
}

} // namespace goinstall
