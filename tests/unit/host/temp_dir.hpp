// The host tests name the shared temporary directory (ktstr/test/temp_dir.hpp)
// from their own namespace.
#pragma once

#include "ktstr/test/temp_dir.hpp"

namespace ktstr::host::test {

using ktstr::test::TempDir;

}  // namespace ktstr::host::test
