// BootFiles holds the kernel and the initrd as read-only mappings of their
// files, never as copies on the heap: the views it gives lie in a mapping
// of the file itself (as /proc/self/smaps names it), and drop_resident
// takes their pages out of the resident set. Reading either file into a
// buffer again would fail the first checks.
#include <cstdint>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>

#include <ktstr/test/temp_dir.hpp>

#include "kvm/kvm_error.hpp"
#include "machine/boot_files.hpp"
#include "synthetic_bzimage.hpp"
#include "synthetic_vmlinux.hpp"

using ktstr::byte_buffer;
using ktstr::byte_view;
using ktstr::vmm::kvm::MemoryMapping;
using ktstr::vmm::machine::BootFiles;

namespace {

struct MappingInfo {
    std::string path;  // the mapped file, empty for anonymous memory
    std::uint64_t rss_kib = 0;
};

// The mapping of this process that holds `at`, from /proc/self/smaps.
std::optional<MappingInfo> mapping_of(const void* at) {
    std::ifstream in("/proc/self/smaps");
    std::string line;
    const auto addr = reinterpret_cast<std::uintptr_t>(at);
    bool inside = false;
    std::optional<MappingInfo> found;
    while (std::getline(in, line)) {
        std::uintptr_t lo = 0, hi = 0;
        char dash = 0;
        std::istringstream head(line);
        if (head >> std::hex >> lo >> dash >> hi && dash == '-') {
            if (found)
                return found;
            inside = addr >= lo && addr < hi;
            if (inside) {
                std::string perms, offset, dev, inode;
                head >> perms >> offset >> dev >> inode;
                MappingInfo m;
                std::getline(head >> std::ws, m.path);
                found = m;
            }
        } else if (inside && line.rfind("Rss:", 0) == 0) {
            found->rss_kib = std::stoull(line.substr(4));
        }
    }
    return found;
}

std::filesystem::path write_file(const ktstr::test::TempDir& dir, const char* name, const byte_buffer& bytes) {
    return dir.write(name, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

}  // namespace

TEST_CASE("BootFiles views the kernel and the initrd in mappings of their files, not copies") {
    ktstr::test::TempDir dir("boot-files");
    const auto kernel_bytes = ktstr::vmm::x86_64::test::synthetic_bzimage(1 << 20);
    byte_buffer initrd_bytes(3 << 20);
    for (std::size_t i = 0; i < initrd_bytes.size(); ++i)
        initrd_bytes[i] = static_cast<std::uint8_t>(i * 13 + 1);
    const auto kernel_path = write_file(dir, "bzImage", kernel_bytes);
    const auto initrd_path = write_file(dir, "initrd", initrd_bytes);

    const BootFiles boot(MemoryMapping::read_only_file(kernel_path, 64 << 20),
                         MemoryMapping::read_only_file(initrd_path, 64 << 20));
    REQUIRE(std::holds_alternative<ktstr::vmm::x86_64::BzImage>(boot.kernel()));
    const byte_view kernel = std::get<ktstr::vmm::x86_64::BzImage>(boot.kernel()).kernel();
    const byte_view initrd = boot.initrd();
    REQUIRE(kernel.size() == 1 << 20);
    REQUIRE(initrd.size() == initrd_bytes.size());
    CHECK(std::equal(kernel.begin(), kernel.end(), kernel_bytes.end() - (1 << 20)));
    CHECK(std::equal(initrd.begin(), initrd.end(), initrd_bytes.begin()));

    // Where the bytes are: in the files' own mappings.
    const auto k = mapping_of(kernel.data());
    const auto i = mapping_of(initrd.data());
    REQUIRE(k);
    REQUIRE(i);
    CHECK(k->path == kernel_path.string());
    CHECK(i->path == initrd_path.string());

    // Read (above), the initrd's pages are resident; dropped, they are not,
    // and reading again gives the same bytes.
    CHECK(i->rss_kib > 0);
    boot.drop_resident(initrd);
    CHECK(mapping_of(initrd.data())->rss_kib == 0);
    CHECK(std::equal(initrd.begin(), initrd.end(), initrd_bytes.begin()));

    // Bytes outside both mappings are left alone.
    boot.drop_resident(byte_view(initrd_bytes));
    CHECK(initrd_bytes[5] == static_cast<std::uint8_t>(5 * 13 + 1));
}

TEST_CASE("BootFiles refuses a kernel that is not a bzImage, and takes an empty initrd") {
    ktstr::test::TempDir dir("boot-files");
    const auto not_kernel = dir.write("bzImage", std::string(8192, 'x'));
    const auto empty = dir.write("initrd", "");
    CHECK_THROWS_AS(BootFiles(MemoryMapping::read_only_file(not_kernel, 1 << 20), MemoryMapping()),
                    ktstr::vmm::x86_64::BzImageError);
    const auto kernel_path = write_file(dir, "good", ktstr::vmm::x86_64::test::synthetic_bzimage());
    const BootFiles boot(MemoryMapping::read_only_file(kernel_path, 1 << 20), MemoryMapping::read_only_file(empty, 1));
    CHECK(boot.initrd().empty());
}

TEST_CASE("BootFiles takes an ELF kernel as a vmlinux for the PVH entry, its segments in the mapping") {
    ktstr::test::TempDir dir("boot-files");
    const auto bytes = ktstr::vmm::x86_64::test::synthetic_vmlinux();
    const auto path = write_file(dir, "vmlinux", bytes);
    const BootFiles boot(MemoryMapping::read_only_file(path, 64 << 20), MemoryMapping());
    REQUIRE(std::holds_alternative<ktstr::vmm::x86_64::Vmlinux>(boot.kernel()));
    const auto& v = std::get<ktstr::vmm::x86_64::Vmlinux>(boot.kernel());
    CHECK(v.pvh_entry() == 0x100'0040);
    const auto m = mapping_of(v.segments().front().bytes.data());
    REQUIRE(m);
    CHECK(m->path == path.string());
    // An ELF file that is not a vmlinux we can enter says so.
    auto broken = bytes;
    broken[18] = 0xb7;  // EM_AARCH64
    const auto broken_path = write_file(dir, "arm64", broken);
    CHECK_THROWS_AS(BootFiles(MemoryMapping::read_only_file(broken_path, 64 << 20), MemoryMapping()),
                    ktstr::vmm::x86_64::VmlinuxError);
}

TEST_CASE("read_only_file refuses a missing file and one above its size limit") {
    ktstr::test::TempDir dir("boot-files");
    const auto f = dir.write("f", std::string(4097, 'a'));
    CHECK_THROWS_AS(MemoryMapping::read_only_file(dir.path() / "missing", 1 << 20), ktstr::vmm::kvm::KvmError);
    CHECK_THROWS_AS(MemoryMapping::read_only_file(f, 4096), ktstr::vmm::kvm::KvmError);
    CHECK(MemoryMapping::read_only_file(f, 4097).size() == 4097);
}
