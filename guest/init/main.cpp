// ktstr-init: the PID 1 of every ktstr guest. See docs/guest.md.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "init_sequence.hpp"
#include "pid1_setup.hpp"

int main(int argc, char** argv) {
    if (argc > 1 && (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0)) {
        std::puts("usage: ktstr-init (as the guest kernel's init, PID 1)\n"
                  "Mounts /proc /sys /dev /tmp, loads /etc/ktstr/modules, runs /etc/ktstr/command,\n"
                  "reports through /dev/vport0p1 (KTSTR_GUEST=1) and COM2, then powers off.\n"
                  "See docs/guest.md for the files and kernel command-line options.");
        return 0;
    }
    if (::getpid() != 1) {
        std::fprintf(stderr, "ktstr-init: must run as PID 1 (the guest kernel's init); see docs/guest.md\n");
        return 2;
    }
    // The console may vanish (hangup); losing the echo must not kill init.
    ::signal(SIGPIPE, SIG_IGN);
    ktstr::init::InitSetup setup;
    ktstr::init::run_init(setup);
    ktstr::init::power_off();
}
