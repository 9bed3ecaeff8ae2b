#include "ktstr/guest/dump_trace.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "ktstr/guest/paths.hpp"

namespace ktstr::guest {
namespace {

constexpr std::string_view event_tag = ": sched_ext_dump: ";
constexpr int busy_attempts = 20;
constexpr auto busy_wait = std::chrono::milliseconds(50);

}  // namespace

std::optional<std::string_view> dump_line_of(std::string_view trace_line) {
    const auto at = trace_line.find(event_tag);
    if (at == std::string_view::npos)
        return std::nullopt;
    auto text = trace_line.substr(at + event_tag.size());
    if (!text.empty() && text.back() == '\r')
        text.remove_suffix(1);
    return text;
}

DumpTrace DumpTrace::open() {
    DumpTrace t;
    const auto root = paths().tracing;
    const auto enable = root + "/events/sched_ext/sched_ext_dump/enable";
    {
        UniqueFd fd(::open(enable.c_str(), O_WRONLY | O_CLOEXEC));
        if (!fd || ::write(fd.get(), "1", 1) != 1) {
            t.error_ = enable + ": " + std::strerror(errno);
            return t;
        }
    }
    t.pipe_ = root + "/trace_pipe";
    return t;
}

std::size_t DumpTrace::read_available(std::string& out, std::size_t max_bytes, std::string_view prefix) {
    if (pipe_.empty())
        return 0;
    UniqueFd fd;
    for (int attempt = 0; attempt < busy_attempts; ++attempt) {
        fd = UniqueFd(::open(pipe_.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
        if (fd || errno != EBUSY)
            break;
        std::this_thread::sleep_for(busy_wait);
    }
    if (!fd) {
        error_ = pipe_ + ": " + std::strerror(errno);
        return 0;
    }
    std::string partial;  // the line a read ended inside
    std::size_t lines = 0, taken = 0;
    char buf[16384];
    while (taken < max_bytes) {
        const auto n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;  // EAGAIN: nothing more now; 0 or an error: done
        taken += static_cast<std::size_t>(n);
        std::string_view chunk(buf, static_cast<std::size_t>(n));
        while (!chunk.empty()) {
            const auto nl = chunk.find('\n');
            const auto piece = chunk.substr(0, nl);
            // Bounded: a line without an end keeps at most max_line bytes.
            partial.append(piece.substr(0, max_line - std::min(max_line, partial.size())));
            if (nl == std::string_view::npos)
                break;
            chunk.remove_prefix(nl + 1);
            if (auto text = dump_line_of(partial)) {
                out.append(prefix);
                out.append(*text);
                out.push_back('\n');
                ++lines;
            }
            partial.clear();
        }
    }
    return lines;
}

}  // namespace ktstr::guest
