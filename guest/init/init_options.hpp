// What ktstr-init reads from the kernel command line. All optional:
//
//   KTSTR_GUEST=1                the bulk port exists: wait for it and report through it
//   KTSTR_SHM_BASE=, KTSTR_SHM_SIZE=   the SHM ring (control bytes, crash reports)
//   KTSTR_INIT_COMMAND=<path>    argv file (default /etc/ktstr/command)
//   KTSTR_INIT_ENV=<path>        environment file (default /etc/ktstr/environment)
//   KTSTR_INIT_MODULES=<path>    module list (default /etc/ktstr/modules)
//   KTSTR_INIT_SCHEDULER=<path>  scheduler argv file (default /etc/ktstr/scheduler)
//   KTSTR_SCHED_ATTACH_MS=<n>    how long the scheduler may take to attach
//                                (default 10000 + 2000 per online CPU)
//   KTSTR_INIT_PORT_WAIT_MS=<n>  how long to wait for /dev/vport0p1 (default 10000)
//   KTSTR_INIT_SYSRDY_MS=<n>     budget for KernAddrs + SysRdy (default 10000)
//   KTSTR_INIT_ECHO=0|1          echo the command's output on the console (default 1)
//   KTSTR_INIT_COM2=<path>       the serial line for the exit line (default /dev/ttyS1)
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ktstr::init {

struct InitOptions {
    bool guest = false;
    std::string command_file = "/etc/ktstr/command";
    std::string env_file = "/etc/ktstr/environment";
    std::string modules_file = "/etc/ktstr/modules";
    std::string scheduler_file = "/etc/ktstr/scheduler";
    std::optional<std::chrono::milliseconds> sched_attach;  // nullopt: the default, by CPU count
    std::chrono::milliseconds port_wait{10000};
    std::chrono::milliseconds sysrdy_budget{10000};
    bool echo = true;
    std::string com2 = "/dev/ttyS1";
};

// A malformed value (a path that is not absolute, a number that is not
// decimal or above one hour, an echo value other than 0/1) keeps that
// option's default and adds a message naming the option to `errors`, so
// that the others (COM2 above all) still apply while init reports it.
InitOptions parse_init_options(std::string_view cmdline, std::vector<std::string>& errors);

}  // namespace ktstr::init
