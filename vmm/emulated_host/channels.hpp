// The channels between the emulated host's QEMU and the caller, as both
// sides name them.
//
//   COM1 (ttyS0)        the outer kernel's console and ktstr-init's messages   (pipe, host reads)
//   COM2 (ttyS1)        ktstr-init's final "KTSTR_EXIT=N" line and error lines (pipe, host reads)
//   port "ktstr.data"   the return stream (return_stream.hpp): the inner
//                       command's stdout, stderr and output files, and the
//                       host's acknowledgement back                           (socket pair)
//   QEMU's monitor      HMP, asked for the outer CPUs' registers when the
//                       outer guest hung until the timeout (qemu_monitor.hpp)  (socket pair)
//
// The outer guest finds the port under its name in
// /sys/class/virtio-ports/*/name.
//
// On arm64 (QEMU's virt machine) COM1 is the PL011 (ttyAMA0) and COM2 a
// PCI 16550, the outer guest's only 8250 port: ttyS0 (arm64_com2_device).
// QEMU 7.2's virt gives the normal world one UART only (a second PL011
// came in QEMU 10); a second virtio-serial port would work too, but only
// once the virtio_console module is loaded, where the PCI 16550 is built
// into Debian's kernel, as COM2 is on x86_64.
#pragma once

#include <string_view>

namespace ktstr::vmm::emulated_host {

inline constexpr std::string_view data_port = "ktstr.data";

// The outer arm64 guest's COM2 device, for ktstr-init's KTSTR_INIT_COM2.
inline constexpr std::string_view arm64_com2_device = "/dev/ttyS0";

// The virtio-serial port number. Port 1 stays free: ktstr-init and the
// guest library treat /dev/vport0p1 as ktstr's bulk port, which this QEMU
// guest does not have.
inline constexpr int data_port_number = 2;

}  // namespace ktstr::vmm::emulated_host
