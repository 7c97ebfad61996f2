#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../fakes/temp_dir.hpp"
#include "goinstall/fs/files.hpp"

using namespace goinstall;
using namespace goinstall::test;

namespace {} // namespace

TEST_CASE("ensure_dir creates parents and accepts an existing directory", "[fs]") {
    TempDir t;
    REQUIRE(ensure_dir(t / "a/b/c").has_value());
    CHECK(std::filesystem::is_directory(t / "a/b/c"));
    CHECK(ensure_dir(t / "a/b/c").has_value());
    write_text(t / "file", "x");
    auto r = ensure_dir(t / "file/sub");
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().message().find((t / "file/sub").string()) != std::string::npos);
}

TEST_CASE("read_file reads whole files up to max_bytes", "[fs]") {
    TempDir t;
    const std::string content(70000, 'z'); // more than one read buffer
    write_text(t / "f", content);
    CHECK(read_file(t / "f", 70000) == content);
    CHECK(read_file(t / "f", 1 << 20) == content);
    auto too_big = read_file(t / "f", 69999);
    REQUIRE_FALSE(too_big.has_value());
    CHECK(too_big.error().code() == ErrorCode::filesystem);
    CHECK(too_big.error().message().find("larger than") != std::string::npos);

    write_text(t / "empty", "");
    CHECK(read_file(t / "empty", 0) == std::string());

    auto missing = read_file(t / "nope", 10);
    REQUIRE_FALSE(missing.has_value());
    CHECK(missing.error().code() == ErrorCode::filesystem);
    CHECK(missing.error().message().find((t / "nope").string()) != std::string::npos);
}

TEST_CASE("write_file_atomic creates and replaces, leaving no temporary behind", "[fs]") {
    TempDir t;
    REQUIRE(write_file_atomic(t / "cfg", "one\n").has_value());
    CHECK(read_text(t / "cfg") == "one\n");
    REQUIRE(write_file_atomic(t / "cfg", "two").has_value());
    CHECK(read_text(t / "cfg") == "two");
    REQUIRE(write_file_atomic(t / "cfg", "").has_value());
    CHECK(read_text(t / "cfg").empty());
    CHECK(names_in(t.path()) == std::vector<std::string>{"cfg"});

    auto r = write_file_atomic(t / "missing-dir/cfg", "x");
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == ErrorCode::filesystem);
}

TEST_CASE("write_file_atomic keeps the old content when it cannot write", "[fs]") {
    if (::geteuid() == 0) {
        SUCCEED("root ignores directory permissions");
        return;
    }
    TempDir t;
    std::filesystem::create_directory(t / "d");
    REQUIRE(write_file_atomic(t / "d/cfg", "old").has_value());
    ::chmod((t / "d").c_str(), 0555);
    auto r = write_file_atomic(t / "d/cfg", "new");
    ::chmod((t / "d").c_str(), 0755);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == ErrorCode::permission);
    CHECK(read_text(t / "d/cfg") == "old");
}

TEST_CASE("replace_dir moves into a new path", "[fs]") {
    TempDir t;
    write_text(t / "new/VERSION", "go1.22.0");
    auto r = replace_dir(t / "new", t / "dest");
    REQUIRE(r.has_value());
    CHECK_FALSE(*r);
    CHECK(read_text(t / "dest/VERSION") == "go1.22.0");
    CHECK_FALSE(std::filesystem::exists(t / "new"));
}

TEST_CASE("replace_dir exchanges with an existing tree", "[fs]") {
    TempDir t;
    write_text(t / "new/VERSION", "go1.22.0");
    write_text(t / "new/only-new", "n");
    write_text(t / "dest/VERSION", "go1.21.3");
    write_text(t / "dest/only-old", "o");
    auto r = replace_dir(t / "new", t / "dest");
    REQUIRE(r.has_value());
    CHECK(*r);
    CHECK(read_text(t / "dest/VERSION") == "go1.22.0");
    CHECK(std::filesystem::exists(t / "dest/only-new"));
    CHECK_FALSE(std::filesystem::exists(t / "dest/only-old"));
    CHECK(read_text(t / "new/VERSION") == "go1.21.3");
    CHECK(std::filesystem::exists(t / "new/only-old"));
    CHECK(names_in(t.path()) == std::vector<std::string>{"dest", "new"});
}

