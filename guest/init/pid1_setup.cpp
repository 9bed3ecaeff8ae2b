#include "pid1_setup.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ktstr::init {
namespace {

struct MountSpec {
    const char* source;
    const char* target;
    const char* fstype;
    unsigned long flags;
    const char* data;
    mode_t mode;
    bool required;
};

constexpr MountSpec mounts[] = {
    {"proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr, 0555, true},
    {"sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr, 0555, true},
    {"devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755", 0755, true},
    {"tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777", 01777, true},
    {"cgroup2", "/sys/fs/cgroup", "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr, 0555, false},
    {"debugfs", "/sys/kernel/debug", "debugfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr, 0700, false},
    {"tracefs", "/sys/kernel/tracing", "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr, 0700, false},
};

}  // namespace

MountReport mount_filesystems() {
    MountReport report;
    for (const auto& m : mounts) {
        if (::mkdir(m.target, m.mode) != 0 && errno != EEXIST) {
            auto msg = std::string("mkdir ") + m.target + ": " + std::strerror(errno);
            (m.required ? report.errors : report.warnings).push_back(std::move(msg));
            continue;
        }
        if (::mount(m.source, m.target, m.fstype, m.flags, m.data) != 0 && errno != EBUSY) {
            auto msg = std::string("mount ") + m.fstype + " on " + m.target + ": " + std::strerror(errno);
            (m.required ? report.errors : report.warnings).push_back(std::move(msg));
        }
    }
    return report;
}

void ensure_stdio() {
    for (int fd = 0; fd <= 2; ++fd) {
        if (::fcntl(fd, F_GETFD) != -1)
            continue;
        int n = ::open("/dev/console", O_RDWR | O_NOCTTY);
        if (n < 0)
            n = ::open("/dev/null", O_RDWR);
        if (n < 0)
            continue;
        if (n != fd) {
            ::dup2(n, fd);
            ::close(n);
        }
    }
}

void power_off() {
    ::sync();
    ::reboot(RB_POWER_OFF);
    // No power-off method: halting still stops the vCPUs.
    ::reboot(RB_HALT_SYSTEM);
    for (;;)
        ::pause();
}

}  // namespace ktstr::init
