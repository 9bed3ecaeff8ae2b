// A fresh directory under the system's temporary directory for one test,
// removed with everything in it when the test ends (also when a check
// throws), so that tests neither see each other's files nor leave any.
#pragma once

#include <filesystem>
#include <string_view>

namespace ktstr::test {

class TempDir {
public:
    // Makes <temp>/ktstr-<tag>-XXXXXX (mkdtemp: mode 0700, a name nobody
    // else holds); the tag says which test left a directory behind after a
    // crash. Throws std::system_error when it cannot be made.
    explicit TempDir(std::string_view tag = "test");
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::filesystem::path& path() const noexcept { return path_; }

    // Writes `content` to path() / rel, making the directories on the way
    // and replacing any file there; returns the file's path. Throws
    // std::system_error when it cannot be written.
    std::filesystem::path write(const std::filesystem::path& rel, std::string_view content) const;

private:
    std::filesystem::path path_;
};

}  // namespace ktstr::test
