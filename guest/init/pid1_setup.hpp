// What only the guest's PID 1 does: mount the early filesystems, make
// sure descriptors 0-2 are open, and power the VM off at the end.
#pragma once

#include <string>
#include <vector>

namespace ktstr::init {

struct MountReport {
    std::vector<std::string> errors;    // required mounts that failed
    std::vector<std::string> warnings;  // optional mounts that failed
};

// Required: proc on /proc, sysfs on /sys, devtmpfs on /dev, tmpfs on
// /tmp. Optional (kernels may lack them): cgroup2 on /sys/fs/cgroup,
// debugfs on /sys/kernel/debug, tracefs on /sys/kernel/tracing. An
// already mounted filesystem (EBUSY) is not an error.
MountReport mount_filesystems();

// Opens /dev/console (or /dev/null) on each of 0, 1, 2 that is closed:
// the kernel leaves them closed when the initramfs has no /dev/console,
// and a later open must never land on them.
void ensure_stdio();

// sync, then reboot(RB_POWER_OFF); never returns.
[[noreturn]] void power_off();

}  // namespace ktstr::init