TEST_CASE("replace_dir fails cleanly when the source is missing", "[fs]") {
    TempDir t;
    write_text(t / "dest/VERSION", "go1.21.3");
    CHECK_FALSE(replace_dir(t / "absent", t / "fresh").has_value());
    CHECK_FALSE(replace_dir(t / "absent", t / "dest").has_value());
    CHECK(read_text(t / "dest/VERSION") == "go1.21.3");
}

TEST_CASE("replace_symlink creates and atomically repoints a link", "[fs]") {
    TempDir t;
    std::filesystem::create_directory(t / "go1.21.3");
    std::filesystem::create_directory(t / "go1.22.0");
    REQUIRE(replace_symlink("go1.21.3", t / "current").has_value());
    CHECK(std::filesystem::read_symlink(t / "current") == "go1.21.3");
    REQUIRE(replace_symlink("go1.22.0", t / "current").has_value());
    CHECK(std::filesystem::read_symlink(t / "current") == "go1.22.0");
    // A dangling target is allowed: the link is only a name.
    REQUIRE(replace_symlink("go9.9.9", t / "current").has_value());
    CHECK(std::filesystem::read_symlink(t / "current") == "go9.9.9");
    CHECK(names_in(t.path()) == std::vector<std::string>{"current", "go1.21.3", "go1.22.0"});

    auto r = replace_symlink("x", t / "no-such-dir/current");
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == ErrorCode::filesystem);
}

TEST_CASE("make_unique_dir makes distinct 0755 directories with the prefix", "[fs]") {
    TempDir t;
    auto a = make_unique_dir(t.path(), ".goinstall-staging-");
    auto b = make_unique_dir(t.path(), ".goinstall-staging-");
    REQUIRE(a.has_value());
    REQUIRE(b.has_value());
    CHECK(*a != *b);
    CHECK(a->parent_path() == t.path());
    CHECK(a->filename().string().starts_with(".goinstall-staging-"));
    CHECK(a->filename().string().size() == std::string(".goinstall-staging-").size() + 6);
    CHECK(std::filesystem::is_directory(*a));
    struct stat st {};
    REQUIRE(::stat(a->c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0755);

    auto bad = make_unique_dir(t / "missing", "x-");
    REQUIRE_FALSE(bad.has_value());
    CHECK(bad.error().message().find((t / "missing").string()) != std::string::npos);
}

TEST_CASE("remove_tree removes a tree without following symlinks out of it", "[fs]") {
    TempDir t;
    write_text(t / "outside/keep", "precious");
    write_text(t / "tree/a/b/file", "x");
    std::filesystem::create_directory_symlink(t / "outside", t / "tree/a/link");
    REQUIRE(remove_tree(t / "tree").has_value());
    CHECK_FALSE(std::filesystem::exists(t / "tree"));
    CHECK(read_text(t / "outside/keep") == "precious");
    CHECK(remove_tree(t / "tree").has_value()); // absent is fine
}

TEST_CASE("fsync_dir and free_bytes work on a real directory", "[fs]") {
    TempDir t;
    CHECK(fsync_dir(t.path()).has_value());
    CHECK_FALSE(fsync_dir(t / "missing").has_value());
    CHECK(free_bytes(t.path()) > 0);
    CHECK(free_bytes(t / "missing") == 0);
}

TEST_CASE("regular_file_stat: size and mtime of regular files only", "[fs]") {
    TempDir t;
    write_text(t / "f", "12345");
    struct timespec times[2] = {{0, UTIME_OMIT}, {1700000000, 123456789}};
    REQUIRE(::utimensat(AT_FDCWD, (t / "f").c_str(), times, 0) == 0);
    auto st = regular_file_stat(t / "f");
    REQUIRE(st);
    CHECK(st->size == 5);
    CHECK(st->mtime_ns == 1700000000123456789);
    std::filesystem::create_symlink(t / "f", t / "link");
    CHECK(regular_file_stat(t / "link").has_value()); // followed
    CHECK_FALSE(regular_file_stat(t.path()).has_value());
    CHECK_FALSE(regular_file_stat(t / "missing").has_value());
}
