// Reads a console ktstr-init writes its exit line to (COM2 of a guest, and
// of the emulated host): its last line there is "KTSTR_EXIT=N"
// (docs/guest.md); anything before it (error reports, crash lines) is
// passed on for the caller to see. Here because both the VMM's run and
// the emulated host read it, and neither may depend on the other.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "ktstr/common/bytes.hpp"

namespace ktstr::host {

// The exit code of one line, "KTSTR_EXIT=N" with N in 0..255 (a trailing
// '\r' is ignored), or nullopt.
std::optional<int> parse_exit_line(std::string_view line) noexcept;

class ExitLineScanner {
public:
    static constexpr std::size_t max_line = 4096;  // longer lines are cut there

    // `on_other_line` gets every line that is not an exit line (without
    // its newline); may be empty.
    explicit ExitLineScanner(std::function<void(std::string_view)> on_other_line = {})
        : on_other_(std::move(on_other_line)) {}

    void feed(byte_view bytes);
    // End of the stream: a final line without newline counts too.
    void finish();

    // The last exit code seen, if any.
    std::optional<int> exit_code() const noexcept { return exit_; }

private:
    void line_done();

    std::function<void(std::string_view)> on_other_;
    std::string line_;
    bool overlong_ = false;
    std::optional<int> exit_;
};

}  // namespace ktstr::host
