#include "devices/boot_timer.hpp"

#include <algorithm>

namespace ktstr::vmm::devices {

void BootTimer::write(std::uint64_t offset, byte_view data) noexcept {
    if (offset != 0 || data.size() != sizeof(std::uint32_t))
        return;
    const std::uint32_t value = load_le<std::uint32_t>(data.data());
    if (value == 0 || value > boot_mark_count)
        return;
    std::int64_t expected = 0;
    const std::int64_t now = clock::now().time_since_epoch().count();
    first_[value - 1].compare_exchange_strong(expected, std::max<std::int64_t>(now, 1));
}

void BootTimer::read(std::uint64_t, mutable_byte_view data) noexcept { std::fill(data.begin(), data.end(), 0); }

std::optional<BootTimer::clock::time_point> BootTimer::first(BootMark mark) const noexcept {
    const auto index = static_cast<std::uint32_t>(mark);
    if (index == 0 || index > boot_mark_count)
        return std::nullopt;
    const std::int64_t t = first_[index - 1].load();
    if (t == 0)
        return std::nullopt;
    return clock::time_point(clock::duration(t));
}

}  // namespace ktstr::vmm::devices
