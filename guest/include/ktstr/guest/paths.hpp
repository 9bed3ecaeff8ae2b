// Every path the guest library touches, in one place so that tests (and
// unusual guests) can point the library at pipes, sockets and temporary
// files instead of the real devices.
#pragma once

#include <cstdint>
#include <string>

namespace ktstr::guest {

struct Paths {
    std::string cmdline = "/proc/cmdline";             // guest detection, SHM parameters
    std::string iomem = "/proc/iomem";                 // KASLR phys_base
    std::string bulk_port = "/dev/vport0p1";           // virtio-console port 1
    std::string dev_mem = "/dev/mem";                  // SHM ring mapping
    std::string com2 = "/dev/ttyS1";                   // crash lines (init: the exit line)
    std::string sysrq_trigger = "/proc/sysrq-trigger"; // dump requests ('D')
    std::string stall_file = "/tmp/ktstr_stall";       // stall requests ('S')
    std::string kmsg = "/dev/kmsg";                    // the kernel log (scheduler ejections, dumps)
    // sched_ext's sysfs directory: <sched_ext>/state, <sched_ext>/root/ops.
    std::string sched_ext = "/sys/kernel/sched_ext";
    // tracefs (ktstr-init mounts it): the sched_ext_dump event (dump_trace.hpp).
    std::string tracing = "/sys/kernel/tracing";
    // Lock files that serialise producers across processes (init and the
    // command it runs share the bulk port and the ring; see docs/guest.md).
    std::string bulk_lock = "/tmp/.ktstr-bulk.lock";
    std::string shm_lock = "/tmp/.ktstr-shm.lock";
    std::string snapshot_lock = "/tmp/.ktstr-snapshot.lock";
};

// The paths in effect (a copy).
Paths paths();

// Replaces the paths. Every cache derived from them (guest detection, the
// open bulk port, the SHM mapping) is rebuilt on its next use. Call it
// only while no other thread uses the library (tests, start of main).
void set_paths(Paths p);

// Bumped by every set_paths; caches compare it to know they are stale.
std::uint64_t paths_generation() noexcept;

// Name of the environment variable through which a process hands its
// open bulk-port descriptor to the processes it starts (the port admits a
// single open, so children must inherit it rather than open it).
inline constexpr const char* bulk_fd_env = "KTSTR_BULK_FD";

}  // namespace ktstr::guest
