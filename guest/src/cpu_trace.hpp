// The CPUs a worker was seen on (sched_getcpu after each unit of work) and
// how often that changed: its migrations, as far as sampling between units
// can see them (two moves inside one unit look like one, or none).
#pragma once

#include <sched.h>

#include <bitset>
#include <cstdint>
#include <vector>

namespace ktstr::guest {

class CpuTrace {
public:
    void note(int cpu) noexcept {
        if (cpu < 0 || cpu >= CPU_SETSIZE)
            return;  // sched_getcpu failed: nothing seen
        if (last_ >= 0 && cpu != last_)
            ++migrations_;
        last_ = cpu;
        seen_.set(static_cast<std::size_t>(cpu));
    }
    std::uint64_t migrations() const noexcept { return migrations_; }
    std::vector<int> cpus() const {
        std::vector<int> v;
        for (std::size_t i = 0; i < seen_.size(); ++i)
            if (seen_.test(i))
                v.push_back(static_cast<int>(i));
        return v;
    }

private:
    int last_ = -1;
    std::uint64_t migrations_ = 0;
    std::bitset<CPU_SETSIZE> seen_;
};

}  // namespace ktstr::guest
