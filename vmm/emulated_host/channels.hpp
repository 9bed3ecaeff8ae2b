// The channels between the emulated host's QEMU and the caller, as both
// sides name them.
//
//   COM1 (ttyS0)        the outer kernel's console and ktstr-init's messages   (pipe, host reads)
//   COM2 (ttyS1)        ktstr-init's final "KTSTR_EXIT=N" line and error lines (pipe, host reads)
//   port "ktstr.data"   the return stream (return_stream.hpp): the inner
//                       command's stdout, stderr and output files, and the
//                       host's acknowledgement back                           (socket pair)
//
// The outer guest finds the port under its name in
// /sys/class/virtio-ports/*/name.
#pragma once

#include <string_view>

namespace ktstr::vmm::emulated_host {

inline constexpr std::string_view data_port = "ktstr.data";

// The virtio-serial port number. Port 1 stays free: ktstr-init and the
// guest library treat /dev/vport0p1 as ktstr's bulk port, which this QEMU
// guest does not have.
inline constexpr int data_port_number = 2;

}  // namespace ktstr::vmm::emulated_host
