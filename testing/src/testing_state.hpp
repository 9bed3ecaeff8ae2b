// What main() tells the case runner (private to ktstr::catch2).
#pragma once

namespace ktstr::test {

// Set by main() when the VM's init started this program with --ktstr-guest.
void set_guest_mode(bool on) noexcept;

}  // namespace ktstr::test
