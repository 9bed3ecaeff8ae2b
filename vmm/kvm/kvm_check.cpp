#include "kvm/kvm_check.hpp"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <fmt/core.h>
#include <linux/kvm.h>
#include <pthread.h>

#include "kvm/kvm_error.hpp"
#include "kvm/kvm_system.hpp"
#include "kvm/memory_mapping.hpp"
#include "kvm/vcpu_kick.hpp"

namespace ktstr::vmm::kvm {
namespace {

constexpr std::size_t guest_memory_size = 0x10000;   // 64 KiB at guest-physical 0

// Kicks the calling thread's vCPU out of KVM_RUN once the deadline passes,
// and keeps kicking every 50 ms until destroyed (a kick that lands between
// two runs is caught by immediate_exit; repeating is belt and braces).
class Deadline {
public:
    Deadline(KvmVcpu& vcpu, std::chrono::milliseconds after) {
        if (after.count() <= 0)
            return;
        install_vcpu_kick_handler();
        const pthread_t target = ::pthread_self();
        thread_ = std::thread([this, &vcpu, after, target] {
            std::unique_lock lock(mutex_);
            if (cv_.wait_for(lock, after, [this] { return done_; }))
                return;
            expired_ = true;
            do
                kick_vcpu(vcpu, target);
            while (!cv_.wait_for(lock, std::chrono::milliseconds(50), [this] { return done_; }));
        });
    }
    ~Deadline() {
        if (!thread_.joinable())
            return;
        {
            std::lock_guard lock(mutex_);
            done_ = true;
        }
        cv_.notify_all();
        thread_.join();
    }
    Deadline(const Deadline&) = delete;
    Deadline& operator=(const Deadline&) = delete;

