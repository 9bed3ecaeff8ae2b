// build_fdt: the arm64 boot device tree, written node by node with libfdt's
// sequential-write API (fdt_create ... fdt_finish).
#include "arch/aarch64/fdt_builder.hpp"

#include <algorithm>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>

#include <fmt/core.h>
#include <libfdt.h>

#include "arch/aarch64/layout.hpp"

namespace ktstr::vmm::aarch64 {
namespace {

// MPIDR_EL1 affinity fields; bit 31 (RES1) and the MT/U bits are not part
// of a cpu node's reg.
constexpr std::uint64_t mpidr_aff_mask = 0xff'00ff'ffffULL;
constexpr std::uint64_t mpidr_aff3_mask = 0xff'0000'0000ULL;
// SPI numbers run 0..987 (INTIDs 32..1019).
constexpr std::uint32_t max_spi = 987;

// A property value in device tree byte order: big-endian 32-bit cells.
class Cells {
public:
    Cells& u32(std::uint32_t v) {
        for (int shift = 24; shift >= 0; shift -= 8)
            bytes_.push_back(static_cast<std::uint8_t>(v >> shift));
        return *this;
    }
    Cells& u64(std::uint64_t v) { return u32(static_cast<std::uint32_t>(v >> 32)).u32(static_cast<std::uint32_t>(v)); }
    // A reg entry under #address-cells = #size-cells = 2.
    Cells& range(const GuestRange& r) { return u64(r.start).u64(r.size); }
    // A GICv3 interrupt specifier: type, number, flags.
    Cells& irq(std::uint32_t type, std::uint32_t number, std::uint32_t flags) { return u32(type).u32(number).u32(flags); }
    byte_view view() const noexcept { return bytes_; }

private:
    byte_buffer bytes_;
};

// libfdt's sequential writer over a buffer that grows on demand, up to the
// 2 MiB the arm64 kernel accepts.
class FdtWriter {
public:
    FdtWriter() : buf_(initial_size) { check(fdt_create(buf_.data(), static_cast<int>(buf_.size())), "fdt_create"); }

    void add_reservation(const GuestRange& r) {
        call([&] { return fdt_add_reservemap_entry(fdt(), r.start, r.size); }, "fdt_add_reservemap_entry");
    }
    void finish_reservemap() {
        call([&] { return fdt_finish_reservemap(fdt()); }, "fdt_finish_reservemap");
    }
    void begin_node(const std::string& name) {
        call([&] { return fdt_begin_node(fdt(), name.c_str()); }, "fdt_begin_node");
    }
    void end_node() {
        call([&] { return fdt_end_node(fdt()); }, "fdt_end_node");
    }
    void prop(const char* name, byte_view value) {
        call([&] { return fdt_property(fdt(), name, value.data(), static_cast<int>(value.size())); }, name);
    }
    void prop(const char* name, const Cells& cells) { prop(name, cells.view()); }
    void prop_u32(const char* name, std::uint32_t v) { prop(name, Cells().u32(v)); }
    void prop_u64(const char* name, std::uint64_t v) { prop(name, Cells().u64(v)); }
    void prop_empty(const char* name) { prop(name, byte_view{}); }
    // One NUL-terminated string, or a string list ("a\0b\0").
    void prop_strings(const char* name, std::initializer_list<std::string_view> strings) {
        byte_buffer v;
        for (auto s : strings) {
            v.insert(v.end(), s.begin(), s.end());
            v.push_back(0);
        }
        prop(name, v);
    }
    void prop_string(const char* name, std::string_view s) { prop_strings(name, {s}); }

    byte_buffer finish() && {
        call([&] { return fdt_finish(fdt()); }, "fdt_finish");
        buf_.resize(fdt_totalsize(fdt()));
        return std::move(buf_);
    }

private:
    static constexpr std::size_t initial_size = 16 * 1024;

    void* fdt() noexcept { return buf_.data(); }

    static void check(int err, const char* what) {
        if (err < 0)
            throw std::runtime_error(fmt::format("device tree: {}: {}", what, fdt_strerror(err)));
    }

