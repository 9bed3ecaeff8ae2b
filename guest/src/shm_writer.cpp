#include "ktstr/guest/shm_writer.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <string>

#include "ktstr/common/hex.hpp"
#include "ktstr/common/kernel_cmdline_params.hpp"
#include "ktstr/guest/kernel_cmdline.hpp"
#include "ktstr/guest/paths.hpp"
#include "ktstr/common/unique_fd.hpp"
#include "warning.hpp"

namespace ktstr::guest {

PhysMapping PhysMapping::map(const std::string& path, std::uint64_t phys_addr, std::uint64_t size) {
    const auto where = path + " at " + to_hex(phys_addr) + " size " + to_hex(size);
    if (size == 0)
        throw std::runtime_error("cannot map " + where + ": size is 0");
    const long page_l = ::sysconf(_SC_PAGESIZE);
    const std::uint64_t page = page_l > 0 ? static_cast<std::uint64_t>(page_l) : 4096;
    const std::uint64_t aligned = phys_addr & ~(page - 1);
    const std::uint64_t in_page = phys_addr - aligned;
    if (size > std::numeric_limits<std::size_t>::max() - in_page ||
        aligned > static_cast<std::uint64_t>(std::numeric_limits<off_t>::max()))
        throw std::runtime_error("cannot map " + where + ": not addressable");
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
    if (!fd)
        throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
    const auto map_size = static_cast<std::size_t>(size + in_page);
    void* base = ::mmap(nullptr, map_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), static_cast<off_t>(aligned));
    if (base == MAP_FAILED)
        throw std::runtime_error("cannot map " + where + ": " + std::strerror(errno));
    // The mapping outlives the descriptor.
    return PhysMapping(base, map_size, static_cast<std::uint8_t*>(base) + in_page, static_cast<std::size_t>(size));
}

PhysMapping::PhysMapping(PhysMapping&& o) noexcept
    : base_(std::exchange(o.base_, nullptr)),
      map_size_(std::exchange(o.map_size_, 0)),
      data_(std::exchange(o.data_, nullptr)),
      size_(std::exchange(o.size_, 0)) {}

PhysMapping& PhysMapping::operator=(PhysMapping&& o) noexcept {
    if (this != &o) {
        if (base_ != nullptr)
            ::munmap(base_, map_size_);
        base_ = std::exchange(o.base_, nullptr);
        map_size_ = std::exchange(o.map_size_, 0);
        data_ = std::exchange(o.data_, nullptr);
        size_ = std::exchange(o.size_, 0);
    }
    return *this;
}

PhysMapping::~PhysMapping() {
    if (base_ != nullptr)
        ::munmap(base_, map_size_);
}

RingWriteStatus ShmWriter::write(std::uint32_t msg_type, byte_view payload) {
    std::lock_guard lk(lock_);
    return ring_write(region(), msg_type, payload);
}

std::optional<RingWriteStatus> ShmWriter::try_write(std::uint32_t msg_type, byte_view payload) noexcept {
    if (!lock_.try_lock())
        return std::nullopt;
    auto s = ring_write(region(), msg_type, payload);
    lock_.unlock();
    return s;
}

std::shared_ptr<ShmWriter> shm_writer() {
    static std::mutex m;
    static std::shared_ptr<ShmWriter> writer;
    static std::uint64_t generation = ~std::uint64_t{0};
    std::lock_guard lk(m);
    const auto gen = paths_generation();
    if (gen == generation)
        return writer;
    generation = gen;
    writer.reset();
    auto params = cmdline_params::parse_shm_params(read_kernel_cmdline());
    if (!params)
        return nullptr;  // no ring in this guest: not worth a warning
    try {
        auto w = std::make_shared<ShmWriter>(PhysMapping::map(paths().dev_mem, params->base, params->size));
        auto h = w->header();
        if (h.magic != shm::magic) {
            warn("no initialised SHM ring at " + to_hex(params->base) + " (magic " + to_hex(h.magic) + "); not using it");
            return nullptr;
        }
        writer = std::move(w);
    } catch (const std::exception& e) {
        warn(std::string("SHM ring unavailable: ") + e.what());
    }
    return writer;
}

RingWriteStatus shm_write(std::uint32_t msg_type, byte_view payload) {
    auto w = shm_writer();
    return w ? w->write(msg_type, payload) : RingWriteStatus::unusable;
}

const char* to_string(RingWriteStatus s) noexcept {
    switch (s) {
    case RingWriteStatus::written: return "written";
    case RingWriteStatus::dropped: return "dropped";
    case RingWriteStatus::invariant_violated: return "invariant-violated";
    case RingWriteStatus::unusable: return "unusable";
    }
    return "unknown";
}

}  // namespace ktstr::guest
