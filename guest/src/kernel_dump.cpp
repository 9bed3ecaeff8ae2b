#include "ktstr/guest/kernel_dump.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>
#include <vector>

#include "ktstr/common/bytes.hpp"
#include "ktstr/common/unique_fd.hpp"
#include "ktstr/guest/paths.hpp"
#include "ktstr/guest/senders.hpp"
#include "warning.hpp"

namespace ktstr::guest {

bool trigger_sysrq_dump() {
    const auto path = paths().sysrq_trigger;
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd || ::write(fd.get(), "D", 1) != 1) {
        warn("dump: cannot write " + path + ": " + std::strerror(errno));
        return false;
    }
    return true;
}

std::string collect_kernel_log(KernelLog& log, const KernelLogLimits& limits) {
    std::string text;
    if (!log.is_open())
        return text;
    using clock = std::chrono::steady_clock;
    const auto start = clock::now();
    auto last_record = start;
    std::uint64_t dropped = 0;
    std::vector<KmsgRecord> records;
    for (;;) {
        records.clear();
        // Bounded per pass by what can still be kept, plus one read.
        log.read_available(records, limits.max_bytes);
        const auto now = clock::now();
        if (!records.empty())
            last_record = now;
        for (const auto& r : records) {
            auto line = format_dmesg_line(r);
            if (dropped == 0 && text.size() + line.size() <= limits.max_bytes)
                text += line;
            else
                dropped += line.size();
        }
        if (dropped != 0 || now - last_record >= limits.quiet || now - start >= limits.total)
            break;
        std::this_thread::sleep_for(limits.poll);
    }
    if (dropped != 0)
        text += "[ktstr: " + std::to_string(dropped) + "+ bytes of kernel log beyond the " +
                std::to_string(limits.max_bytes) + "-byte limit not sent]\n";
    return text;
}

std::string collect_dump_trace(DumpTrace& trace, std::size_t max_bytes) {
    std::string text;
    trace.read_available(text, max_bytes, "sched_ext_dump: ");
    return text;
}

std::size_t send_dmesg_text(std::string_view text) { return send_chunked(&send_dmesg, as_bytes(text)); }

}  // namespace ktstr::guest
