// A directory made beside where its result will go (so the result can be
// renamed into place: same filesystem) and removed, with whatever is left
// in it, when the object goes: how the kernel cache makes things appear
// whole or not at all.
#pragma once

#include <filesystem>
#include <string_view>

namespace ktstr::vmm::kernel {

class ScratchDir {
public:
    // Makes parent/<prefix>XXXXXX (mkdtemp: mode 0700). Throws
    // std::runtime_error naming the parent when it cannot.
    ScratchDir(const std::filesystem::path& parent, std::string_view prefix);
    ~ScratchDir();
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    const std::filesystem::path& path() const noexcept { return path_; }

private:
    std::filesystem::path path_;
};

}  // namespace ktstr::vmm::kernel
