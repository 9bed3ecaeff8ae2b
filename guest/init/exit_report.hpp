// How ktstr-init reports the end of a run outside the bulk channel: the
// final line on COM2, which a host without the bulk port (the emulated
// KVM host, a kernel without virtio_console) reads to learn the exit code.
#pragma once

#include <string>
#include <string_view>

#include "ktstr/common/unique_fd.hpp"

namespace ktstr::init {

// "KTSTR_EXIT=<code>\n"
std::string exit_line(int code);

// The shell convention: the exit status, or 128 + the signal number.
int exit_code_from_wait_status(int status) noexcept;

// A write-only serial line (COM2). Raw mode, so the host sees exactly
// the bytes written. Opening failures leave it closed; writes to a
// closed line do nothing.
class SerialLine {
public:
    SerialLine() = default;
    // With `create_node`, a missing /dev/ttySN is created (char 4:64+N)
    // first: PID 1 may run before devtmpfs could be mounted.
    explicit SerialLine(const std::string& path, bool create_node = false);

    bool is_open() const noexcept { return static_cast<bool>(fd_); }
    void write_line(std::string_view line) noexcept;  // appends '\n' if missing
    void drain() noexcept;                            // waits until transmitted (tcdrain / fsync)
    int fd() const noexcept { return fd_.get(); }

private:
    UniqueFd fd_;
};

}  // namespace ktstr::init
