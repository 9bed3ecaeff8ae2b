// The blob as the Device Tree Compiler sees it: `dtc -I dtb -O dts`
// decompiles it without a warning, and its source text has exactly the
// nodes and properties of the spec, the /memreserve/ entry and the SHM
// reservation. An independent reader: dtc shares no code with our builder
// beyond libfdt's format.
#include <catch2/catch.hpp>

#include <sstream>
#include <string>
#include <vector>

#include "arch/aarch64/fdt_builder.hpp"
#include "arch/aarch64/layout.hpp"
#include "expected_shape.hpp"
#include "ktstr/test/file_contents.hpp"
#include "ktstr/test/shell_command.hpp"
#include "ktstr/test/temp_dir.hpp"

using namespace ktstr;
using namespace ktstr::vmm;
using namespace ktstr::vmm::aarch64;
using namespace ktstr::vmm::aarch64::test;

namespace {

struct Decompiled {
    int status = -1;
    std::string dts;
    std::string warnings;
};

Decompiled decompile(const byte_buffer& blob) {
    const ktstr::test::TempDir dir("dtb");
    const auto in = dir.write("in.dtb", {reinterpret_cast<const char*>(blob.data()), blob.size()});
    const auto err = dir.path() / "stderr";
    const auto r = ktstr::test::shell(std::string(KTSTR_DTC) + " -I dtb -O dts -o - " + in.string() + " 2>" + err.string());
    return {r.status, r.out, ktstr::test::read_text(err)};
}

struct Source {
    Shape shape;                                  // node path -> property names
    std::map<std::string, std::string> values;    // "path:prop" -> value text
    std::vector<GuestRange> memreserve;
};

std::string trim(const std::string& s) {
    auto b = s.find_first_not_of(" \t");
    auto e = s.find_last_not_of(" \t");
    return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// Reads dtc's own output format: one node header "name {" or property
// "name = value;" / "name;" per line, "};" closing a node.
Source parse_dts(const std::string& dts) {
    Source src;
    std::vector<std::string> stack;
    auto path = [&] {
        std::string p;
        for (std::size_t i = 1; i < stack.size(); ++i)
            p += "/" + stack[i];
        return p.empty() ? std::string("/") : p;
    };
    std::istringstream in(dts);
    for (std::string line; std::getline(in, line);) {
        line = trim(line);
        if (line.empty() || line == "/dts-v1/;")
            continue;
        if (line.starts_with("/memreserve/")) {
            std::istringstream f(line.substr(12));
            std::string a, s;
            f >> a >> s;
            src.memreserve.push_back({std::stoull(a, nullptr, 16), std::stoull(s, nullptr, 16)});
        } else if (line.ends_with(" {")) {
            stack.push_back(line.substr(0, line.size() - 2));
            src.shape[path()];
        } else if (line == "};") {
            REQUIRE_FALSE(stack.empty());
            stack.pop_back();
        } else {
            REQUIRE(line.ends_with(";"));
            REQUIRE_FALSE(stack.empty());
            line.pop_back();
            auto eq = line.find(" = ");
            std::string name = eq == std::string::npos ? line : line.substr(0, eq);
            src.shape[path()].insert(name);
            src.values[path() + ":" + name] = eq == std::string::npos ? "" : line.substr(eq + 3);
        }
    }
    CHECK(stack.empty());
    return src;
}

// "<0x00 0x40000000 ...>" -> the cells.
std::vector<std::uint64_t> cell_text(const std::string& v) {
    REQUIRE(v.size() >= 2);
    REQUIRE(v.front() == '<');
    REQUIRE(v.back() == '>');
    std::istringstream in(v.substr(1, v.size() - 2));
    std::vector<std::uint64_t> out;
    for (std::string t; in >> t;)
        out.push_back(std::stoull(t, nullptr, 0));
    return out;
}

GuestRange range_text(const std::string& v) {
    auto c = cell_text(v);
    REQUIRE(c.size() == 4);
    return {c[0] << 32 | c[1], c[2] << 32 | c[3]};
}

}  // namespace

TEST_CASE("aarch64 fdt: dtc decompiles the blob cleanly, with every node and property", "[aarch64][fdt][dtc]") {
    struct Case {
        std::uint64_t memory_mib, shm, initrd;
        std::uint32_t cpus;
    };
    const Case cases[] = {
        {256, 1 * mib, 0, 1},
        {3072, 2 * mib, 16 * mib, 4},   // SHM ends at 4 GiB
        {3073, 2 * mib, 16 * mib, 18},  // SHM straddles 4 GiB
        {3076, 4 * mib, 0, 2},          // SHM starts at 4 GiB
        {16 * 1024, 64 * 1024, 1 * mib, 128},
    };
    for (const auto& c : cases) {
        CAPTURE(c.memory_mib, c.shm, c.initrd, c.cpus);
        LayoutRequestAarch64 r;
        r.memory_bytes = c.memory_mib * mib;
        r.shm_bytes = c.shm;
        r.initrd_bytes = c.initrd;
        r.cpus = c.cpus;
        auto map = layout_aarch64(r);
        auto d = decompile(build_fdt(map));
        REQUIRE(d.status == 0);
        CHECK(d.warnings.empty());
        auto src = parse_dts(d.dts);

        std::vector<std::uint64_t> aff;
        for (std::uint32_t i = 0; i < c.cpus; ++i)
            aff.push_back(kvm_default_mpidr(i) & ~(1ULL << 31));
        CHECK(src.shape == expected_shape(map, aff));

        // The SHM region: in /memreserve/, in a no-map reserved-memory
        // node, in no /memory node, and named on the command line.
        CHECK(src.memreserve == std::vector<GuestRange>{map.shm});
        const auto shm_node = fmt::format("/reserved-memory/ktstr-shm@{:x}", map.shm.start);
        CHECK(range_text(src.values.at(shm_node + ":reg")) == map.shm);
        CHECK(src.values.count(shm_node + ":no-map") == 1);
        for (const auto& [path, props] : src.shape) {
            if (!path.starts_with("/memory@"))
                continue;
            CHECK(src.values.at(path + ":device_type") == "\"memory\"");
            auto ram = range_text(src.values.at(path + ":reg"));
            CHECK(ram == map.ram.at(0));
            CHECK_FALSE(ram.overlaps(map.shm));
        }
        CHECK(src.values.at("/chosen:bootargs") == "\"" + map.cmdline + "\"");
        CHECK_THAT(src.values.at("/chosen:bootargs"),
                   Catch::Contains(fmt::format("KTSTR_SHM_BASE={:#x} KTSTR_SHM_SIZE={:#x}", map.shm.start,
                                               map.shm.size)));
        CHECK(src.values.at("/:compatible") == "\"linux,dummy-virt\"");
        // dtc 1.6 prints a string list as one string with an escaped NUL.
        CHECK(src.values.at("/psci:compatible") == "\"arm,psci-1.0\\0arm,psci-0.2\"");
        CHECK(src.values.at("/interrupt-controller@8000000:compatible") == "\"arm,gic-v3\"");
        CHECK(src.values.at("/timer:compatible") == "\"arm,armv8-timer\"");
        CHECK(cell_text(src.values.at("/timer:interrupts")).size() == 12);
        if (map.initrd) {
            auto start = cell_text(src.values.at("/chosen:linux,initrd-start"));
            auto end = cell_text(src.values.at("/chosen:linux,initrd-end"));
            REQUIRE(start.size() == 2);
            REQUIRE(end.size() == 2);
            CHECK((start[0] << 32 | start[1]) == map.initrd->start);
            CHECK((end[0] << 32 | end[1]) == map.initrd->end());
        }
    }
}
