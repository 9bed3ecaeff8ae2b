// How a device raises its interrupt: one call, one edge.
//
// The VMM backs it with an irqfd (a write to an eventfd that KVM turns into
// an edge on the device's GSI); tests count the calls. It may be called from
// any thread, with the device's lock held, so it must not block or call back
// into the device.
#pragma once

#include <functional>

namespace ktstr::vmm::devices {

using IrqLine = std::function<void()>;

}  // namespace ktstr::vmm::devices
