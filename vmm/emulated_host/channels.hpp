// The channels between the emulated host's QEMU and the caller, as both
// sides name them. The outer guest sees each virtio port under its name
// in /sys/class/virtio-ports/*/name; the host reads each one from a pipe.
//
//   COM1 (ttyS0)          the outer kernel's console and ktstr-init's messages
//   COM2 (ttyS1)          ktstr-init's final "KTSTR_EXIT=N" line (and its error lines)
//   port "ktstr.stdout"   the inner command's stdout -> the caller's stdout
//   port "ktstr.stderr"   the inner command's stderr -> the caller's stderr
//   port "ktstr.files"    the inner command's output files (output_stream.hpp)
#pragma once

#include <string_view>

namespace ktstr::vmm::emulated_host {

inline constexpr std::string_view stdout_port = "ktstr.stdout";
inline constexpr std::string_view stderr_port = "ktstr.stderr";
inline constexpr std::string_view files_port = "ktstr.files";

// virtio-serial port numbers. Port 1 stays free: ktstr-init and the guest
// library treat /dev/vport0p1 as ktstr's bulk port, which this QEMU guest
// does not have.
inline constexpr int stdout_port_number = 2;
inline constexpr int stderr_port_number = 3;
inline constexpr int files_port_number = 4;

}  // namespace ktstr::vmm::emulated_host
