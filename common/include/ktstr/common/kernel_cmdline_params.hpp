// The KTSTR_* kernel command-line parameters: the VMM writes them, the guest
// library and ktstr-init read them. Their names, the text the VMM appends and
// the parsers live here once, so that the two sides cannot drift apart (a
// name changed on one side only would leave the guest without its SHM ring,
// and nothing would say so).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ktstr::cmdline_params {

// The prefix every ktstr parameter has.
inline constexpr std::string_view param_prefix = "KTSTR_";

// The VMM's own parameters: only it sets them (the guest takes the first of
// each it finds, so one in the caller's part would override the VMM's).
inline constexpr std::string_view guest_key = "KTSTR_GUEST";        // "1": a ktstr guest with a bulk port
inline constexpr std::string_view shm_base_key = "KTSTR_SHM_BASE";  // guest-physical address of the SHM region
inline constexpr std::string_view shm_size_key = "KTSTR_SHM_SIZE";  // its size in bytes, header included
inline constexpr std::string_view boot_mark_key = "KTSTR_BOOT_MARK";  // the boot-mark page (boot_mark.hpp)

// The word that marks a ktstr guest.
inline constexpr std::string_view guest_word = "KTSTR_GUEST=1";

// ktstr-init's options (guest/init/init_options.hpp): the caller's to set.
inline constexpr std::string_view init_command_key = "KTSTR_INIT_COMMAND";
inline constexpr std::string_view init_env_key = "KTSTR_INIT_ENV";
inline constexpr std::string_view init_modules_key = "KTSTR_INIT_MODULES";
inline constexpr std::string_view init_com2_key = "KTSTR_INIT_COM2";
inline constexpr std::string_view init_port_wait_key = "KTSTR_INIT_PORT_WAIT_MS";
inline constexpr std::string_view init_sysrdy_key = "KTSTR_INIT_SYSRDY_MS";
inline constexpr std::string_view init_echo_key = "KTSTR_INIT_ECHO";
inline constexpr std::string_view init_scheduler_key = "KTSTR_INIT_SCHEDULER";
inline constexpr std::string_view sched_attach_key = "KTSTR_SCHED_ATTACH_MS";

// Where the SHM region is, as KTSTR_SHM_BASE and KTSTR_SHM_SIZE give it.
struct ShmParams {
    std::uint64_t base = 0;  // guest-physical address of the region
    std::uint64_t size = 0;  // bytes, header included

    bool operator==(const ShmParams&) const = default;
};

// The VMM's parameters as it appends them to the kernel command line:
// "KTSTR_GUEST=1 KTSTR_SHM_BASE=0x<base> KTSTR_SHM_SIZE=0x<size>", lowercase
// hexadecimal, no leading or trailing space.
std::string format_vmm_params(const ShmParams& shm);

// True when `word` (one whitespace-separated word) sets one of the VMM's
// parameters: its key, the text before any '=', is KTSTR_GUEST,
// KTSTR_SHM_BASE, KTSTR_SHM_SIZE or KTSTR_BOOT_MARK. KTSTR_INIT_* words are
// not the VMM's.
bool sets_vmm_param(std::string_view word) noexcept;

// True when `token` is one of the words of `cmdline` (separated by space,
// tab, CR or LF).
bool cmdline_has_token(std::string_view cmdline, std::string_view token) noexcept;

// The value of the first `key=value` word, or nullopt.
std::optional<std::string_view> cmdline_value(std::string_view cmdline, std::string_view key) noexcept;

// KTSTR_SHM_BASE and KTSTR_SHM_SIZE, hexadecimal with or without 0x.
// nullopt when either is missing or malformed, the size is 0 or beyond
// what a ring can use (shm_ring.hpp), or base + size overflows.
std::optional<ShmParams> parse_shm_params(std::string_view cmdline) noexcept;

}  // namespace ktstr::cmdline_params
