#include "initramfs/content_key.hpp"

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <sys/stat.h>

#include <fmt/core.h>

namespace ktstr::vmm::initramfs {

void ContentKey::mix(const void* p, std::size_t n) noexcept {
    const auto* b = static_cast<const unsigned char*>(p);
    for (std::size_t i = 0; i < n; ++i) {
        h_ ^= b[i];
        h_ *= 0x100000001b3ull;
    }
}

ContentKey& ContentKey::add(std::uint64_t v) noexcept {
    mix(&v, sizeof v);
    return *this;
}

ContentKey& ContentKey::add(std::string_view bytes) noexcept {
    add(static_cast<std::uint64_t>(bytes.size()));
    mix(bytes.data(), bytes.size());
    return *this;
}

ContentKey& ContentKey::add_file_identity(const std::filesystem::path& file) {
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0)
        throw std::runtime_error(fmt::format("{}: {}", file.string(), std::strerror(errno)));
    add(static_cast<std::uint64_t>(st.st_dev)).add(static_cast<std::uint64_t>(st.st_ino));
    add(static_cast<std::uint64_t>(st.st_size));
    add(static_cast<std::uint64_t>(st.st_mtim.tv_sec)).add(static_cast<std::uint64_t>(st.st_mtim.tv_nsec));
    add(static_cast<std::uint64_t>(st.st_ctim.tv_sec)).add(static_cast<std::uint64_t>(st.st_ctim.tv_nsec));
    return *this;
}

std::string ContentKey::hex() const { return fmt::format("{:016x}", h_); }

}  // namespace ktstr::vmm::initramfs
