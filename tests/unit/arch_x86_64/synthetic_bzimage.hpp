// A minimal well-formed bzImage for tests: 4 setup sectors, a protocol
// 2.15 header like Debian's kernel's, and `kernel_bytes` of payload.
#pragma once

#include <cstdint>

#include <ktstr/common/bytes.hpp>

#include "arch/x86_64/bzimage.hpp"

namespace ktstr::vmm::x86_64::test {

inline byte_buffer synthetic_bzimage(std::size_t kernel_bytes = 64 * 1024, std::uint32_t init_size = 32 << 20) {
    namespace sh = setup_header;
    const std::size_t setup = 5 * 512;
    byte_buffer f(setup + kernel_bytes, 0);
    for (std::size_t i = setup; i < f.size(); ++i)
        f[i] = static_cast<std::uint8_t>(i * 7);
    f[sh::setup_sects] = 4;
    store_le(f.data() + sh::syssize, static_cast<std::uint32_t>(kernel_bytes / 16));
    store_le(f.data() + sh::boot_flag, sh::boot_flag_value);
    f[sh::jump] = 0xeb;
    f[sh::jump + 1] = 0x6a;  // header ends at 0x26c
    store_le(f.data() + sh::header, sh::header_magic);
    store_le(f.data() + sh::version, std::uint16_t{0x020f});
    f[sh::loadflags] = sh::loaded_high;
    store_le(f.data() + sh::initrd_addr_max, std::uint32_t{0x7fff'ffff});
    store_le(f.data() + sh::kernel_alignment, std::uint32_t{0x20'0000});
    f[sh::relocatable_kernel] = 1;
    f[sh::min_alignment] = 21;
    store_le(f.data() + sh::xloadflags, std::uint16_t{sh::xlf_kernel_64 | sh::xlf_can_be_loaded_above_4g});
    store_le(f.data() + sh::cmdline_size, std::uint32_t{2047});
    store_le(f.data() + sh::pref_address, std::uint64_t{0x100'0000});
    store_le(f.data() + sh::init_size, init_size);
    return f;
}

}  // namespace ktstr::vmm::x86_64::test
