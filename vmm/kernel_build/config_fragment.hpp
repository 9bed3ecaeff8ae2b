// A Kconfig fragment as ktstr writes them (vmm/kernel/config/*.config,
// `kernel build --kconfig FILE`): "CONFIG_X=VALUE" a line, where a value
// may be followed by "# why", and "CONFIG_X=n" asks for the option off.
// Kconfig's own .config reader takes neither, so a fragment is parsed here
// and written back in .config syntax (`normalised`) before it is appended.
// "# CONFIG_X is not set" (what .config itself says) is read as =n, so a
// piece of a real .config is a fragment too.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "kernel_build/build_errors.hpp"

namespace ktstr::vmm::kernel_build {

struct FragmentOption {
    std::string name;   // "CONFIG_SMP"
    std::string value;  // "y", "m", "n", "256", "0x10", "\"text\""
    int line = 0;       // 1-based, for messages
};

struct ConfigFragment {
    std::string source;                  // "lean-vm.config", or the user's path
    std::vector<FragmentOption> options;  // in file order
};

// A line the parser cannot read: "SOURCE:LINE: what".
struct FragmentError : BadBuildInput {
    using BadBuildInput::BadBuildInput;
};

// Throws FragmentError for a line that is neither blank, a comment, nor
// CONFIG_NAME=VALUE (NAME of [A-Za-z0-9_], VALUE y/m/n, a decimal or hex
// number, or a double-quoted string; a '#' inside the quotes is text).
ConfigFragment parse_fragment(std::string_view text, std::string source);

// parse_fragment of a file; FragmentError also when it cannot be read.
ConfigFragment read_fragment(const std::filesystem::path& file);

// The fragment in .config syntax: "CONFIG_X=y" lines, "# CONFIG_X is not
// set" for =n, no comments; what Kconfig's reader accepts.
std::string normalised(const ConfigFragment& fragment);

}  // namespace ktstr::vmm::kernel_build
