// An flock(2) on a lock file, held for the object's life: how the kernel
// cache serialises fetches, builds of one key and unpackers of a source,
// and how a build keeps its source tree from being evicted under it.
// flock dies with the process, so a killed holder never leaves a stale lock.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>

namespace ktstr::vmm::kernel {

class FileLock {
public:
    enum class Mode { exclusive, shared };

    // Creates `path` when missing and waits for the lock. Throws
    // std::runtime_error naming the file when it cannot be opened or locked.
    // A signal handled while waiting calls `on_signal`, which may throw to
    // stop waiting (a build interrupted while another holds its lock).
    explicit FileLock(const std::filesystem::path& path, Mode mode = Mode::exclusive,
                      const std::function<void()>& on_signal = {});
    ~FileLock();
    FileLock(FileLock&& other) noexcept;
    FileLock& operator=(FileLock&& other) noexcept;
    FileLock(const FileLock&) = delete;
    FileLock& operator=(const FileLock&) = delete;

    // The exclusive lock if the file exists and nobody holds it locked,
    // without waiting: for "is anyone still using this?" (stale build
    // folders, old source trees). A missing file is not created.
    static std::optional<FileLock> try_exclusive(const std::filesystem::path& path);

private:
    FileLock() = default;
    int fd_ = -1;
};

}  // namespace ktstr::vmm::kernel
