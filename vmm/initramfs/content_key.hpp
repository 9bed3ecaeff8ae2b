// A key naming a built image by everything it was made from: the spec's
// bytes and, for each input file, its identity (device, inode, size,
// modification and change times in nanoseconds). Any write to a file or
// its replacement changes its change time, so the key changes whenever an
// input's content can have; unchanged inputs give the same key without
// reading them.
//
// 64-bit FNV-1a over length-prefixed fields: stable across runs and builds
// (std::hash is not), and fields cannot run into each other.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace ktstr::vmm::initramfs {

class ContentKey {
public:
    ContentKey& add(std::string_view bytes) noexcept;
    ContentKey& add(std::uint64_t v) noexcept;
    // Throws std::runtime_error when the file cannot be stat'ed.
    ContentKey& add_file_identity(const std::filesystem::path& file);
    std::string hex() const;

private:
    void mix(const void* p, std::size_t n) noexcept;
    std::uint64_t h_ = 0xcbf29ce484222325ull;
};

}  // namespace ktstr::vmm::initramfs
