#include <catch2/catch.hpp>

#include <condition_variable>
#include <filesystem>
#include <mutex>

#include "guest_sandbox.hpp"
#include "ktstr/guest/control_poller.hpp"
#include "ktstr/guest/shm_writer.hpp"

using namespace ktstr;
using namespace ktstr::guest;
using namespace std::chrono_literals;
using ktstr::test::GuestSandbox;

namespace {

std::shared_ptr<ShmWriter> make_writer(GuestSandbox& sb) {
    ktstr::test::write_text(sb.path("mem"), std::string(4096, '\0'));
    auto w = std::make_shared<ShmWriter>(PhysMapping::map(sb.path("mem"), 0, 4096));
    ring_init(w->region());
    return w;
}

}  // namespace

TEST_CASE("a dump request triggers SysRq-D and is cleared", "[guest][control]") {
    GuestSandbox sb;
    ktstr::test::write_text(sb.path("sysrq-trigger"), "");
    auto w = make_writer(sb);
    ring_store_control(w->region(), shm::dump_req_offset, shm::dump_req_sysrq_d);
    auto ev = poll_control_once(w->region());
    CHECK(ev.dump);
    CHECK_FALSE(ev.stall);
    CHECK_FALSE(ev.shutdown);
    CHECK(ktstr::test::read_text(sb.path("sysrq-trigger")) == "D");
    CHECK(ring_load_control(w->region(), shm::dump_req_offset) == 0);
    CHECK_FALSE(poll_control_once(w->region()).dump);
}

TEST_CASE("a stall request creates the stall file and is cleared", "[guest][control]") {
    GuestSandbox sb;
    auto w = make_writer(sb);
    ring_store_control(w->region(), shm::stall_req_offset, shm::stall_req_activate);
    CHECK(poll_control_once(w->region()).stall);
    CHECK(std::filesystem::exists(sb.path("ktstr_stall")));
    CHECK(ring_load_control(w->region(), shm::stall_req_offset) == 0);
}

TEST_CASE("other control values are left alone", "[guest][control]") {
    GuestSandbox sb;
    auto w = make_writer(sb);
    ring_store_control(w->region(), shm::dump_req_offset, 'X');
    ring_store_control(w->region(), shm::stall_req_offset, 'Y');
    auto ev = poll_control_once(w->region());
    CHECK_FALSE(ev.dump);
    CHECK_FALSE(ev.stall);
    CHECK(ring_load_control(w->region(), shm::dump_req_offset) == 'X');
    CHECK(ring_load_control(w->region(), shm::stall_req_offset) == 'Y');
    CHECK_FALSE(std::filesystem::exists(sb.path("ktstr_stall")));
}

TEST_CASE("the poller thread handles requests and stops at a shutdown request", "[guest][control]") {
    GuestSandbox sb;
    ktstr::test::write_text(sb.path("sysrq-trigger"), "");
    auto w = make_writer(sb);
    std::mutex m;
    std::condition_variable cv;
    bool called = false;
    ControlPoller poller(w, 2ms, [&] {
        std::lock_guard lk(m);
        called = true;
        cv.notify_all();
    });
    ring_store_control(w->region(), shm::dump_req_offset, shm::dump_req_sysrq_d);
    // Until the poller acted; the bound only ends a test that would hang.
    const auto give_up = std::chrono::steady_clock::now() + 120s;
    while (poller.dumps() == 0 && std::chrono::steady_clock::now() < give_up)
        std::this_thread::sleep_for(1ms);
    CHECK(poller.dumps() == 1);
    ring_signal(w->region(), 0, shm::signal_shutdown_req);
    std::unique_lock lk(m);
    CHECK(cv.wait_for(lk, 10s, [&] { return called; }));
    CHECK(poller.shutdown_seen());
}

TEST_CASE("a poller stops promptly when destroyed", "[guest][control]") {
    GuestSandbox sb;
    auto w = make_writer(sb);
    const auto t0 = std::chrono::steady_clock::now();
    { ControlPoller poller(w, 1h); }
    CHECK(std::chrono::steady_clock::now() - t0 < 10s);
}
