// Debug-stripped copies of the binaries that go into the outer image.
// Debug sections are most of a RelWithDebInfo ktstr-vmm (26 of 27 MiB) and
// of ktstr-init, and every byte of the image costs the outer guest time to
// unpack with emulated instructions.
#pragma once

#include <filesystem>

namespace ktstr::vmm::emulated_host {

// `binary` without its debug sections (objcopy --strip-debug), kept in the
// initramfs image cache under a name from its identity, so a rebuilt binary
// gets a fresh copy and an unchanged one is stripped once. The binary
// itself when objcopy is missing or fails: unstripped works, only slower.
std::filesystem::path stripped_binary(const std::filesystem::path& binary);

}  // namespace ktstr::vmm::emulated_host
