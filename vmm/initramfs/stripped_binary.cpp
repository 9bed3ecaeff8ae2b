#include "initramfs/stripped_binary.hpp"

#include <cerrno>
#include <stdexcept>

#include <elf.h>
#include <spawn.h>
#include <sys/wait.h>

#include "initramfs/content_key.hpp"
#include "initramfs/elf_dynamic.hpp"
#include "initramfs/image_cache.hpp"

extern char** environ;

namespace ktstr::vmm::initramfs {
namespace fs = std::filesystem;
namespace {

// The host's objcopy reads only its own architecture's files (Debian
// builds binutils per target): an arm64 file on another host goes through
// the cross binutils (binutils-aarch64-linux-gnu, which the cross compiler
// brings: scripts/setup_arm64.sh).
const char* objcopy_for(const fs::path& binary) {
#if defined(__aarch64__)
    (void)binary;
    return "objcopy";
#else
    try {
        const auto info = read_elf_dynamic(binary);
        return info && info->machine == EM_AARCH64 ? "aarch64-linux-gnu-objcopy" : "objcopy";
    } catch (const ElfError&) {
        return "objcopy";  // as before: objcopy then fails, and the file goes in unstripped
    }
#endif
}

}  // namespace

fs::path stripped_binary(const fs::path& binary) {
    try {
        const char* objcopy = objcopy_for(binary);
        const auto key = ContentKey().add("stripped-v1").add_file_identity(binary).hex();
        const auto name = "stripped-" + binary.filename().string() + "-" + key;
        return cached_file(name, [&](const fs::path& temp) {
                   const std::string in = binary.string(), out = temp.string();
                   const char* argv[] = {objcopy, "--strip-debug", in.c_str(), out.c_str(), nullptr};
                   pid_t pid = 0;
                   if (::posix_spawnp(&pid, objcopy, nullptr, nullptr, const_cast<char* const*>(argv), environ) != 0)
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
