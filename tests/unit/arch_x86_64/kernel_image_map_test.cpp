#include <catch2/catch.hpp>

#include <cstdint>
#include <map>

#include "arch/x86_64/kernel_image_map.hpp"

using namespace ktstr::vmm::x86_64;

namespace {

// Guest-physical memory as a map of 8-byte words; absent words are not RAM.
struct FakeRam {
    std::map<std::uint64_t, std::uint64_t> words;
    bool zero_filled_below = false;  // every address below `limit` is RAM (zero unless set)
    std::uint64_t limit = 0;
    GuestPhysReader reader() const {
        return [this](std::uint64_t gpa) -> std::optional<std::uint64_t> {
            if (auto it = words.find(gpa); it != words.end())
                return it->second;
            if (zero_filled_below && gpa < limit)
                return 0;
            return std::nullopt;
        };
    }
};

constexpr std::uint64_t present = 1, large = 1 << 7;

// Tables at 0x1000 (top level), 0x2000, 0x3000, 0x4000 (page directory);
// the image's first present 2 MiB page at directory index `first`.
FakeRam four_level(unsigned first) {
    FakeRam ram;
    ram.zero_filled_below = true;
    ram.limit = 0x10000;
    ram.words[0x1000 + 511 * 8] = 0x2000 | present;  // PML4[511]
    ram.words[0x2000 + 510 * 8] = 0x3000 | present;  // PDPT[510]: 0xffffffff80000000
    for (unsigned i = first; i < first + 20; ++i)
        ram.words[0x3000 + i * 8] = (0x1000000ULL + (i - first) * 0x200000ULL) | present | large;
    return ram;
}

}  // namespace

TEST_CASE("kernel image map: the first present 2 MiB page of the top 2 GiB") {
    // KASLR moved _text from 0xffffffff81000000 (index 8) by 0x1c000000.
    const auto ram = four_level(8 + 0xe0);
    CHECK(first_kernel_image_page(ram.reader(), 0x1000, false) == 0xffffffff81000000ULL + 0x1c000000ULL);
    // PCID bits in CR3 are not part of the address.
    CHECK(first_kernel_image_page(ram.reader(), 0x1000 | 0x5, false) == 0xffffffff81000000ULL + 0x1c000000ULL);
}

TEST_CASE("kernel image map: five-level tables have one more level on top") {
    auto ram = four_level(8);
    ram.words[0x5000 + 511 * 8] = 0x1000 | present;  // PML5[511]
    CHECK(first_kernel_image_page(ram.reader(), 0x5000, true) == 0xffffffff81000000ULL);
    CHECK_FALSE(first_kernel_image_page(ram.reader(), 0x1000, true));  // 0x1000's [511] leads to a PDPT, not a PML4 chain
}

TEST_CASE("kernel image map: missing tables, tables outside RAM and an empty directory give nothing") {
    FakeRam empty;
    CHECK_FALSE(first_kernel_image_page(empty.reader(), 0x1000, false));  // no RAM at all
    auto ram = four_level(8);
    ram.words.erase(0x2000 + 510 * 8);  // PDPT entry not present
    CHECK_FALSE(first_kernel_image_page(ram.reader(), 0x1000, false));
    auto outside = four_level(8);
    outside.words[0x1000 + 511 * 8] = 0x7fff0000ULL | present;  // a table beyond RAM
    CHECK_FALSE(first_kernel_image_page(outside.reader(), 0x1000, false));
    auto none = four_level(8);
    for (unsigned i = 0; i < 512; ++i)
        none.words.erase(0x3000 + i * 8);
    CHECK_FALSE(first_kernel_image_page(none.reader(), 0x1000, false));
    auto gig = four_level(8);
    gig.words[0x2000 + 510 * 8] = 0x40000000ULL | present | large;  // a 1 GiB page, not Linux's layout
    CHECK_FALSE(first_kernel_image_page(gig.reader(), 0x1000, false));
}
