#include "machine/guest_ram.hpp"

#include <cstring>

#include <sys/mman.h>
#include <stdexcept>

#include <fmt/core.h>

namespace ktstr::vmm::machine {
namespace {

constexpr std::uintptr_t page_size = 4096;
constexpr std::size_t populate_threshold = 64 * 1024;

}  // namespace

GuestRam::GuestRam(const kvm::KvmVm& vm, const MemoryMap& map) : shm_range_(map.shm) {
    std::vector<GuestMemoryRegion> regions;
    for (const auto& r : map.ram) {
        if (r.size == 0)
            continue;
        if (r.overlaps(map.shm))
            throw std::invalid_argument(fmt::format("RAM [{:#x}, {:#x}) overlaps the SHM region", r.start, r.end()));
        ram_.push_back({r, kvm::MemoryMapping::anonymous(r.size)});
        const auto& host = ram_.back().host;
        regions.push_back({r.start, {reinterpret_cast<std::uint8_t*>(host.data()), static_cast<std::size_t>(r.size)}});
    }
    view_ = GuestMemory(std::move(regions));
    if (map.shm.size != 0)
        shm_ = kvm::MemoryMapping::anonymous(map.shm.size);

    std::uint32_t slot = 0;
    for (const auto& r : ram_)
        slots_.emplace_back(vm, kvm::UserMemoryRegion::Spec{.slot = slot++, .guest_phys = r.guest.start,
                                                             .memory = r.host.bytes().first(r.guest.size)});
    if (map.shm.size != 0) {
        slots_.emplace_back(vm, kvm::UserMemoryRegion::Spec{.slot = slot++, .guest_phys = map.shm.start,
                                                             .memory = shm_.bytes().first(map.shm.size)});
        ring_init(shm());
    }
}

mutable_byte_view GuestRam::ram_bytes(std::uint64_t gpa, std::uint64_t len) const {
    auto v = view_.translate(gpa, len);
    if (!v)
        throw std::out_of_range(
            fmt::format("guest range [{:#x}, +{:#x}) is not inside one RAM range", gpa, len));
    return *v;
}

void GuestRam::write(std::uint64_t gpa, byte_view bytes) {
    auto dst = ram_bytes(gpa, bytes.size());
    if (bytes.empty())
        return;
    // Fresh guest RAM faults in a page at a time as memcpy first touches
    // it; one madvise populates the whole range instead, which costs far
    // fewer exceptions where each is dear (the emulated host translates
    // every one). Best effort: a kernel before 5.14 refuses it, and the
    // copy faults the pages in as before.
    if (bytes.size() >= populate_threshold) {
        const auto first = reinterpret_cast<std::uintptr_t>(dst.data()) & ~std::uintptr_t{page_size - 1};
        const auto end = reinterpret_cast<std::uintptr_t>(dst.data()) + dst.size();
        (void)::madvise(reinterpret_cast<void*>(first), end - first, MADV_POPULATE_WRITE);
    }
    std::memcpy(dst.data(), bytes.data(), bytes.size());
}

SharedRegion GuestRam::shm() const noexcept {
    return SharedRegion(reinterpret_cast<std::uint8_t*>(shm_.data()), static_cast<std::size_t>(shm_range_.size));
}

}  // namespace ktstr::vmm::machine
