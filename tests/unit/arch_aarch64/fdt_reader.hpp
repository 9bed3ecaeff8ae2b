// Reads a device tree blob back with libfdt into plain containers, so the
// tests can compare what the builder wrote with what the spec asks for.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <libfdt.h>

#include "ktstr/common/bytes.hpp"
#include "memory/memory_map.hpp"

namespace ktstr::vmm::aarch64::test {

// node path -> property name -> raw value
using Tree = std::map<std::string, std::map<std::string, byte_buffer>>;
// node path -> property names
using Shape = std::map<std::string, std::set<std::string>>;

inline Tree read_tree(const byte_buffer& blob) {
    Tree tree;
    const void* fdt = blob.data();
    int depth = 0;
    for (int node = 0; node >= 0 && depth >= 0; node = fdt_next_node(fdt, node, &depth)) {
        char path[512];
        if (fdt_get_path(fdt, node, path, sizeof path) < 0)
            throw std::runtime_error("fdt_get_path failed");
        auto& props = tree[path];
        int prop;
        fdt_for_each_property_offset(prop, fdt, node) {
            const char* name = nullptr;
            int len = 0;
            auto* value = static_cast<const std::uint8_t*>(fdt_getprop_by_offset(fdt, prop, &name, &len));
            if (value == nullptr || len < 0)
                throw std::runtime_error("fdt_getprop_by_offset failed");
            props[name] = byte_buffer(value, value + len);
        }
    }
    return tree;
}

inline Shape shape_of(const Tree& tree) {
    Shape s;
    for (const auto& [path, props] : tree) {
        auto& names = s[path];
        for (const auto& [name, value] : props)
            names.insert(name);
    }
    return s;
}

// Big-endian 32-bit cells of a property value.
inline std::vector<std::uint32_t> cells(const byte_buffer& v) {
    if (v.size() % 4 != 0)
        throw std::runtime_error("property is not a whole number of cells");
    std::vector<std::uint32_t> out;
    for (std::size_t i = 0; i < v.size(); i += 4)
        out.push_back(std::uint32_t{v[i]} << 24 | std::uint32_t{v[i + 1]} << 16 | std::uint32_t{v[i + 2]} << 8 |
                      std::uint32_t{v[i + 3]});
    return out;
}

// A reg of (2 address cells, 2 size cells) pairs.
inline std::vector<GuestRange> ranges_of(const byte_buffer& v) {
    auto c = cells(v);
    if (c.size() % 4 != 0)
        throw std::runtime_error("reg is not a list of 2+2-cell entries");
    std::vector<GuestRange> out;
    for (std::size_t i = 0; i < c.size(); i += 4)
        out.push_back({std::uint64_t{c[i]} << 32 | c[i + 1], std::uint64_t{c[i + 2]} << 32 | c[i + 3]});
    return out;
}

inline std::uint64_t u64_of(const byte_buffer& v) {
    auto c = cells(v);
    if (c.size() != 2)
        throw std::runtime_error("property is not one 64-bit value");
    return std::uint64_t{c[0]} << 32 | c[1];
}

// One NUL-terminated string; a string list comes back with NULs inside.
inline std::string string_of(const byte_buffer& v) {
    if (v.empty() || v.back() != 0)
        throw std::runtime_error("property is not a NUL-terminated string");
    return std::string(v.begin(), v.end() - 1);
}

}  // namespace ktstr::vmm::aarch64::test
