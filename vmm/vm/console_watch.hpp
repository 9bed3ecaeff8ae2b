// The kernel console (COM1) as the VMM reads it: every byte copied to the
// console log file and, with --verbose, to stderr; the text split into
// lines so that a kernel panic is recognised ("Kernel panic - not
// syncing", which Linux prints at KERN_EMERG, so even `quiet` shows it)
// and the last lines are at hand to explain a guest that never reported.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <ktstr/common/bytes.hpp>

#include "kvm/unique_fd.hpp"

namespace ktstr::vmm::vm {

inline constexpr std::string_view kernel_panic_marker = "Kernel panic - not syncing";

class ConsoleWatch {
public:
    static constexpr std::size_t max_line = 4096;   // longer lines are cut
    static constexpr std::size_t kept_lines = 40;

    // `log`: where to copy the console (may be empty); `echo`: also copy it
    // to stderr; `on_panic`: called once, with the panic line, from the
    // thread that fed it.
    ConsoleWatch(UniqueFd log, bool echo, std::function<void(std::string_view)> on_panic = {});

    // Any thread; serialised inside.
    void feed(byte_view bytes);

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
};

}  // namespace ktstr::vmm::vm
