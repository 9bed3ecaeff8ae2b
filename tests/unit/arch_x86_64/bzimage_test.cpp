// Setup header parsing: a well-formed synthetic image, and malformed ones
// that must give an error (never a crash).
#include <catch2/catch.hpp>

#include <string>

#include "arch/x86_64/bzimage.hpp"
#include "synthetic_bzimage.hpp"

using namespace ktstr;
using namespace ktstr::vmm;
using namespace ktstr::vmm::x86_64;
using ktstr::vmm::x86_64::test::synthetic_bzimage;
namespace sh = ktstr::vmm::x86_64::setup_header;

namespace {

void check_rejected(byte_buffer f, const std::string& needle) {
    try {
        (void)BzImage::parse(std::move(f));
        FAIL("accepted; expected an error mentioning: " << needle);
    } catch (const BzImageError& e) {
        const std::string msg = e.what();
        INFO(msg);
        CHECK(msg.find(needle) != std::string::npos);
        CHECK(msg.find('\n') == std::string::npos);
    }
}

}  // namespace

TEST_CASE("a well-formed image: header fields, kernel bytes, load address and entry", "[x86_64][bzimage]") {
    const byte_buffer file = synthetic_bzimage();
    const BzImage k = BzImage::parse(file);
    CHECK(k.header().version == 0x020f);
    CHECK(k.header().setup_sects == 4);
    CHECK(k.header().relocatable);
    CHECK(k.header().cmdline_size == 2047);
    CHECK(k.header().init_size == 32u << 20);
    CHECK(k.kernel().size() == 64 * 1024);
    CHECK(k.kernel().front() == file[5 * 512]);
    CHECK(k.setup_header_bytes().size() == 0x26c - 0x1f1);
    CHECK(k.load_address() == 0x100'0000);
    CHECK(k.entry_64() == 0x100'0200);
    CHECK(k.load_range() == GuestRange{0x100'0000, 32u << 20});
    CHECK(k.initrd_addr_max() == 0x7fff'ffff);
}

TEST_CASE("setup_sects 0 means 4", "[x86_64][bzimage]") {
    byte_buffer f = synthetic_bzimage();
    f[sh::setup_sects] = 0;
    CHECK(BzImage::parse(f).kernel().size() == 64 * 1024);
}

TEST_CASE("a relocatable kernel's odd pref_address is rounded up to kernel_alignment", "[x86_64][bzimage]") {
    byte_buffer f = synthetic_bzimage();
    store_le(f.data() + sh::pref_address, std::uint64_t{0x100'1000});
    CHECK(BzImage::parse(f).load_address() == 0x120'0000);
}

TEST_CASE("malformed images are rejected with a one-line reason", "[x86_64][bzimage]") {
    check_rejected({}, "shorter than a setup header");
    check_rejected(byte_buffer(0x263, 0), "shorter than a setup header");
    check_rejected(byte_buffer(4096, 0), "HdrS");

    byte_buffer f = synthetic_bzimage();
    f[sh::header] = 'X';
    check_rejected(f, "HdrS");

    f = synthetic_bzimage();
    store_le(f.data() + sh::boot_flag, std::uint16_t{0});
    check_rejected(f, "boot flag");

    f = synthetic_bzimage();
    store_le(f.data() + sh::version, std::uint16_t{0x020b});
    check_rejected(f, "2.11 is too old");

    f = synthetic_bzimage();
    store_le(f.data() + sh::xloadflags, std::uint16_t{0});
    check_rejected(f, "XLF_KERNEL_64");

    f = synthetic_bzimage();
    f[sh::loadflags] = 0;
    check_rejected(f, "LOADED_HIGH");

    f = synthetic_bzimage();
    f.resize(5 * 512 + 1000);  // truncated kernel
    check_rejected(f, "truncated");

    f = synthetic_bzimage();
    f.resize(5 * 512);  // setup only
    check_rejected(f, "truncated");

    f = synthetic_bzimage();
    f[sh::setup_sects] = 200;  // setup larger than the file
    check_rejected(f, "truncated");

    f = synthetic_bzimage();
    f[sh::jump + 1] = 0x10;  // header ends before init_size
    check_rejected(f, "setup header ends");

    f = synthetic_bzimage();
    store_le(f.data() + sh::kernel_alignment, std::uint32_t{0x30'0000});
    check_rejected(f, "kernel_alignment");

    f = synthetic_bzimage();
    store_le(f.data() + sh::init_size, std::uint32_t{0});
    check_rejected(f, "init_size");

    f = synthetic_bzimage();
    store_le(f.data() + sh::init_size, std::uint32_t{0xffff'ffff});
    check_rejected(f, "init_size");

    f = synthetic_bzimage();
    store_le(f.data() + sh::pref_address, std::uint64_t{0xffff'ffff'ffff'0000});
    check_rejected(f, "pref_address");

    f = synthetic_bzimage();
    f[sh::relocatable_kernel] = 0;
    store_le(f.data() + sh::pref_address, std::uint64_t{0x1000});
    check_rejected(f, "pref_address");
}

TEST_CASE("every truncation of a valid image is rejected without a crash", "[x86_64][bzimage]") {
    const byte_buffer full = synthetic_bzimage(4096);
    for (std::size_t n = 0; n < full.size(); n += 97) {
        byte_buffer f(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
        CHECK_THROWS_AS(BzImage::parse(std::move(f)), BzImageError);
    }
}

TEST_CASE("reading a missing or oversized file gives a BzImageError", "[x86_64][bzimage]") {
    CHECK_THROWS_AS(BzImage::read("/nonexistent/vmlinuz"), BzImageError);
    CHECK_THROWS_AS(BzImage::read("/"), BzImageError);
}
