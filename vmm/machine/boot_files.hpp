// The kernel (a bzImage or a vmlinux) and the initrd a Machine boots, as read-only mappings of
// their files (kvm::MemoryMapping::read_only_file), never as copies on the
// VMM's heap: the Machine copies them into guest RAM piece by piece and
// drops each piece's pages from the VMM's resident memory once copied
// (drop_resident), and the owner lets the mappings go once the Machine is
// built (run/guest_run.cpp). So neither file counts in the VMM's own
// memory during the run, and at most a piece of one does while it is
// built.
//
// A file shrunk while it is mapped makes a read past its new end SIGBUS:
// the files are read once, while the Machine is built, and not after. The
// kernel supply and the initramfs cache replace their files by rename,
// never in place, so a mapping keeps the file it was made from.
#pragma once

#include <ktstr/common/bytes.hpp>

#if defined(__aarch64__)
#include "arch/aarch64/image.hpp"
#else
#include "arch/x86_64/boot_kernel.hpp"
#endif
#include "kvm/memory_mapping.hpp"

namespace ktstr::vmm::machine {

// The kernel this architecture's Machine boots: an arm64 Image, or on
// x86_64 a bzImage or a vmlinux.
#if defined(__aarch64__)
using BootKernel = aarch64::Image;
#else
using BootKernel = x86_64::BootKernel;
#endif

class BootFiles {
public:
    // Parses the kernel over its mapping: an ELF file as a vmlinux for the
    // PVH entry, anything else as a bzImage (on aarch64: an Image). Throws
    // VmlinuxError, BzImageError or ImageError for a file we cannot boot. `initrd_file` may be empty
    // (no initrd).
    BootFiles(kvm::MemoryMapping kernel_file, kvm::MemoryMapping initrd_file);

    // Views into the mappings: valid while this object lives (a move
    // keeps them valid; the moved-from object has none).
    const BootKernel& kernel() const noexcept { return kernel_; }
    byte_view initrd() const noexcept { return initrd_; }

    // Drops the pages under `part` from this process's resident memory
    // when `part` lies in one of the two mappings (nothing otherwise);
    // touched again, they are read from the file again.
    void drop_resident(byte_view part) const noexcept;

private:
    kvm::MemoryMapping kernel_file_, initrd_file_;
    BootKernel kernel_;
    byte_view initrd_;
};

}  // namespace ktstr::vmm::machine
