#include "exit_report.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>

#include "exit_codes.hpp"

namespace ktstr::init {
namespace {

// /dev/ttyS<N> is char 4:64+N on every Linux with the 8250 driver.
void create_tty_node(const std::string& path) {
    constexpr std::string_view prefix = "/dev/ttyS";
    if (path.compare(0, prefix.size(), prefix) != 0)
        return;
    unsigned n = 0;
    const char* b = path.data() + prefix.size();
    const char* e = path.data() + path.size();
    auto [p, ec] = std::from_chars(b, e, n);
    if (ec != std::errc{} || p != e || b == e || n > 191)
        return;
    ::mkdir("/dev", 0755);
    ::mknod(path.c_str(), S_IFCHR | 0600, makedev(4, 64 + n));
}

}  // namespace

std::string exit_line(int code) { return "KTSTR_EXIT=" + std::to_string(code) + "\n"; }

int exit_code_from_wait_status(int status) noexcept {
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return exit_code::signal_base + WTERMSIG(status);
    return exit_code::start_failed;
}

SerialLine::SerialLine(const std::string& path, bool create_node) {
    if (create_node && ::access(path.c_str(), F_OK) != 0)
        create_tty_node(path);
    fd_.reset(::open(path.c_str(), O_WRONLY | O_NOCTTY | O_CLOEXEC | O_APPEND));
    if (!fd_)
        return;
    termios t{};
    if (::tcgetattr(fd_.get(), &t) == 0) {
        ::cfmakeraw(&t);
        ::tcsetattr(fd_.get(), TCSANOW, &t);
    }
}

void SerialLine::write_line(std::string_view line) noexcept {
    if (!fd_)
        return;
    const bool add_nl = line.empty() || line.back() != '\n';
    std::array<iovec, 2> iov{{{const_cast<char*>(line.data()), line.size()}, {const_cast<char*>("\n"), add_nl ? 1u : 0u}}};
    std::size_t first = 0;
    while (first < iov.size()) {
        ssize_t r = ::writev(fd_.get(), iov.data() + first, static_cast<int>(iov.size() - first));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return;
        auto done = static_cast<std::size_t>(r);
        while (first < iov.size() && done >= iov[first].iov_len)
            done -= iov[first++].iov_len;
        if (first < iov.size()) {
            iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + done;
            iov[first].iov_len -= done;
        }
    }
}

void SerialLine::drain() noexcept {
    if (!fd_)
        return;
    if (::tcdrain(fd_.get()) != 0)
        ::fsync(fd_.get());
}

}  // namespace ktstr::init
