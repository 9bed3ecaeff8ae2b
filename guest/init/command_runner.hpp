// Runs the recorded command as a child of ktstr-init: its own session,
// stdin from /dev/null, stdout and stderr through pipes that
// OutputForwarders turn into Stdout / Stderr frames (and echo on the
// console), the bulk port inherited through KTSTR_BULK_FD.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "recorded_command.hpp"

namespace ktstr::init {

struct RunOptions {
    int echo_fd = -1;          // console; -1: no echo
    bool send_frames = false;  // forward output as frames (bulk port present)
    int bulk_fd = -1;          // descriptor the child inherits; -1: none
    bool reap_all = false;     // PID 1: also reap orphans while waiting
    // After the command exits, how long to wait for the rest of its
    // output (descendants may still hold the pipes).
    std::chrono::milliseconds output_grace{2000};
    // Called with the command's pid right after the fork (the child may
    // not have reached exec or setsid yet): CommandGroup::started.
    std::function<void(pid_t)> on_started;
};

struct RunResult {
    int exit_code = 0;
    bool started = false;  // false: failure says why, exit_code is 125/126/127
    std::string failure;
    std::uint64_t stdout_bytes = 0;
    std::uint64_t stderr_bytes = 0;
    std::uint64_t chunks_not_sent = 0;
};

RunResult run_command(const RecordedCommand& cmd, const RunOptions& options);

}  // namespace ktstr::init
