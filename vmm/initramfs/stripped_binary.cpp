#include "initramfs/stripped_binary.hpp"

#include <cerrno>
#include <stdexcept>

#include <spawn.h>
#include <sys/wait.h>

#include "initramfs/content_key.hpp"
#include "initramfs/image_cache.hpp"

extern char** environ;

namespace ktstr::vmm::initramfs {
namespace fs = std::filesystem;

fs::path stripped_binary(const fs::path& binary) {
    try {
        const auto key = ContentKey().add("stripped-v1").add_file_identity(binary).hex();
        const auto name = "stripped-" + binary.filename().string() + "-" + key;
        return cached_file(name, [&](const fs::path& temp) {
                   const std::string in = binary.string(), out = temp.string();
                   const char* argv[] = {"objcopy", "--strip-debug", in.c_str(), out.c_str(), nullptr};
                   pid_t pid = 0;
                   if (::posix_spawnp(&pid, "objcopy", nullptr, nullptr, const_cast<char* const*>(argv), environ) != 0)
                       throw std::runtime_error("objcopy is not available");
                   int st = 0;
                   while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
                   }
                   if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
                       throw std::runtime_error("objcopy failed");
               })
            .path;
    } catch (const std::exception&) {
        return binary;
    }
}

}  // namespace ktstr::vmm::initramfs
