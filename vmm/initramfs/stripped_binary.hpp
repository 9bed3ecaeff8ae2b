// Debug-stripped copies of the programs and libraries that go into an
// image. Debug sections are most of a RelWithDebInfo ktstr-vmm (26 of 27
// MiB), of ktstr-init and of a test program with libktstr_vmm.so; every
// byte of the image costs the guest time (and RAM: the image unpacks
// into a tmpfs of half the guest's memory) to unpack.
#pragma once

#include <filesystem>

namespace ktstr::vmm::initramfs {

// `binary` without its debug sections (objcopy --strip-debug), kept in the
// initramfs image cache under a name from its identity, so a rebuilt binary
// gets a fresh copy and an unchanged one is stripped once. The binary
// itself when objcopy is missing or fails: unstripped works, only slower.
std::filesystem::path stripped_binary(const std::filesystem::path& binary);

}  // namespace ktstr::vmm::initramfs
