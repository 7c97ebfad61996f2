#pragma once
// The narrow filesystem seam the install pipeline touches, so its unit tests can fail a step
// (a full disk at the sync, a rename that is refused) without a real broken filesystem.
// RealFileSystem forwards to files.hpp; tests wrap it.

#include <filesystem>
#include <string>
#include <utility>

#include "goinstall/base/error.hpp"

namespace goinstall {

class FileSystem {
public:
    virtual ~FileSystem() = default;
    // Creates the directory and its parents.
    virtual Status make_dirs(const std::filesystem::path& dir) = 0;
    // A fresh "<parent>/<prefix>XXXXXX" directory.
    virtual Result<std::filesystem::path> make_unique_dir(const std::filesystem::path& parent,
                                                          const std::string& prefix) = 0;
    // Removes a file; a missing file is not an error.
    virtual Status remove_file(const std::filesystem::path& path) = 0;
    // Removes a tree if present, never following symlinks out of it.
    virtual Status remove_tree(const std::filesystem::path& path) = 0;
    // rename(2) on one filesystem, replacing a file at `to`.
    virtual Status rename(const std::filesystem::path& from, const std::filesystem::path& to) = 0;
    // Makes everything written to the filesystem holding `dir` durable (syncfs(2); sync(2) where
    // syncfs does not exist). Errors map errno as errno_error does (ENOSPC → disk_full).
    virtual Status sync_filesystem(const std::filesystem::path& dir) = 0;
};

// Removes a path (a tree or a file) through the seam when it goes out of scope (an empty path:
// nothing); errors are ignored. A staging tree's guard.
class RemoveOnExit {
public:
    RemoveOnExit(FileSystem& fs, std::filesystem::path p, bool tree) : m_fs(fs), m_path(std::move(p)), m_tree(tree) {}
    RemoveOnExit(const RemoveOnExit&) = delete;
    RemoveOnExit& operator=(const RemoveOnExit&) = delete;
    ~RemoveOnExit() {
        if (m_path.empty()) return;
        if (m_tree) {
            (void)m_fs.remove_tree(m_path);
        } else {
            (void)m_fs.remove_file(m_path);
        }
    }

private:
    FileSystem& m_fs;
    std::filesystem::path m_path;
    bool m_tree;
};

class RealFileSystem final : public FileSystem {
public:
    Status make_dirs(const std::filesystem::path& dir) override;
    Result<std::filesystem::path> make_unique_dir(const std::filesystem::path& parent,
                                                  const std::string& prefix) override;
    Status remove_file(const std::filesystem::path& path) override;
    Status remove_tree(const std::filesystem::path& path) override;
    Status rename(const std::filesystem::path& from, const std::filesystem::path& to) override;
    Status sync_filesystem(const std::filesystem::path& dir) override;
};

// The process-wide real filesystem (stateless).
FileSystem& real_file_system();

} // namespace goinstall
