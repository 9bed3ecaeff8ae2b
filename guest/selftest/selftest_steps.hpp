// The steps of ktstr-selftest. Each step reports what it sent, one line
// per item on stderr, in the format of docs/guest.md:
//   SELFTEST sent <TAG> len=<n> crc=<hex8> ok=<0|1>
// and records whether it met its own expectation.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "ktstr/common/bytes.hpp"
#include "selftest_options.hpp"

namespace ktstr::selftest {

class Selftest {
public:
    explicit Selftest(const SelftestOptions& o) : o_(o) {}

    // Runs the selected steps in the documented order; returns the exit
    // code (options.exit_code, or 1 if a step failed).
    int run();

private:
    void senders();
    void shm();
    void shm_burst();
    void signal_slot();
    void wait_signal();
    void snapshot();
    void stream_pattern(const std::string& what, std::uint64_t total, std::size_t piece,
                        const std::function<bool(byte_view)>& send);
    void stdout_bytes();
    void bulk_bytes();
    void garbage();
    void sched_exit();
    void garbage_huge_length();
    void garbage_ring();
    [[noreturn]] void crash();

    void report(const std::string& line);
    void expect(bool ok, const std::string& what);

    const SelftestOptions& o_;
    int failures_ = 0;
};

}  // namespace ktstr::selftest
