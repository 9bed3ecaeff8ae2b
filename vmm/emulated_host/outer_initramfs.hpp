// The outer guest's initramfs: ktstr-init as /init, ktstr-vmm and the
// files the inner command needs at their host paths, the modules that give
// the outer guest virtio ports and /dev/kvm, and the recorded command.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace ktstr::vmm::emulated_host {

// A host file or directory and where the image holds it.
struct Placement {
    std::filesystem::path host;
    std::filesystem::path guest;
};

struct OuterInitramfsSpec {
    std::filesystem::path init;                      // ktstr-init (static)
    std::vector<Placement> programs;                 // dynamic programs: with their libraries and loader
    std::vector<Placement> files;                    // files, or directories with their contents
    std::vector<std::filesystem::path> modules;      // kernel modules; dependencies resolved by the builder
    std::vector<std::string> command;                // what ktstr-init runs
    std::vector<std::string> environment;            // NAME=value
};

struct OuterInitramfs {
    std::filesystem::path path;
    std::uint64_t payload_bytes = 0;  // uncompressed size of everything in it
};

// Builds (or finds in the cache) the image. Throws std::runtime_error.
OuterInitramfs build_outer_initramfs(const OuterInitramfsSpec& spec);

}  // namespace ktstr::vmm::emulated_host
