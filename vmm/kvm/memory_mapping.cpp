#include "kvm/memory_mapping.hpp"

#include <cerrno>

#include <sys/mman.h>
#include <unistd.h>

#include "kvm/kvm_error.hpp"

namespace ktstr::vmm::kvm {

MemoryMapping& MemoryMapping::operator=(MemoryMapping&& o) noexcept {
    if (this != &o) {
        if (data_ != nullptr)
            ::munmap(data_, size_);
        data_ = std::exchange(o.data_, nullptr);
        size_ = std::exchange(o.size_, 0);
    }
    return *this;
}

MemoryMapping::~MemoryMapping() {
    if (data_ != nullptr)
        ::munmap(data_, size_);
}

MemoryMapping MemoryMapping::anonymous(std::size_t size) {
    const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    if (size == 0 || size > SIZE_MAX - page)
        throw KvmError("anonymous mapping: bad size " + std::to_string(size), 0);
    const std::size_t rounded = (size + page - 1) / page * page;
    void* p = ::mmap(nullptr, rounded, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        throw KvmError("mmap of " + std::to_string(rounded) + " bytes of guest memory", errno);
    return MemoryMapping(p, rounded);
}

MemoryMapping MemoryMapping::shared_file(int fd, std::size_t size, off_t offset, const char* what) {
    if (size == 0)
        throw KvmError(std::string("mmap of ") + what + ": size 0", 0);
    void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, offset);
    if (p == MAP_FAILED)
        throw KvmError(std::string("mmap of ") + what, errno);
    return MemoryMapping(p, size);
}

}  // namespace ktstr::vmm::kvm