    bool expired() {
        std::lock_guard lock(mutex_);
        return expired_;
    }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    bool done_ = false;
    bool expired_ = false;
    std::thread thread_;
};

#if defined(__x86_64__)
constexpr std::uint64_t tss_address = 0xfffbd000;  // below 4 GiB, far from the slot

void real_mode_at(KvmVcpu& vcpu, std::uint64_t ip) {
    kvm_sregs s = vcpu.sregs();
    for (kvm_segment* seg : {&s.cs, &s.ds, &s.es, &s.fs, &s.gs, &s.ss}) {
        seg->base = 0;
        seg->selector = 0;
    }
    vcpu.set_sregs(s);
    kvm_regs r{};
    r.rip = ip;
    r.rflags = 0x2;  // bit 1 is reserved and must be set
    r.rsp = 0x8000;
    vcpu.set_regs(r);
}

std::uint64_t program_counter(const KvmVcpu& vcpu) { return vcpu.regs().rip; }

void prepare_vm(const KvmVm& vm) {
    if (vm.check_extension(KVM_CAP_SET_TSS_ADDR) > 0)
        vm.set_tss_addr(tss_address);
}

void start_at(const KvmVm&, KvmVcpu& vcpu, std::uint64_t ip) { real_mode_at(vcpu, ip); }
#elif defined(__aarch64__)
// arm64 core registers by their place in struct kvm_regs, in 32-bit words.
constexpr std::uint64_t core_reg(std::size_t offset) {
    return KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | (offset / sizeof(std::uint32_t));
}
constexpr std::uint64_t pc_reg = core_reg(offsetof(kvm_regs, regs.pc));

std::uint64_t program_counter(const KvmVcpu& vcpu) { return vcpu.one_reg(pc_reg); }

void prepare_vm(const KvmVm&) {}

// KVM's reset state is EL1 with the MMU off: the program runs from the
// slot as it is, its stores outside it exit as MMIO.
void start_at(const KvmVm& vm, KvmVcpu& vcpu, std::uint64_t ip) {
    kvm_vcpu_init init = vm.arm_preferred_target();
    init.features[0] |= 1u << KVM_ARM_VCPU_PSCI_0_2;  // SYSTEM_OFF ends the program
    vcpu.arm_init(init);
    vcpu.set_one_reg(pc_reg, ip);
}

void put_le32(std::vector<std::uint8_t>& p, std::uint32_t insn) {
    for (int i = 0; i < 4; ++i)
        p.push_back(static_cast<std::uint8_t>(insn >> (8 * i)));
}

// x0 = PSCI SYSTEM_OFF (0x8400_0008), hvc #0.
void put_system_off(std::vector<std::uint8_t>& p) {
    put_le32(p, 0x52800100);  // movz w0, #0x8
    put_le32(p, 0x72b08000);  // movk w0, #0x8400, lsl #16
    put_le32(p, 0xd4000002);  // hvc #0
}
#endif

std::string hex_bytes(std::span<const std::uint8_t> b) {
    std::string s;
    for (auto v : b)
        s += fmt::format("{}{:02x}", s.empty() ? "" : " ", v);
    return s;
}

}  // namespace

#if defined(__x86_64__)
std::vector<std::uint8_t> check_program(bool hang) {
    std::vector<std::uint8_t> p{
        0xba, 0x10, 0x00,  // mov dx, 0x10
        0xb0, 0x42,        // mov al, 0x42
        0xee,              // out dx, al
        0xfe, 0xc0,        // inc al
        0xee,              // out dx, al
        0xe4, 0x11,        // in al, 0x11
        0xfe, 0xc0,        // inc al
        0xee,              // out dx, al
    };
    if (hang) {
        p.push_back(0xeb);  // jmp $
        p.push_back(0xfe);
    } else {
        p.push_back(0xf4);  // hlt
    }
    return p;
}

std::vector<std::uint8_t> speed_program(std::uint32_t iterations) {
    std::vector<std::uint8_t> p{0x66, 0xb9};  // mov ecx, iterations
    for (int i = 0; i < 4; ++i)
        p.push_back(static_cast<std::uint8_t>(iterations >> (8 * i)));
    p.insert(p.end(), {
                          0x66, 0x49,  // dec ecx
                          0x75, 0xfc,  // jnz back to the dec
                          0xf4,        // hlt
                      });
    return p;
}

#elif defined(__aarch64__)
std::vector<std::uint8_t> check_program(bool hang) {
    static_assert(check_mmio_base == 0x20000 && check_output_port == 0x10 && check_input_port == 0x11);
    std::vector<std::uint8_t> p;
    put_le32(p, 0xd2a00041);  // movz x1, #0x2, lsl #16      x1 = check_mmio_base
    put_le32(p, 0x52800840);  // movz w0, #0x42
    put_le32(p, 0x39004020);  // strb w0, [x1, #0x10]         -> 0x42
    put_le32(p, 0x11000400);  // add w0, w0, #1
    put_le32(p, 0x39004020);  // strb w0, [x1, #0x10]         -> 0x43
    put_le32(p, 0x39404420);  // ldrb w0, [x1, #0x11]         <- 0x5a
    put_le32(p, 0x11000400);  // add w0, w0, #1
    put_le32(p, 0x39004020);  // strb w0, [x1, #0x10]         -> 0x5b
    if (hang)
        put_le32(p, 0x14000000);  // b .
    else
        put_system_off(p);
    return p;
}

std::vector<std::uint8_t> speed_program(std::uint32_t iterations) {
    std::vector<std::uint8_t> p;
    put_le32(p, 0x52800002 | ((iterations & 0xffff) << 5));  // movz w2, #lo
    put_le32(p, 0x72a00002 | ((iterations >> 16) << 5));     // movk w2, #hi, lsl #16
    put_le32(p, 0x71000442);                                  // subs w2, w2, #1
    put_le32(p, 0x54ffffe1);                                  // b.ne back to the subs
    put_system_off(p);
    return p;
}
#endif

std::vector<std::uint8_t> check_program_output() {
    return {0x42, 0x43, check_input_value + 1};
}

KvmCheckResult run_kvm_check(const KvmCheckOptions& o) {
    auto say = [&](const std::string& s) {
        if (o.on_event)
            o.on_event(s);
    };
    if (o.code.empty() || o.code.size() > check_max_code)
        throw KvmError(fmt::format("kvm-check: the program must be 1 to {} bytes, not {}", check_max_code, o.code.size()), 0);

    KvmCheckResult res;
    auto kvm = KvmSystem::open(o.device);
    res.api_version = kvm.api_version();
    if (res.api_version != expected_api_version)
        throw KvmError(fmt::format("{}: KVM API version {}, expected {}", o.device, res.api_version, expected_api_version), 0);
    say(fmt::format("KVM API version {}", res.api_version));

    auto vm = kvm.create_vm();
    prepare_vm(vm);
    auto memory = MemoryMapping::anonymous(guest_memory_size);
    std::copy(o.code.begin(), o.code.end(),
              reinterpret_cast<std::uint8_t*>(memory.data()) + check_code_address);
    UserMemoryRegion region(vm, {.slot = 0, .guest_phys = 0, .memory = memory.bytes()});
    auto vcpu = vm.create_vcpu(0);
    start_at(vm, vcpu, check_code_address);

    Deadline deadline(vcpu, o.timeout);
    while (res.exits < o.max_exits) {
        const std::uint32_t reason = vcpu.run();
        if (reason == KVM_EXIT_INTR) {
            if (deadline.expired()) {
                res.timed_out = true;
                res.final_exit = reason;
                res.final_rip = program_counter(vcpu);
                return res;
            }
            clear_vcpu_kick(vcpu);
            continue;
        }
        ++res.exits;
        if (reason == KVM_EXIT_IO) {
            IoExit io = vcpu.io();
            if (io.out) {
                if (io.port == check_output_port)
                    res.port_bytes.insert(res.port_bytes.end(), io.data.begin(), io.data.end());
                say(fmt::format("exit IO: out port {:#x}, {} byte(s): {}", io.port, io.data.size(), hex_bytes(io.data)));
            } else {
                // Every IN reads the answer byte; ports we do not model
                // read as all ones, like an empty ISA bus.
                const std::uint8_t v = io.port == check_input_port ? check_input_value : 0xff;
                std::fill(io.data.begin(), io.data.end(), v);
                say(fmt::format("exit IO: in port {:#x}, {} byte(s): answered {:02x}", io.port, io.data.size(), v));
            }
            continue;
        }
        if (reason == KVM_EXIT_MMIO) {
            // The same two "ports" as MMIO addresses (aarch64's program).
            MmioExit m = vcpu.mmio();
            const std::uint64_t port = m.address - check_mmio_base;
            if (m.write) {
                if (port == check_output_port)
                    res.port_bytes.insert(res.port_bytes.end(), m.data.begin(), m.data.end());
                say(fmt::format("exit MMIO: write {:#x}, {} byte(s): {}", m.address, m.data.size(), hex_bytes(m.data)));
            } else {
                const std::uint8_t v = port == check_input_port ? check_input_value : 0xff;
                std::fill(m.data.begin(), m.data.end(), v);
                say(fmt::format("exit MMIO: read {:#x}, {} byte(s): answered {:02x}", m.address, m.data.size(), v));
            }
            continue;
        }
        res.final_exit = reason;
        res.final_rip = program_counter(vcpu);
        say(fmt::format("exit {} at pc {:#x}", exit_reason_name(reason), res.final_rip));
        return res;
    }
    res.exit_limit = true;
    res.final_exit = KVM_EXIT_IO;
    res.final_rip = program_counter(vcpu);
    return res;
}

}  // namespace ktstr::vmm::kvm
