// What main() and the case runner share (private to ktstr::catch2).
#pragma once

#include <string>

namespace ktstr::test {

// Set by main() when the VM's init started this program as
// `PROGRAM --ktstr-guest NAME`: the guest half of the case named exactly NAME.
void set_guest_case(std::string name);

// The Catch2 test spec that selects NAME's case: ktstr cases only, by a
// pattern that matches NAME (perhaps others too; run_case runs NAME's only).
std::string exact_test_spec(const std::string& name);

// Every Catch2 test case started (a listener counts them), for main's
// "every case was a skipped ktstr case".
void note_case_started() noexcept;
int cases_started() noexcept;

}  // namespace ktstr::test
