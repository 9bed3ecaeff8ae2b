// The default kernel (Debian's cloud kernel) for tests that need real
// modules: from the cache, fetched first if needed (`ktstr-vmm kernel
// fetch` normally ran before the tests; see scripts/test.sh).
#pragma once

#include <catch2/catch.hpp>

#include "kernel/kernel_supply.hpp"

namespace ktstr::test {

inline vmm::kernel::KernelImage default_kernel() {
    static const auto k = vmm::kernel::resolve("default");
    REQUIRE(k.modules_dir);
    REQUIRE(k.config);
    return k;
}

}  // namespace ktstr::test
