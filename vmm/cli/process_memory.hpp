// A process's resident memory split into its guest RAM and everything else,
// from /proc/PID/smaps: what a VMM costs beyond the memory it gives its
// guest. The boot benchmark (bench/boot) samples it while a VMM runs.
//
// Guest RAM is recognised by size: every mapping at least `guest_ram_kib`
// large (both ktstr-vmm and QEMU map a guest's RAM as one anonymous
// mapping of its full size; nothing else they map comes near it for the
// sizes benchmarked). The rest is the VMM's own: code, libraries, heap,
// thread stacks, device buffers, the kernel and initramfs files it read.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>

namespace ktstr::cli {

struct ResidentSplit {
    std::uint64_t guest_ram_kib = 0;  // Rss of the guest RAM mappings
    std::uint64_t other_kib = 0;      // Rss of every other mapping
};

// Parses smaps text. Lines it does not know are skipped; a mapping whose
// Size line is missing counts as not guest RAM.
ResidentSplit split_resident(std::string_view smaps, std::uint64_t guest_ram_kib);

// /proc/`pid`/smaps as text; nullopt when it cannot be read (the process
// is gone).
std::optional<std::string> read_smaps(pid_t pid);

// read_smaps() split; nullopt when it cannot be read.
std::optional<ResidentSplit> read_resident_split(pid_t pid, std::uint64_t guest_ram_kib);

}  // namespace ktstr::cli
