// The guest's producer side of the SHM ring (common/shm_ring.hpp).
//
// The region is found through KTSTR_SHM_BASE / KTSTR_SHM_SIZE on the
// kernel command line and mapped through /dev/mem (paths().dev_mem), page
// aligned. The host initialises the ring before the guest boots; the
// guest only appends frames, publishing write_ptr last (ring_write), and
// only touches the mapping through ring_* functions (atomics and volatile
// copies).
//
// Producers serialise on a ProducerLock (threads and processes);
// try_write never blocks and is meant for crash paths.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "ktstr/common/bytes.hpp"
#include "ktstr/common/shm_ring.hpp"
#include "ktstr/guest/producer_lock.hpp"

namespace ktstr::guest {

// A MAP_SHARED read/write mapping of `size` bytes at file offset
// `phys_addr` of `path`; the mapping starts at the page boundary below
// phys_addr and data() points at phys_addr itself.
class PhysMapping {
public:
    // Throws std::runtime_error with a readable reason (open or mmap
    // failure, size 0 or not addressable).
    static PhysMapping map(const std::string& path, std::uint64_t phys_addr, std::uint64_t size);

    PhysMapping(PhysMapping&& o) noexcept;
    PhysMapping& operator=(PhysMapping&& o) noexcept;
    PhysMapping(const PhysMapping&) = delete;
    PhysMapping& operator=(const PhysMapping&) = delete;
    ~PhysMapping();

    std::uint8_t* data() const noexcept { return data_; }
    std::size_t size() const noexcept { return size_; }

private:
    PhysMapping(void* base, std::size_t map_size, std::uint8_t* data, std::size_t size) noexcept
        : base_(base), map_size_(map_size), data_(data), size_(size) {}
    void* base_ = nullptr;
    std::size_t map_size_ = 0;
    std::uint8_t* data_ = nullptr;
    std::size_t size_ = 0;
};

class ShmWriter {
public:
    // Opens the lock file up front, so that try_write (which opens
    // nothing) also excludes other processes.
    explicit ShmWriter(PhysMapping mapping) : mapping_(std::move(mapping)) { lock_.prepare(); }
    ShmWriter(const ShmWriter&) = delete;
    ShmWriter& operator=(const ShmWriter&) = delete;

    // Appends one frame; `dropped` means the ring was full and the
    // header's drop counter was bumped.
    RingWriteStatus write(std::uint32_t msg_type, byte_view payload);
    // Like write, but returns nullopt instead of waiting when another
    // producer holds the lock.
    std::optional<RingWriteStatus> try_write(std::uint32_t msg_type, byte_view payload) noexcept;

    SharedRegion region() const noexcept { return {mapping_.data(), mapping_.size()}; }
    ShmRingHeader header() const noexcept { return ring_read_header(region()); }
    ProducerLock& lock() noexcept { return lock_; }

private:
    PhysMapping mapping_;
    ProducerLock lock_{&Paths::shm_lock};
};

// The process-wide writer for the ring named on the kernel command line,
// mapped on first use. nullptr when the command line names no ring, the
// mapping fails, or the region holds no initialised ring (each logged
// once); retried after set_paths.
std::shared_ptr<ShmWriter> shm_writer();

// Writes through shm_writer(); `unusable` when there is no ring.
RingWriteStatus shm_write(std::uint32_t msg_type, byte_view payload);

const char* to_string(RingWriteStatus s) noexcept;

}  // namespace ktstr::guest
