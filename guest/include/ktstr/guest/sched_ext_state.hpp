// sched_ext's state as sysfs shows it (Linux 6.12):
//   <root>/state     enabling | enabled | disabling | disabled
//   <root>/root/ops  the attached BPF scheduler's name, empty when none
// where <root> is paths().sched_ext (/sys/kernel/sched_ext).
#pragma once

#include <string>

namespace ktstr::guest {

struct SchedExtState {
    std::string state;  // trimmed; empty when the file is missing (no sched_ext in the kernel)
    std::string ops;    // trimmed; empty when none is attached or the file is missing

    // A BPF scheduler is in charge: enabled, with a name.
    bool attached() const { return state == "enabled" && !ops.empty(); }
};

// Reads both files (at most 256 bytes each; surrounding whitespace
// trimmed).
SchedExtState read_sched_ext_state();

}  // namespace ktstr::guest
