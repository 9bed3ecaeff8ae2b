// The kernel console (COM1) as the VMM reads it: every byte copied to the
// console log file and, with --verbose, to stderr; the text split into
// lines so that a kernel panic is recognised ("Kernel panic - not
// syncing", which Linux prints at KERN_EMERG, so even `quiet` shows it)
// and the last lines are at hand to explain a guest that never reported.
// The log file is bounded (a guest must not fill the disk): past
// max_log_bytes the rest is left out and finish() ends the file with one
// line saying how much.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <ktstr/common/bytes.hpp>

#include "ktstr/common/unique_fd.hpp"

namespace ktstr::vmm::run {

inline constexpr std::string_view kernel_panic_marker = "Kernel panic - not syncing";

class ConsoleWatch {
public:
    static constexpr std::size_t max_line = 4096;   // longer lines are cut
    static constexpr std::size_t kept_lines = 40;
    static constexpr std::uint64_t default_max_log_bytes = 64ull << 20;

    // `log`: where to copy the console (may be empty), at most
    // `max_log_bytes` of it; `echo`: also copy it to stderr; `on_panic`:
    // called once, with the panic line, from the thread that fed it.
    ConsoleWatch(UniqueFd log, bool echo, std::function<void(std::string_view)> on_panic = {},
                 std::uint64_t max_log_bytes = default_max_log_bytes);

    // Any thread; serialised inside.
    void feed(byte_view bytes);
    // The end of the console (the VM stopped): when bytes were left out of
    // the log, one more line there, on a line of its own:
    // "ktstr-vmm: console log cap of C bytes reached; N bytes left out".
    void finish();
    // Console bytes not written to the log because of its cap.
    std::uint64_t log_left_out() const;

    // The first panic line seen ("Kernel panic - not syncing: ..."), if any.
    std::optional<std::string> panic_line() const;
    // Up to `count` of the last complete lines, oldest first.
    std::vector<std::string> last_lines(std::size_t count) const;

private:
    void line_done();

    UniqueFd log_;
    const bool echo_;
    std::function<void(std::string_view)> on_panic_;

    mutable std::mutex mutex_;
    std::string line_;
    std::deque<std::string> lines_;
    std::optional<std::string> panic_;
    bool log_failed_ = false;
    const std::uint64_t max_log_bytes_;
    std::uint64_t log_bytes_ = 0;     // written to the log
    std::uint64_t log_left_out_ = 0;  // past the cap
    bool log_at_line_start_ = true;
    bool finished_ = false;
};

}  // namespace ktstr::vmm::run
