// The host end of the bulk port (virtio-console port 1, "ktstr-bulk"), in
// its interim form: the bytes the guest transmits are handed over from the
// device thread without blocking it, reassembled into frames by common's
// TlvAssembler on a thread of their own, Stdout and Stderr chunks written
// to this process's stdout and stderr in arrival order, and the exit codes
// of Exit and ExecExit kept. (The host library, ktstr::host, takes this
// over with its full dispatcher.)
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include <ktstr/common/bytes.hpp>
#include <ktstr/common/tlv_assembler.hpp>

namespace ktstr::vmm::vm {

struct BulkPortResult {
    std::optional<std::int32_t> exit_code;       // the last Exit frame's
    std::optional<std::int32_t> exec_exit_code;  // the last ExecExit frame's
    std::uint64_t frames = 0;
    std::uint64_t crc_errors = 0;
    std::uint64_t dropped_bytes = 0;             // the assembler's resynchronisations
    std::map<std::uint32_t, std::uint64_t> per_type;
};

class BulkPortReader {
public:
    // Frames' output goes to these descriptors (not owned).
    BulkPortReader(int stdout_fd, int stderr_fd);
    BulkPortReader(const BulkPortReader&) = delete;
    BulkPortReader& operator=(const BulkPortReader&) = delete;
    ~BulkPortReader() { finish(); }

    // Copies `bytes` for the reader thread; returns at once. Any thread.
    void push(byte_view bytes);

    // Processes everything pushed so far, stops the thread and returns the
    // totals. Idempotent.
    BulkPortResult finish();

private:
    void loop(std::stop_token token);
    void process(byte_view bytes);

    const int stdout_fd_;
    const int stderr_fd_;
    TlvAssembler assembler_;
    BulkPortResult result_;  // the reader thread's until finish() joined it

    std::mutex mutex_;
    std::condition_variable_any cv_;
    byte_buffer pending_;
    std::jthread thread_;  // last
};

}  // namespace ktstr::vmm::vm
