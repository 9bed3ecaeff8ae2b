// What of the KVM layer runs without /dev/kvm: errors name the failing
// step, mappings are whole pages, the check's program is what its header
// says. The real KVM paths run in the VM tests (tests/vm), inside the
// emulated host where this machine has no /dev/kvm.
#include <catch2/catch.hpp>

#include <cerrno>
#include <vector>

#include <unistd.h>

#include "kvm/kvm_check.hpp"
#include "kvm/kvm_error.hpp"
#include "kvm/kvm_system.hpp"
#include "kvm/memory_mapping.hpp"

using namespace ktstr::vmm::kvm;

TEST_CASE("kvm: opening a missing device says which path and why") {
    try {
        (void)KvmSystem::open("/nonexistent/kvm");
        FAIL("no exception");
    } catch (const KvmError& e) {
        CHECK(e.errnum() == ENOENT);
        CHECK(std::string(e.what()) == "/nonexistent/kvm: No such file or directory");
    }
}

TEST_CASE("kvm: a device that is not KVM fails at the first ioctl, not with a crash") {
    auto sys = KvmSystem::open("/dev/null");
    CHECK_THROWS_AS(sys.api_version(), KvmError);
}

TEST_CASE("kvm: anonymous mappings are whole zeroed pages, sizes checked") {
    const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    auto m = MemoryMapping::anonymous(page + 1);
    CHECK(m.size() == 2 * page);
    for (auto b : m.bytes())
        REQUIRE(b == std::byte{0});
    m.bytes()[2 * page - 1] = std::byte{1};  // writable to the end
    auto moved = std::move(m);
    CHECK(m.data() == nullptr);
    CHECK(moved.size() == 2 * page);
    CHECK_THROWS_AS(MemoryMapping::anonymous(0), KvmError);
}

TEST_CASE("kvm-check program: port I/O both ways, then hlt (or jmp $ to hang)") {
    const auto p = check_program();
    CHECK(p.back() == 0xf4);
    CHECK(p.size() <= check_max_code);
    const auto h = check_program(true);
    CHECK(std::vector<std::uint8_t>(h.end() - 2, h.end()) == std::vector<std::uint8_t>{0xeb, 0xfe});
    CHECK(check_program_output() == std::vector<std::uint8_t>{0x42, 0x43, 0x5b});
}

TEST_CASE("kvm-check: without a device it throws KvmError naming it") {
    KvmCheckOptions o;
    o.device = "/nonexistent/kvm";
    CHECK_THROWS_WITH(run_kvm_check(o), "/nonexistent/kvm: No such file or directory");
    o.code.clear();
    CHECK_THROWS_AS(run_kvm_check(o), KvmError);
}
