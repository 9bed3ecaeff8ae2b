#include "kernel_build/interruption.hpp"

#include <csignal>

namespace ktstr::vmm::kernel_build {
namespace {

volatile std::sig_atomic_t caught = 0;
struct sigaction old_int {};
struct sigaction old_term {};

extern "C" void on_signal(int s) { caught = s; }

}  // namespace

InterruptionGuard::InterruptionGuard() {
    caught = 0;
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: a blocking wait returns EINTR and looks at the flag
    ::sigaction(SIGINT, &sa, &old_int);
    ::sigaction(SIGTERM, &sa, &old_term);
}

InterruptionGuard::~InterruptionGuard() {
    ::sigaction(SIGINT, &old_int, nullptr);
    ::sigaction(SIGTERM, &old_term, nullptr);
}

int InterruptionGuard::requested() noexcept { return caught; }

void throw_if_interrupted() {
    if (const int s = InterruptionGuard::requested())
        throw Interrupted(s);
}

}  // namespace ktstr::vmm::kernel_build
