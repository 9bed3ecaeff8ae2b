#include "selftest_options.hpp"

#include <charconv>
#include <limits>
#include <stdexcept>

namespace ktstr::selftest {
namespace {

std::uint64_t parse_u64(const std::string& text, const std::string& flag) {
    std::uint64_t v = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v, 10);
    if (text.empty() || ec != std::errc{} || p != text.data() + text.size())
        throw std::invalid_argument(flag + ": '" + text + "' is not a decimal number");
    return v;
}

std::int32_t parse_i32(const std::string& text, const std::string& flag) {
    std::int32_t v = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v, 10);
    if (text.empty() || ec != std::errc{} || p != text.data() + text.size())
        throw std::invalid_argument(flag + ": '" + text + "' is not a 32-bit integer");
    return v;
}

std::chrono::milliseconds parse_ms(const std::string& text, const std::string& flag) {
    auto v = parse_u64(text, flag);
    if (v > 3600 * 1000)
        throw std::invalid_argument(flag + ": more than one hour");
    return std::chrono::milliseconds(v);
}

}  // namespace

const char* const selftest_usage =
    "usage: ktstr-selftest [flags]   (inside a ktstr guest; reports on stderr)\n"
    "  --all                    --senders --shm --shm-burst --signal --snapshot (default)\n"
    "  --senders                every bulk-channel sender once\n"
    "  --shm                    STIM, SCST, SCEN frames into the SHM ring\n"
    "  --shm-burst              fill the SHM ring until writes drop, count the drops\n"
    "  --signal                 set signal slot 1 to 2 (probes ready)\n"
    "  --wait-signal MS         wait up to MS for signal slot 0\n"
    "  --snapshot               snapshot requests: capture, and unknown kind 99\n"
    "  --snapshot-timeout MS    per request (default 60000)\n"
    "  --stdout-bytes N[K|M|G]  write N bytes of the test pattern to stdout\n"
    "  --bulk-bytes N[K|M|G]    send N bytes of the test pattern as Stdout frames straight to\n"
    "                           the bulk port, one 64 KiB write per frame\n"
    "  --garbage                bad CRC, non-zero pad, unknown type, oversize frame, marker\n"
    "  --garbage-huge-length    a frame header announcing 4 GiB (ends the bulk stream)\n"
    "  --garbage-ring           tear the SHM ring header (ends the ring)\n"
    "  --sched-exit CODE        send SchedExit(CODE)\n"
    "  --crash                  install the crash hook and die of SIGSEGV\n"
    "  --exit-code N            exit code when every step succeeded (default 0)\n";

std::uint64_t parse_size(const std::string& text, const std::string& flag) {
    std::string digits = text;
    std::uint64_t mult = 1;
    if (!digits.empty()) {
        switch (digits.back()) {
        case 'K': case 'k': mult = 1ull << 10; break;
        case 'M': case 'm': mult = 1ull << 20; break;
        case 'G': case 'g': mult = 1ull << 30; break;
        default: break;
        }
        if (mult != 1)
            digits.pop_back();
    }
    const auto v = parse_u64(digits, flag);
    constexpr std::uint64_t max = 16ull << 30;
    if (v > max / mult)
        throw std::invalid_argument(flag + ": '" + text + "' is more than 16 GiB");
    return v * mult;
}

SelftestOptions parse_selftest_options(const std::vector<std::string>& args) {
    SelftestOptions o;
    bool any_step = false;
    auto value = [&](std::size_t& i) -> const std::string& {
        if (i + 1 >= args.size())
            throw std::invalid_argument(args[i] + " needs a value");
        return args[++i];
    };
    for (std::size_t i = 0; i < args.size(); ++i) {
        const auto& a = args[i];
        if (a == "--help" || a == "-h") {
            o.help = true;
        } else if (a == "--all") {
            o.senders = o.shm = o.shm_burst = o.signal = o.snapshot = true;
            any_step = true;
        } else if (a == "--senders") {
            o.senders = any_step = true;
        } else if (a == "--shm") {
            o.shm = any_step = true;
        } else if (a == "--shm-burst") {
            o.shm_burst = any_step = true;
        } else if (a == "--signal") {
            o.signal = any_step = true;
        } else if (a == "--wait-signal") {
            o.wait_signal = parse_ms(value(i), a);
            any_step = true;
        } else if (a == "--snapshot") {
            o.snapshot = any_step = true;
        } else if (a == "--snapshot-timeout") {
            o.snapshot_timeout = parse_ms(value(i), a);
        } else if (a == "--stdout-bytes") {
            o.stdout_bytes = parse_size(value(i), a);
            any_step = true;
        } else if (a == "--bulk-bytes") {
            o.bulk_bytes = parse_size(value(i), a);
            any_step = true;
        } else if (a == "--garbage") {
            o.garbage = any_step = true;
        } else if (a == "--garbage-huge-length") {
            o.garbage_huge_length = any_step = true;
        } else if (a == "--garbage-ring") {
            o.garbage_ring = any_step = true;
        } else if (a == "--sched-exit") {
            o.sched_exit = parse_i32(value(i), a);
            any_step = true;
        } else if (a == "--crash") {
            o.crash = any_step = true;
        } else if (a == "--exit-code") {
            o.exit_code = parse_i32(value(i), a);
            if (o.exit_code < 0 || o.exit_code > 255)
                throw std::invalid_argument("--exit-code: must be 0..255 (a process exit status)");
        } else {
            throw std::invalid_argument("unknown argument '" + a + "'");
        }
    }
    if (!any_step)
        o.senders = o.shm = o.shm_burst = o.signal = o.snapshot = true;
    return o;
}

}  // namespace ktstr::selftest
