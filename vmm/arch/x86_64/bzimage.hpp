// A bzImage kernel file and its setup header (Linux x86 boot protocol,
// Documentation/arch/x86/boot.rst).
//
// The file is the real-mode setup (1 + setup_sects sectors of 512 bytes,
// the setup header at 0x1F1) followed by the protected-mode kernel: the
// compressed kernel and its decompressor. We load only the latter and enter
// it at its 64-bit entry point, 0x200 bytes in, with a zero page we build
// (boot_params.hpp); the setup code never runs.
//
// Accepted: boot protocol 2.12 or later, XLF_KERNEL_64 set (a 64-bit entry
// point), LOADED_HIGH set; every field bounded against the file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <stdexcept>

#include <ktstr/common/bytes.hpp>

#include "memory/memory_map.hpp"

namespace ktstr::vmm::x86_64 {

// A file that is not a bzImage we can boot; a one-line message.
struct BzImageError : std::invalid_argument {
    using std::invalid_argument::invalid_argument;
};

// Setup header field offsets from the start of the file, which are also
// their offsets in the zero page.
namespace setup_header {
inline constexpr std::size_t start = 0x1f1;
inline constexpr std::size_t setup_sects = 0x1f1;
inline constexpr std::size_t syssize = 0x1f4;
inline constexpr std::size_t vid_mode = 0x1fa;
inline constexpr std::size_t boot_flag = 0x1fe;
inline constexpr std::size_t jump = 0x200;
inline constexpr std::size_t header = 0x202;  // "HdrS"
inline constexpr std::size_t version = 0x206;
inline constexpr std::size_t type_of_loader = 0x210;
inline constexpr std::size_t loadflags = 0x211;
inline constexpr std::size_t code32_start = 0x214;
inline constexpr std::size_t ramdisk_image = 0x218;
inline constexpr std::size_t ramdisk_size = 0x21c;
inline constexpr std::size_t heap_end_ptr = 0x224;
inline constexpr std::size_t cmd_line_ptr = 0x228;
inline constexpr std::size_t initrd_addr_max = 0x22c;
inline constexpr std::size_t kernel_alignment = 0x230;
inline constexpr std::size_t relocatable_kernel = 0x234;
inline constexpr std::size_t min_alignment = 0x235;
inline constexpr std::size_t xloadflags = 0x236;
inline constexpr std::size_t cmdline_size = 0x238;
inline constexpr std::size_t payload_offset = 0x248;  // from the protected-mode kernel's start
inline constexpr std::size_t payload_length = 0x24c;
inline constexpr std::size_t pref_address = 0x258;
inline constexpr std::size_t init_size = 0x260;
inline constexpr std::size_t end_min = 0x264;  // a 2.12 header reaches at least this far
// The zero page's header area ends here (edd_mbr_sig_buffer follows).
inline constexpr std::size_t end_max = 0x290;

inline constexpr std::uint16_t boot_flag_value = 0xaa55;
inline constexpr std::uint32_t header_magic = 0x5372'6448;  // "HdrS"
inline constexpr std::uint16_t min_version = 0x020c;
inline constexpr std::uint8_t loaded_high = 0x01;
inline constexpr std::uint16_t xlf_kernel_64 = 0x01;
inline constexpr std::uint16_t xlf_can_be_loaded_above_4g = 0x02;
}  // namespace setup_header

// The header fields the loader uses, decoded.
struct SetupHeader {
    std::uint8_t setup_sects = 0;  // 0 already replaced by 4
    std::uint32_t syssize = 0;     // protected-mode code, in 16-byte units
    std::uint16_t version = 0;
    std::uint8_t loadflags = 0;
    std::uint32_t initrd_addr_max = 0;
    std::uint32_t kernel_alignment = 0;
    bool relocatable = false;
    std::uint16_t xloadflags = 0;
    std::uint32_t cmdline_size = 0;  // longest command line, NUL excluded
    std::uint64_t pref_address = 0;
    std::uint32_t init_size = 0;  // linear memory the kernel needs from its load address
};

class BzImage {
public:
    // Validates the header; throws BzImageError naming the first problem
    // (too short, bad magic, protocol too old, no 64-bit entry, truncated).
    static BzImage parse(byte_buffer file);
    // The same over bytes the caller keeps, unchanged, for as long as the
    // BzImage lives (a read-only mapping of the file: no copy of it).
    static BzImage parse_view(byte_view file);
    // Reads (a copy on the heap) and parses a file of at most max_file_size
    // bytes; throws BzImageError when it is unreadable or invalid.
    static BzImage read(const std::filesystem::path& path);

    static constexpr std::uint64_t max_file_size = 512ULL << 20;
    static constexpr std::uint64_t entry_64_offset = 0x200;

    // Move only: the bytes may be its own (parse), which a copy would not
    // share. A move keeps a vector's storage, so the view stays valid.
    BzImage(BzImage&&) noexcept = default;
    BzImage& operator=(BzImage&&) noexcept = default;
    BzImage(const BzImage&) = delete;
    BzImage& operator=(const BzImage&) = delete;

    const SetupHeader& header() const noexcept { return header_; }
    // The setup header as in the file, [0x1F1, its end), for the zero page.
    byte_view setup_header_bytes() const noexcept;
    // The protected-mode kernel: what goes to load_address().
    byte_view kernel() const noexcept;
    // The compressed vmlinux inside the protected-mode kernel (payload_offset
    // and payload_length), as the decompressor finds it: the compressed
    // stream, then the uncompressed size as 4 little-endian bytes. Empty
    // when the header's range is not inside the file.
    byte_view payload() const noexcept;

    // Where the protected-mode kernel goes: pref_address (16 MiB for a
    // default kernel), where the decompressor runs in place and from where
    // KASLR moves the kernel to a random address.
    std::uint64_t load_address() const noexcept { return load_address_; }
    // [load_address, + max(init_size, kernel size)): must be RAM, and
    // nothing else may be loaded there.
    GuestRange load_range() const noexcept;
    std::uint64_t entry_64() const noexcept { return load_address_ + entry_64_offset; }
    std::uint64_t initrd_addr_max() const noexcept { return header_.initrd_addr_max; }

private:
    BzImage(byte_view file, SetupHeader header, std::size_t header_end, std::size_t setup_size,
            std::uint64_t load_address)
        : file_(file),
          header_(header),
          header_end_(header_end),
          setup_size_(setup_size),
          load_address_(load_address) {}

    byte_buffer owned_;  // parse(): the file; parse_view(): empty
    byte_view file_;
    SetupHeader header_;
    std::size_t header_end_;
    std::size_t setup_size_;
    std::uint64_t load_address_;
};

}  // namespace ktstr::vmm::x86_64
