#include "ktstr/guest/paths.hpp"

#include <atomic>
#include <mutex>

namespace ktstr::guest {
namespace {

std::mutex g_mutex;
Paths g_paths;
std::atomic<std::uint64_t> g_generation{0};

}  // namespace

Paths paths() {
    std::lock_guard lk(g_mutex);
    return g_paths;
}

void set_paths(Paths p) {
    std::lock_guard lk(g_mutex);
    g_paths = std::move(p);
    g_generation.fetch_add(1, std::memory_order_acq_rel);
}

std::uint64_t paths_generation() noexcept { return g_generation.load(std::memory_order_acquire); }

}  // namespace ktstr::guest
