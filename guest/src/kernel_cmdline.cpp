#include "ktstr/guest/kernel_cmdline.hpp"

#include <atomic>
#include <cstdint>

#include "ktstr/common/kernel_cmdline_params.hpp"
#include "ktstr/guest/bounded_file.hpp"
#include "ktstr/guest/paths.hpp"

namespace ktstr::guest {

std::string read_kernel_cmdline() {
    auto f = read_bounded_file(paths().cmdline, 64 * 1024);
    return f ? std::move(f->bytes) : std::string{};
}

bool is_guest() {
    // Cached per paths generation; a race only computes the same value twice.
    static std::atomic<std::uint64_t> cached_generation{~std::uint64_t{0}};
    static std::atomic<bool> cached_value{false};
    const auto gen = paths_generation();
    if (cached_generation.load(std::memory_order_acquire) == gen)
        return cached_value.load(std::memory_order_relaxed);
    bool v = cmdline_params::cmdline_has_token(read_kernel_cmdline(), cmdline_params::guest_word);
    cached_value.store(v, std::memory_order_relaxed);
    cached_generation.store(gen, std::memory_order_release);
    return v;
}

}  // namespace ktstr::guest
