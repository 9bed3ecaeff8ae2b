// Where the host puts the guest's streamed output (Stdout/Stderr chunks)
// and its own diagnostics: a callable taking bytes, returning whether all
// of them were written.
#pragma once

#include <functional>

#include "ktstr/common/bytes.hpp"

namespace ktstr::host {

using OutputSink = std::function<bool(byte_view)>;

// Writes every byte to `fd` (not owned), retrying short writes and EINTR
// and waiting for a non-blocking fd to become writable. After the first
// failure (a closed pipe, a full disk) it writes nothing more and returns
// false, so a dead reader cannot make the host spin. A broken pipe shows
// as EPIPE only where SIGPIPE is blocked (the host loop's thread blocks it).
OutputSink fd_sink(int fd);

}  // namespace ktstr::host
