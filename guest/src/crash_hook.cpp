#include "ktstr/guest/crash_hook.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/uio.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstring>
#include <exception>
#include <memory>
#include <string>

#include "ktstr/common/msg_type.hpp"
#include "ktstr/guest/paths.hpp"
#include "ktstr/guest/shm_writer.hpp"

namespace ktstr::guest {
namespace {

// Everything the handlers use is prepared by install_crash_hook, so that
// reporting allocates nothing and opens nothing.
struct CrashState {
    std::atomic<bool> installed{false};
    std::atomic<bool> reporting{false};  // a crash inside the report
    int com2_fd = -1;
    std::shared_ptr<ShmWriter> writer;
    std::array<char, 64> program{};
};
CrashState g_state;

constexpr std::size_t alt_stack_size = 64 * 1024;
alignas(16) std::array<std::uint8_t, alt_stack_size> g_alt_stack;

constexpr std::array<int, 5> fatal_signals{SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};

const char* signal_name(int sig) noexcept {
    switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGILL: return "SIGILL";
    case SIGFPE: return "SIGFPE";
    case SIGABRT: return "SIGABRT";
    }
    return "?";
}

// Appends to a fixed buffer; async-signal-safe.
struct LineBuf {
    std::array<char, 192> b{};
    std::size_t n = 0;
    void put(const char* s) noexcept {
        while (*s != '\0' && n < b.size())
            b[n++] = *s++;
    }
    void put_uint(unsigned v) noexcept {
        char digits[12];
        int k = 0;
        do {
            digits[k++] = static_cast<char>('0' + v % 10);
            v /= 10;
        } while (v != 0 && k < 12);
        while (k > 0 && n < b.size())
            b[n++] = digits[--k];
    }
    std::string_view view() const noexcept { return {b.data(), n}; }
};

void on_fatal_signal(int sig) {
    LineBuf line;
    line.put(g_state.program.data());
    line.put(": fatal signal ");
    line.put_uint(static_cast<unsigned>(sig));
    line.put(" (");
    line.put(signal_name(sig));
    line.put(")");
    report_crash(line.view());
    // SA_RESETHAND restored the default action: a fault re-executes and
    // dies, a raised signal is raised again.
    ::raise(sig);
}

void on_terminate() {
    std::string text = std::string(g_state.program.data()) + ": terminate called";
    if (auto e = std::current_exception()) {
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& ex) {
            text += std::string(" after an exception: ") + ex.what();
        } catch (...) {
            text += " after a non-standard exception";
        }
    }
    report_crash(text);
    ::signal(SIGABRT, SIG_DFL);  // reported already; do not report the abort again
    std::abort();
}

}  // namespace

void report_crash(std::string_view text) noexcept {
    if (!g_state.installed.load(std::memory_order_acquire))
        return;
    if (g_state.reporting.exchange(true))
        return;
    if (g_state.writer)
        g_state.writer->try_write(to_u32(MsgType::Crash), as_bytes(text));
    if (g_state.com2_fd >= 0) {
        static constexpr char prefix[] = "KTSTR_CRASH: ";
        std::array<iovec, 3> iov{{{const_cast<char*>(prefix), sizeof prefix - 1},
                                  {const_cast<char*>(text.data()), text.size()},
                                  {const_cast<char*>("\n"), 1}}};
        [[maybe_unused]] auto r = ::writev(g_state.com2_fd, iov.data(), static_cast<int>(iov.size()));
    }
    g_state.reporting.store(false);
}

void install_crash_hook(std::string_view program) {
    if (g_state.installed.load())
        return;
    const auto n = std::min(program.size(), g_state.program.size() - 1);
    std::memcpy(g_state.program.data(), program.data(), n);
    g_state.program[n] = '\0';
    g_state.com2_fd = ::open(paths().com2.c_str(), O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    g_state.writer = shm_writer();
    if (g_state.writer)
        g_state.writer->lock().prepare();

    // An alternate stack, so a stack overflow can still be reported.
    stack_t ss{};
    ss.ss_sp = g_alt_stack.data();
    ss.ss_size = g_alt_stack.size();
    ::sigaltstack(&ss, nullptr);
    struct sigaction sa {};
    sa.sa_handler = on_fatal_signal;
    sa.sa_flags = SA_ONSTACK | SA_RESETHAND | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    for (int sig : fatal_signals)
        ::sigaction(sig, &sa, nullptr);
    std::set_terminate(on_terminate);
    g_state.installed.store(true, std::memory_order_release);
}

}  // namespace ktstr::guest
