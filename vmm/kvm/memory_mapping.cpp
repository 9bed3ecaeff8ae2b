#include "kvm/memory_mapping.hpp"

#include <algorithm>
#include <cerrno>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ktstr/common/unique_fd.hpp>

#include "kvm/kvm_error.hpp"

namespace ktstr::vmm::kvm {

MemoryMapping& MemoryMapping::operator=(MemoryMapping&& o) noexcept {
    if (this != &o) {
        if (data_ != nullptr)
            ::munmap(data_, size_);
        data_ = std::exchange(o.data_, nullptr);
        size_ = std::exchange(o.size_, 0);
        read_only_ = std::exchange(o.read_only_, false);
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

MemoryMapping MemoryMapping::read_only_file(const std::filesystem::path& path, std::uint64_t max_size) {
    const std::string name = path.string();
    UniqueFd fd(::open(name.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd)
        throw KvmError(name + ": cannot open", errno);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0)
        throw KvmError(name + ": cannot read", errno);
    if (!S_ISREG(st.st_mode))
        throw KvmError(name + ": not a regular file", 0);
    const auto size = static_cast<std::uint64_t>(st.st_size);
    if (size > max_size)
        throw KvmError(name + ": " + std::to_string(size) + " bytes, more than " + std::to_string(max_size), 0);
    if (size == 0)
        return {};
    void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd.get(), 0);
    if (p == MAP_FAILED)
        throw KvmError("mmap of " + name, errno);
    return MemoryMapping(p, size, true);  // the mapping keeps the file; the fd may go
}

void MemoryMapping::drop_resident(std::size_t offset, std::size_t length) const noexcept {
    if (!read_only_ || offset >= size_ || length == 0)
        return;
    const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    const std::size_t end = offset + std::min(length, size_ - offset);
    const std::size_t from = offset / page * page;
    // Never written (PROT_READ): what MADV_DONTNEED drops is the page
    // cache's, read again on the next touch. A failure only leaves the
    // pages resident.
    (void)::madvise(static_cast<std::byte*>(data_) + from, end - from, MADV_DONTNEED);
}

}  // namespace ktstr::vmm::kvm
