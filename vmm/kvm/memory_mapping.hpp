// An owned mmap: anonymous memory for guest RAM, a file's pages (the
// vCPU's kvm_run structure), or a file read in place (the kernel, the
// initrd). Unmapped when the owner goes away.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <utility>

#include <sys/types.h>

namespace ktstr::vmm::kvm {

class MemoryMapping {
public:
    MemoryMapping() noexcept = default;
    MemoryMapping(MemoryMapping&& o) noexcept
        : data_(std::exchange(o.data_, nullptr)),
          size_(std::exchange(o.size_, 0)),
          read_only_(std::exchange(o.read_only_, false)) {}
    MemoryMapping& operator=(MemoryMapping&& o) noexcept;
    MemoryMapping(const MemoryMapping&) = delete;
    MemoryMapping& operator=(const MemoryMapping&) = delete;
    ~MemoryMapping();

    // Zero-filled private memory, readable and writable, `size` rounded up
    // to whole pages; reserved lazily (MAP_NORESERVE) so large guests cost
    // only the pages they touch. Throws KvmError.
    static MemoryMapping anonymous(std::size_t size);

    // `size` bytes of `fd` at `offset`, shared, readable and writable.
    // `what` names the mapping in the error. Throws KvmError.
    static MemoryMapping shared_file(int fd, std::size_t size, off_t offset, const char* what);

    // The file at `path`, whole, private and read-only: a file the VMM
    // reads once (the kernel, the initrd) without a copy on its heap. An
    // empty file gives an empty mapping. A file shrunk while mapped makes
    // reads past its new end SIGBUS (machine/boot_files.hpp: read early,
    // then let go). Throws KvmError when it cannot be opened or mapped, or
    // is larger than `max_size`.
    static MemoryMapping read_only_file(const std::filesystem::path& path, std::uint64_t max_size);

    // For a read_only_file mapping (nothing otherwise): drops this
    // process's page-table entries for the pages under [offset, +length),
    // so they stop counting in its resident memory; read again, they come
    // from the file again.
    void drop_resident(std::size_t offset, std::size_t length) const noexcept;

    std::span<std::byte> bytes() const noexcept { return {static_cast<std::byte*>(data_), size_}; }
    void* data() const noexcept { return data_; }
    std::size_t size() const noexcept { return size_; }

private:
    MemoryMapping(void* data, std::size_t size, bool read_only = false) noexcept
        : data_(data), size_(size), read_only_(read_only) {}
    void* data_ = nullptr;
    std::size_t size_ = 0;
    bool read_only_ = false;  // read_only_file: its pages can be dropped at any time
};

}  // namespace ktstr::vmm::kvm
