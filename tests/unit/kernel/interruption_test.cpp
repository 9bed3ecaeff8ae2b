// A signal during a build stops the program under way and the waits.
#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <thread>

#include <pthread.h>

#include "kernel/file_lock.hpp"
#include "kernel_build/interruption.hpp"
#include "kernel_build/streamed_command.hpp"
#include "ktstr/test/temp_dir.hpp"

using namespace ktstr::vmm::kernel_build;
using ktstr::test::TempDir;
using namespace std::chrono_literals;

namespace {

// Sends `sig` to `thread` after a moment.
std::thread signal_later(pthread_t thread, int sig) {
    return std::thread([=] {
        std::this_thread::sleep_for(200ms);
        ::pthread_kill(thread, sig);
    });
}

}  // namespace

TEST_CASE("a caught signal stops a streamed program and throws Interrupted", "[kernel_build]") {
    InterruptionGuard guard;
    CHECK(InterruptionGuard::requested() == 0);
    auto sender = signal_later(::pthread_self(), SIGTERM);
    StreamedCommand c;
    c.argv = {"sleep", "30"};
    const auto start = std::chrono::steady_clock::now();
    try {
        run_streamed(c);
        FAIL("not interrupted");
    } catch (const Interrupted& e) {
        CHECK(e.signal == SIGTERM);
    }
    sender.join();
    CHECK(std::chrono::steady_clock::now() - start < 5s);
    CHECK_THROWS_AS(throw_if_interrupted(), Interrupted);
}

TEST_CASE("a caught signal ends the wait for a lock", "[kernel_build]") {
    TempDir d{"lock"};
    ktstr::vmm::kernel::FileLock held(d.path() / "k.lock");
    InterruptionGuard guard;
    auto sender = signal_later(::pthread_self(), SIGINT);
    CHECK_THROWS_AS(ktstr::vmm::kernel::FileLock(d.path() / "k.lock", ktstr::vmm::kernel::FileLock::Mode::exclusive,
                                                 throw_if_interrupted),
                    Interrupted);
    sender.join();
}

TEST_CASE("without a caught signal nothing is interrupted", "[kernel_build]") {
    InterruptionGuard guard;  // a new guard starts from no signal
    CHECK(InterruptionGuard::requested() == 0);
    CHECK_NOTHROW(throw_if_interrupted());
}
