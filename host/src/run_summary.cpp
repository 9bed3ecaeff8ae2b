#include "ktstr/host/run_summary.hpp"

#include <cstdio>

namespace ktstr::host {
namespace {

std::string line(const char* fmt, auto... args) {
    char buf[256];
    const int n = std::snprintf(buf, sizeof buf, fmt, args...);
    return std::string(buf, n < 0 ? 0 : std::min<std::size_t>(static_cast<std::size_t>(n), sizeof buf - 1)) + "\n";
}

unsigned long long u(std::uint64_t v) { return v; }

std::uint64_t count_of(const std::map<std::string, std::uint64_t>& m, const std::string& tag) {
    const auto it = m.find(tag);
    return it == m.end() ? 0 : it->second;
}

}  // namespace

std::string format_run_summary(const RunResult& r, int exit_status, const std::string& exit_reason) {
    std::uint64_t shm_frames = 0;
    for (const auto& [tag, n] : r.shm_message_counts)
        shm_frames += n;
    const std::uint64_t bulk_frames = r.frames - std::min(r.frames, shm_frames);
    const std::uint64_t shm_crc = r.shm.crc_errors;
    const std::uint64_t bulk_crc = r.crc_errors - std::min(r.crc_errors, shm_crc);

    std::string s = "ktstr-vmm: run summary\n";
    s += line("  %-9s %9s %11s  %s", "channel", "frames", "CRC errors", "lost");
    s += line("  %-9s %9llu %11llu  %llu bytes (%llu oversize frames, %llu refused hand-overs)", "bulk", u(bulk_frames),
              u(bulk_crc), u(r.lost_bulk_bytes()), u(r.bulk.assembler.oversize_frames), u(r.bulk.handover_dropped_chunks));
    if (r.shm_present)
        s += line("  %-9s %9llu %11llu  %llu drops (the guest's counter)", "SHM ring", u(shm_frames), u(shm_crc),
                  u(r.shm.drops));
    else
        s += line("  %-9s %9s", "SHM ring", "none");

    if (!r.message_counts.empty()) {
        s += line("  %-9s %9s %11s", "type", "bulk", "SHM ring");
        for (const auto& [tag, n] : r.message_counts) {
            const auto shm = count_of(r.shm_message_counts, tag);
            s += line("  %-9s %9llu %11llu", tag.c_str(), u(n - std::min(n, shm)), u(shm));
        }
    }
    const auto& sn = r.snapshots;
    s += line("  snapshots: %llu requests, %llu captured, %llu answered ERR, %llu drain holds, %llu releases",
              u(sn.requests), u(sn.captured), u(sn.errors), u(sn.shm_drain_holds), u(sn.shm_drain_releases));
    if (r.tests_passed + r.tests_failed != 0)
        s += line("  tests: %llu passed, %llu failed", u(r.tests_passed), u(r.tests_failed));
    s += line("  exit status: %d (%s)", exit_status, exit_reason.c_str());
    return s;
}

}  // namespace ktstr::host
