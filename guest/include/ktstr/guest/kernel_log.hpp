// Reading the kernel log from now on: /dev/kmsg (paths().kmsg) opened
// read-only and non-blocking and moved to its end, so that only records
// logged after the open are read. Open it BEFORE doing what the kernel
// will log about (starting a scheduler, SysRq-D): nothing logged after
// the open can be missed, whenever it is read.
//
// A regular file or a FIFO stands in for /dev/kmsg in tests: a file is
// read from its end as records are appended; a FIFO cannot seek and is
// read from what is written to it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "ktstr/common/unique_fd.hpp"
#include "ktstr/guest/kmsg_record.hpp"

namespace ktstr::guest {

class KernelLog {
public:
    KernelLog() = default;  // closed: reads return nothing
    KernelLog(KernelLog&&) noexcept = default;
    KernelLog& operator=(KernelLog&&) noexcept = default;

    // Opens `path` at its end. A log that cannot be opened stays closed,
    // with one warning (is_open() false; error() says why).
    static KernelLog open_at_end(const std::string& path);
    // The same on paths().kmsg.
    static KernelLog open_at_end();

    bool is_open() const noexcept { return static_cast<bool>(fd_); }
    const std::string& error() const noexcept { return error_; }

    // Reads what is there now without blocking and appends the complete
    // records to `out`; returns how many were appended. One call stops
    // once `max_bytes` of raw log were read (its last read, of at most
    // 16 KiB, may go past), so that it is bounded; call again for more.
    // Records the kernel overwrote before we read them (EPIPE) are
    // skipped and counted in lost().
    std::size_t read_available(std::vector<KmsgRecord>& out, std::size_t max_bytes = 1 << 20);

    std::uint64_t lost() const noexcept { return lost_; }
    const KmsgStream& stream() const noexcept { return stream_; }

private:
    UniqueFd fd_;
    KmsgStream stream_;
    std::string error_;
    std::uint64_t lost_ = 0;
    bool read_failed_ = false;  // warned once about a read error
};

}  // namespace ktstr::guest
