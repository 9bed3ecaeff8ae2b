// An owned mmap: anonymous memory for guest RAM, or a file's pages (the
// vCPU's kvm_run structure). Unmapped when the owner goes away.
#pragma once

#include <cstddef>
#include <span>
#include <utility>

#include <sys/types.h>

namespace ktstr::vmm::kvm {

class MemoryMapping {
public:
    MemoryMapping() noexcept = default;
    MemoryMapping(MemoryMapping&& o) noexcept
        : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}
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

    std::span<std::byte> bytes() const noexcept { return {static_cast<std::byte*>(data_), size_}; }
    void* data() const noexcept { return data_; }
    std::size_t size() const noexcept { return size_; }

private:
    MemoryMapping(void* data, std::size_t size) noexcept : data_(data), size_(size) {}
    void* data_ = nullptr;
    std::size_t size_ = 0;
};

}  // namespace ktstr::vmm::kvm