    // Runs one libfdt write; on FDT_ERR_NOSPACE doubles the buffer and runs it again.
    template <typename F>
    void call(F&& write, const char* what) {
        for (;;) {
            int err = write();
            if (err != -FDT_ERR_NOSPACE)
                return check(err, what);
            if (buf_.size() >= fdt_max_size)
                throw std::runtime_error(fmt::format("device tree: {}: the blob would exceed the 2 MiB arm64 limit", what));
            byte_buffer bigger(std::min<std::size_t>(buf_.size() * 2, fdt_max_size));
            check(fdt_resize(buf_.data(), bigger.data(), static_cast<int>(bigger.size())), "fdt_resize");
            buf_.swap(bigger);
        }
    }

    byte_buffer buf_;
};

// The map comes from layout_aarch64 or from a caller assembling its own:
// check the invariants the tree relies on before writing anything.
void check_cpu_count(std::uint32_t cpus) {
    if (cpus == 0 || cpus > max_cpus)
        throw LayoutError(fmt::format("memory map has {} cpus; 1 to {} are supported", cpus, max_cpus));
}

void check_map(const MemoryMap& map, std::span<const std::uint64_t> mpidrs) {
    check_cpu_count(map.cpus);
    if (mpidrs.size() != map.cpus)
        throw LayoutError(fmt::format("{} MPIDR values given for {} cpus", mpidrs.size(), map.cpus));
    std::vector<std::uint64_t> affinities;
    for (auto m : mpidrs)
        affinities.push_back(m & mpidr_aff_mask);
    std::sort(affinities.begin(), affinities.end());
    if (std::adjacent_find(affinities.begin(), affinities.end()) != affinities.end())
        throw LayoutError("two cpus share one MPIDR affinity");

    if (map.ram.empty())
        throw LayoutError("memory map has no RAM");
    for (std::size_t i = 0; i < map.ram.size(); ++i) {
        const auto& r = map.ram[i];
        if (r.size == 0 || r.end() < r.start || r.end() > max_guest_phys)
            throw LayoutError(fmt::format("RAM range {:#x}+{:#x} is empty or beyond the 40-bit limit", r.start, r.size));
        if (i > 0 && r.start < map.ram[i - 1].end())
            throw LayoutError("RAM ranges are not sorted and disjoint");
    }
    if (map.shm.size == 0 || map.shm.end() < map.shm.start || map.shm.end() > max_guest_phys)
        throw LayoutError("SHM region is empty or beyond the 40-bit limit");
    for (const auto& r : map.ram)
        if (r.overlaps(map.shm))
            throw LayoutError(fmt::format("SHM region {:#x}+{:#x} overlaps RAM {:#x}+{:#x}", map.shm.start,
                                          map.shm.size, r.start, r.size));
    if (map.initrd) {
        const auto& ird = *map.initrd;
        bool inside = ird.size != 0 && ird.end() >= ird.start &&
                      std::any_of(map.ram.begin(), map.ram.end(), [&](const GuestRange& r) {
                          return ird.start >= r.start && ird.end() <= r.end();
                      });
        if (!inside)
            throw LayoutError(fmt::format("initrd {:#x}+{:#x} is not inside one RAM range", ird.start, ird.size));
    }
    // Every window the tree describes, and every SPI, belongs to one device.
    std::vector<GuestRange> taken = map.ram;
    taken.push_back(map.shm);
    taken.push_back({gic_dist_base, gic_dist_size});
    taken.push_back(gic_redist_range(map.cpus));
    std::vector<std::uint32_t> spis;
    for (std::uint32_t i = 0; i < uart_count; ++i) {
        taken.push_back({uart_address(i), uart_size});
        spis.push_back(uart_spi(i));
    }
    for (const auto& d : map.mmio) {
        const auto& w = d.window;
        if (w.size == 0 || w.end() < w.start || w.end() > max_guest_phys ||
            std::any_of(taken.begin(), taken.end(), [&](const GuestRange& r) { return r.overlaps(w); }))
            throw LayoutError(fmt::format("{} window {:#x}+{:#x} is empty or overlaps RAM, SHM or another device",
                                          d.name, w.start, w.size));
        taken.push_back(w);
        if (d.irq > max_spi || std::find(spis.begin(), spis.end(), d.irq) != spis.end())
            throw LayoutError(fmt::format("{} uses SPI {}, which is taken or beyond the GIC's SPIs 0 to {}", d.name,
                                          d.irq, max_spi));
        spis.push_back(d.irq);
    }
    if (map.cmdline.find('\0') != std::string::npos || map.cmdline.size() >= cmdline_max)
        throw LayoutError(fmt::format("kernel command line has a NUL byte or exceeds {} bytes", cmdline_max - 1));
}

std::string uart_node_name(std::uint32_t i) { return fmt::format("serial@{:x}", uart_address(i)); }

void write_chosen(FdtWriter& w, const MemoryMap& map) {
    w.begin_node("chosen");
    w.prop_string("bootargs", map.cmdline);
    w.prop_string("stdout-path", "/" + uart_node_name(0));
    if (map.initrd) {
        w.prop_u64("linux,initrd-start", map.initrd->start);
        w.prop_u64("linux,initrd-end", map.initrd->end());
    }
    w.end_node();
}

void write_aliases(FdtWriter& w) {
    w.begin_node("aliases");
    for (std::uint32_t i = 0; i < uart_count; ++i)
        w.prop_string(fmt::format("serial{}", i).c_str(), "/" + uart_node_name(i));
    w.end_node();
}

void write_memory(FdtWriter& w, const MemoryMap& map) {
    for (const auto& r : map.ram) {
        w.begin_node(fmt::format("memory@{:x}", r.start));
        w.prop_string("device_type", "memory");
        w.prop("reg", Cells().range(r));
        w.end_node();
    }
}

// The SHM region is outside every /memory node already; reserving it as
// well keeps it out of the kernel's hands should anything (a bootloader, a
// kexec'd kernel) describe the whole slot as memory.
void write_reserved_memory(FdtWriter& w, const MemoryMap& map) {
    w.begin_node("reserved-memory");
    w.prop_u32("#address-cells", 2);
    w.prop_u32("#size-cells", 2);
    w.prop_empty("ranges");
    w.begin_node(fmt::format("ktstr-shm@{:x}", map.shm.start));
    w.prop("reg", Cells().range(map.shm));
    w.prop_empty("no-map");
    w.end_node();
    w.end_node();
}

void write_cpus(FdtWriter& w, std::span<const std::uint64_t> mpidrs) {
    bool aff3 = std::any_of(mpidrs.begin(), mpidrs.end(), [](std::uint64_t m) { return (m & mpidr_aff3_mask) != 0; });
    w.begin_node("cpus");
    w.prop_u32("#address-cells", aff3 ? 2 : 1);
    w.prop_u32("#size-cells", 0);
    for (auto mpidr : mpidrs) {
        const std::uint64_t reg = mpidr & mpidr_aff_mask;
        w.begin_node(fmt::format("cpu@{:x}", reg));
        w.prop_string("device_type", "cpu");
        w.prop_string("compatible", "arm,arm-v8");
        if (aff3)
            w.prop_u64("reg", reg);
        else
            w.prop_u32("reg", static_cast<std::uint32_t>(reg));
        w.prop_string("enable-method", "psci");
        w.end_node();
    }
    w.end_node();
}

void write_psci(FdtWriter& w) {
    w.begin_node("psci");
    // KVM implements PSCI 1.x; "arm,psci-0.2" lets older kernels bind too.
    w.prop_strings("compatible", {"arm,psci-1.0", "arm,psci-0.2"});
    w.prop_string("method", "hvc");
    w.end_node();
}

void write_gic(FdtWriter& w, std::uint32_t cpus) {
    w.begin_node(fmt::format("interrupt-controller@{:x}", gic_dist_base));
    w.prop_string("compatible", "arm,gic-v3");
    w.prop_u32("#interrupt-cells", 3);
    // No children (no ITS): the GIC translates no addresses.
    w.prop_u32("#address-cells", 0);
    w.prop_empty("interrupt-controller");
    w.prop("reg", Cells().range({gic_dist_base, gic_dist_size}).range(gic_redist_range(cpus)));
    w.prop_u32("phandle", gic_phandle);
    w.end_node();
}

void write_timer(FdtWriter& w) {
    w.begin_node("timer");
    w.prop_string("compatible", "arm,armv8-timer");
    Cells irqs;
    // KVM's vGIC treats PPIs as level-sensitive; the polarity cell is not
    // modelled, so this follows QEMU's virt machine.
    for (auto ppi : timer_ppis)
        irqs.irq(gic_fdt_ppi, ppi, irq_type_level_high);
    w.prop("interrupts", irqs);
    // The counter keeps running in every power state a vCPU can enter.
    w.prop_empty("always-on");
    w.end_node();
}

// SPIs are edge-rising: an irqfd write latches the interrupt pending in
// the vGIC and needs no resample eventfd, for the UARTs and virtio alike.
void write_uarts(FdtWriter& w) {
    for (std::uint32_t i = 0; i < uart_count; ++i) {
        w.begin_node(uart_node_name(i));
        w.prop_string("compatible", "ns16550a");
        w.prop("reg", Cells().range({uart_address(i), uart_size}));
        w.prop("interrupts", Cells().irq(gic_fdt_spi, uart_spi(i), irq_type_edge_rising));
        // 8250_of refuses a port without a clock.
        w.prop_u32("clock-frequency", uart_clock_hz);
        w.end_node();
    }
}

void write_virtio_mmio(FdtWriter& w, const MemoryMap& map) {
    for (const auto& d : map.mmio) {
        w.begin_node(fmt::format("virtio_mmio@{:x}", d.window.start));
        w.prop_string("compatible", "virtio,mmio");
        w.prop("reg", Cells().range(d.window));
        w.prop("interrupts", Cells().irq(gic_fdt_spi, d.irq, irq_type_edge_rising));
        // Guest RAM is cache-coherent with the VMM that reads it.
        w.prop_empty("dma-coherent");
        w.end_node();
    }
}

}  // namespace

std::uint64_t kvm_default_mpidr(std::uint32_t index) noexcept {
    std::uint64_t aff0 = index & 0x0f;
    std::uint64_t aff1 = (index >> 4) & 0xff;
    std::uint64_t aff2 = (index >> 12) & 0xff;
    return (1ULL << 31) | (aff2 << 16) | (aff1 << 8) | aff0;
}

byte_buffer build_fdt(const MemoryMap& map) {
    check_cpu_count(map.cpus);
    std::vector<std::uint64_t> mpidrs;
    for (std::uint32_t i = 0; i < map.cpus; ++i)
        mpidrs.push_back(kvm_default_mpidr(i));
    return build_fdt(map, mpidrs);
}

byte_buffer build_fdt(const MemoryMap& map, std::span<const std::uint64_t> mpidrs) {
    check_map(map, mpidrs);
    FdtWriter w;
    w.add_reservation(map.shm);
    w.finish_reservemap();

    w.begin_node("");
    w.prop_string("compatible", "linux,dummy-virt");
    w.prop_string("model", "ktstr-vmm");
    w.prop_u32("#address-cells", 2);
    w.prop_u32("#size-cells", 2);
    w.prop_u32("interrupt-parent", gic_phandle);
    write_chosen(w, map);
    write_aliases(w);
    write_memory(w, map);
    write_reserved_memory(w, map);
    write_cpus(w, mpidrs);
    write_psci(w);
    write_gic(w, map.cpus);
    write_timer(w);
    write_uarts(w);
    write_virtio_mmio(w, map);
    w.end_node();
    return std::move(w).finish();
}

}  // namespace ktstr::vmm::aarch64
