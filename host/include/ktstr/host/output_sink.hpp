// Where the host puts the guest's streamed output (Stdout/Stderr chunks)
// and its own diagnostics: a callable taking bytes, returning whether all
// of them were written.
#pragma once

#include <atomic>
#include <functional>
#include <memory>

#include "ktstr/common/bytes.hpp"

namespace ktstr::host {

using OutputSink = std::function<bool(byte_view)>;

// Writes every byte to `fd` (not owned), retrying short writes and EINTR
// and waiting for a non-blocking fd to become writable. After the first
// failure (a closed pipe, a full disk) it writes nothing more and returns
// false, so a dead reader cannot make the host spin. A broken pipe shows
// as EPIPE only where SIGPIPE is blocked (the host loop's thread blocks it).
OutputSink fd_sink(int fd);

// Whether the output that went through a sink ends at the start of a line,
// so that something printed after it (`run --json`'s result) can be put on
// a line of its own even when the guest's stdout did not end in '\n'.
class LineStartTracker {
public:
    // `inner` with the tracking around it: after each call the tracker
    // knows whether the last byte given was '\n'. A failed write counts as
    // not at a line start (what reached the reader is unknown). The sink
    // may outlive the tracker.
    OutputSink wrap(OutputSink inner) const;
    // True before any output. Read it after the sink's last call (the host
    // loop stopped): the calls and this read are not otherwise ordered.
    bool at_line_start() const noexcept { return state_->load(std::memory_order_acquire); }

private:
    std::shared_ptr<std::atomic<bool>> state_ = std::make_shared<std::atomic<bool>>(true);
};

}  // namespace ktstr::host
