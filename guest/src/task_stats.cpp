#include "ktstr/guest/task_stats.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <string>

#include "ktstr/guest/bounded_file.hpp"

namespace ktstr::guest {
namespace {

std::optional<std::uint64_t> parse_u64(std::string_view& s) {
    while (!s.empty() && s.front() == ' ')
        s.remove_prefix(1);
    std::uint64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end == s.data())
        return std::nullopt;
    s.remove_prefix(static_cast<std::size_t>(end - s.data()));
    return v;
}

template <typename T>
std::optional<T> minus(const std::optional<T>& end, const std::optional<T>& start) {
    if (!end || !start || *end < *start)
        return std::nullopt;
    return *end - *start;
}

}  // namespace

std::optional<std::chrono::nanoseconds> parse_schedstat_run_delay(std::string_view text) {
    std::optional<std::uint64_t> fields[3];
    for (auto& f : fields)
        if (!(f = parse_u64(text)))
            return std::nullopt;
    if (!(text.empty() || text == "\n"))
        return std::nullopt;
    return std::chrono::nanoseconds(static_cast<std::int64_t>(*fields[1]));
}

TaskStats read_thread_stats() {
    TaskStats s;
    const std::string path = "/proc/self/task/" + std::to_string(::gettid()) + "/schedstat";
    if (auto f = read_bounded_file(path, 256); f && !f->truncated)
        s.run_delay = parse_schedstat_run_delay(f->bytes);
    struct rusage ru {};
    if (::getrusage(RUSAGE_THREAD, &ru) == 0) {
        s.voluntary_switches = static_cast<std::uint64_t>(ru.ru_nvcsw);
        s.involuntary_switches = static_cast<std::uint64_t>(ru.ru_nivcsw);
    }
    return s;
}

TaskStats stats_delta(const TaskStats& start, const TaskStats& end) {
    return {minus(end.run_delay, start.run_delay), minus(end.voluntary_switches, start.voluntary_switches),
            minus(end.involuntary_switches, start.involuntary_switches)};
}

}  // namespace ktstr::guest
