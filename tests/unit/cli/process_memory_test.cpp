#include <string>

#include <unistd.h>

#include <catch2/catch.hpp>

#include "cli/process_memory.hpp"

using namespace ktstr::cli;

namespace {

// Three mappings as smaps shows them: the binary, a 256 MiB anonymous
// guest RAM mapping, and a heap whose name looks like a field line.
const char* const sample = R"(55d0c0a00000-55d0c0b00000 r-xp 00000000 08:01 1234    /usr/bin/ktstr-vmm
Size:               1024 kB
KernelPageSize:        4 kB
Rss:                 800 kB
Pss:                 800 kB
7f0000000000-7f0010000000 rw-p 00000000 00:00 0
Size:             262144 kB
Rss:              120000 kB
Anonymous:        120000 kB
VmFlags: rd wr mr mw me ac
7f0020000000-7f0020400000 rw-p 00000000 00:00 0                          [heap]
Size:               4096 kB
Rss:                3000 kB
)";

}  // namespace

TEST_CASE("resident memory splits into guest RAM and the rest by mapping size", "[cli][memory]") {
    const auto r = split_resident(sample, 256 * 1024);
    CHECK(r.guest_ram_kib == 120000);
    CHECK(r.other_kib == 3800);
    // A smaller guest: the 4 MiB heap is not guest RAM, the 256 MiB is.
    const auto small = split_resident(sample, 4097);
    CHECK(small.guest_ram_kib == 120000);
    CHECK(small.other_kib == 3800);
    // A bound above every mapping: all of it is the VMM's own.
    const auto none = split_resident(sample, 1 << 30);
    CHECK(none.guest_ram_kib == 0);
    CHECK(none.other_kib == 123800);
}

TEST_CASE("malformed smaps lines are skipped; a mapping without Size is not guest RAM", "[cli][memory]") {
    const std::string text = "zz not a header\nRss: lots kB\n7f00-7f10 rw-p 0 00:00 0\nRss: 10 kB\nSize: 99999 kB\n"
                             "Rss:\nRss: 5 kB";
    const auto r = split_resident(text, 1000);
    CHECK(r.other_kib == 10);   // counted before its mapping's Size was known
    CHECK(r.guest_ram_kib == 5);  // after it, and the last line has no newline
    CHECK(split_resident("", 1).other_kib == 0);
}

TEST_CASE("this process's own smaps can be read; a missing process gives nothing", "[cli][memory]") {
    const auto self = read_resident_split(::getpid(), 1ull << 40);
    REQUIRE(self);
    CHECK(self->other_kib > 0);
    CHECK(self->guest_ram_kib == 0);
    CHECK_FALSE(read_resident_split(-5, 1));
}
