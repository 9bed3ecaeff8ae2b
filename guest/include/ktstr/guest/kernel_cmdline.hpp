// The kernel command line: guest detection and the SHM ring's location.
// The parsers are pure so that they are tested on the host.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ktstr::guest {

// True when `token` is one of the whitespace-separated words.
bool cmdline_has_token(std::string_view cmdline, std::string_view token) noexcept;

// The value of the first `key=value` word, or nullopt.
std::optional<std::string_view> cmdline_value(std::string_view cmdline, std::string_view key) noexcept;

struct ShmParams {
    std::uint64_t base = 0;  // guest-physical address of the region
    std::uint64_t size = 0;  // bytes, header included
};

// KTSTR_SHM_BASE and KTSTR_SHM_SIZE, hexadecimal with or without 0x.
// nullopt when either is missing or malformed, the size is 0 or beyond
// what a ring can use, or base + size overflows.
std::optional<ShmParams> parse_shm_params(std::string_view cmdline) noexcept;

// The command line read from paths().cmdline (at most 64 KiB); empty
// when unreadable.
std::string read_kernel_cmdline();

// True inside a ktstr guest: the word KTSTR_GUEST=1 is on the kernel
// command line. Read once and cached (until set_paths).
bool is_guest();

}  // namespace ktstr::guest
