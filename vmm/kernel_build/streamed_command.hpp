// Runs a long host program (make, tar, git diff) and hands its output over
// as it comes, for a live progress line, a log of any size and digests of
// outputs too large to hold (host_command.hpp collects at most 1 MiB).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ktstr::vmm::kernel_build {

struct StreamedCommand {
    std::vector<std::string> argv;  // argv[0] looked up on PATH
    std::filesystem::path cwd;      // empty: ours
    // "NAME=value" entries, the whole environment; nullopt: ours.
    std::optional<std::vector<std::string>> environment;
    // Copied to the program's stdin when set (else /dev/null), reporting
    // the bytes written so far: how the source tarball reaches tar, so the
    // unpacking shows a percentage.
    std::filesystem::path input;
    std::function<void(std::uint64_t)> on_input_progress;
    std::function<void(std::string_view)> on_output;  // stdout and stderr, interleaved, in chunks
    std::function<void()> on_tick;                    // about once a second
};

// Runs it to the end: the exit status, or 128 + signal. Throws
// std::runtime_error when it cannot start (not installed, no such cwd),
// or with what a callback threw, or Interrupted when an InterruptionGuard
// caught a signal (each after stopping the program and waiting for it).
int run_streamed(const StreamedCommand& command);

// Splits chunks into lines (without '\n'); the last partial line comes out
// at flush().
class LineSplitter {
public:
    explicit LineSplitter(std::function<void(std::string_view)> on_line) : on_line_(std::move(on_line)) {}
    void feed(std::string_view chunk);
    void flush();

private:
    std::function<void(std::string_view)> on_line_;
    std::string partial_;
};

}  // namespace ktstr::vmm::kernel_build
