#include <catch2/catch.hpp>

#include <sys/mman.h>
#include <sys/wait.h>

#include <map>
#include <thread>

#include "guest_sandbox.hpp"
#include "ktstr/common/msg_type.hpp"
#include "ktstr/common/payloads.hpp"
#include "ktstr/common/shm_ring.hpp"
#include "ktstr/guest/shm_writer.hpp"
#include "ktstr/guest/signal_slots.hpp"

using namespace ktstr;
using namespace ktstr::guest;
using namespace std::chrono_literals;
using ktstr::test::GuestSandbox;

namespace {

// A file standing in for /dev/mem: `offset` bytes of padding, then a ring
// region of `size` bytes initialised as the host would.
void make_mem_file(const std::string& path, std::size_t offset, std::size_t size) {
    ktstr::test::write_text(path, std::string(offset + size + 4096, '\0'));
    auto m = PhysMapping::map(path, offset, size);
    ring_init(SharedRegion(m.data(), m.size()));
}

std::string shm_cmdline(std::size_t base, std::size_t size) {
    char b[128];
    std::snprintf(b, sizeof b, "KTSTR_GUEST=1 KTSTR_SHM_BASE=0x%zx KTSTR_SHM_SIZE=0x%zx", base, size);
    return b;
}

}  // namespace

TEST_CASE("a mapping at an unaligned physical address lands on that byte", "[guest][shm]") {
    GuestSandbox sb;
    const auto mem = sb.path("mem");
    ktstr::test::write_text(mem, std::string(3 * 4096, '\0'));
    {
        auto m = PhysMapping::map(mem, 4096 + 104, 100);
        CHECK(m.size() == 100);
        m.data()[0] = 0x5A;
        m.data()[99] = 0xA5;
    }
    auto bytes = ktstr::test::read_text(mem);
    CHECK(static_cast<std::uint8_t>(bytes[4096 + 104]) == 0x5A);
    CHECK(static_cast<std::uint8_t>(bytes[4096 + 203]) == 0xA5);
    CHECK_THROWS_WITH(PhysMapping::map(sb.path("missing"), 0, 100), Catch::Contains("cannot open"));
    CHECK_THROWS_WITH(PhysMapping::map(mem, 0, 0), Catch::Contains("size is 0"));
}

TEST_CASE("the process-wide writer follows the kernel command line", "[guest][shm]") {
    GuestSandbox sb;
    CHECK(shm_writer() == nullptr);  // no KTSTR_SHM_* at all
    CHECK(shm_write(to_u32(MsgType::Exit), encode_i32(1)) == RingWriteStatus::unusable);

    make_mem_file(sb.path("mem"), 0x3010, 0x2000);
    sb.set_cmdline(shm_cmdline(0x3010, 0x2000));
    sb.refresh();
    auto w = shm_writer();
    REQUIRE(w);
    CHECK(w->header().capacity == 0x2000 - shm::header_size);
    CHECK(shm_write(to_u32(MsgType::Exit), encode_i32(42)) == RingWriteStatus::written);

    auto bytes = ktstr::test::read_text(sb.path("mem"));
    auto* region = reinterpret_cast<std::uint8_t*>(bytes.data()) + 0x3010;
    auto d = ring_drain(SpanRegion({region, 0x2000}));
    REQUIRE(d.status == RingDrainStatus::ok);
    REQUIRE(d.frames.size() == 1);
    CHECK(d.frames[0].msg_type() == to_u32(MsgType::Exit));
    CHECK(decode_i32(d.frames[0].payload) == 42);
}

TEST_CASE("a region without an initialised ring is not used", "[guest][shm]") {
    GuestSandbox sb(shm_cmdline(0, 0x1000));
    ktstr::test::write_text(sb.path("mem"), std::string(0x1000, '\0'));
    CHECK(shm_writer() == nullptr);
}

TEST_CASE("writer threads and a draining host agree through a shared mapping", "[guest][shm]") {
    GuestSandbox sb;
    const auto mem = sb.path("mem");
    constexpr std::size_t size = 8192;  // small, so the ring fills and wraps often
    make_mem_file(mem, 0, size);
    ShmWriter writer(PhysMapping::map(mem, 0, size));
    auto host_map = PhysMapping::map(mem, 0, size);  // a second mapping, as the host has
    const SharedRegion host(host_map.data(), host_map.size());

    constexpr std::uint32_t threads = 4;
    constexpr std::uint32_t per_thread = 3000;
    std::atomic<std::uint64_t> dropped{0};
    std::atomic<int> unexpected{0};
    std::atomic<bool> writers_done{false};
    std::vector<Frame> got;
    RingDrainStatus bad = RingDrainStatus::ok;
    std::thread drain([&] {
        for (;;) {
            const bool last = writers_done.load();
            auto r = ring_drain(host, DrainMode::consume);
            if (r.status != RingDrainStatus::ok)
                bad = r.status;
            for (auto& e : r.frames)
                got.push_back(std::move(e));
            if (last && r.bytes_pending == 0)
                return;
            std::this_thread::yield();
        }
    });
    std::vector<std::thread> producers;
    for (std::uint32_t t = 0; t < threads; ++t)
        producers.emplace_back([&, t] {
            for (std::uint32_t s = 0; s < per_thread;) {
                byte_buffer p(8 + (s * 13 + t) % 200);
                store_le(p.data(), t);
                store_le(p.data() + 4, s);
                for (std::size_t i = 8; i < p.size(); ++i)
                    p[i] = static_cast<std::uint8_t>(t + s + i);
                auto st = writer.write(to_u32(MsgType::Stimulus), p);
                if (st == RingWriteStatus::written)
                    ++s;
                else if (st == RingWriteStatus::dropped)
                    dropped.fetch_add(1);  // full: retry the same frame
                else {
                    unexpected.fetch_add(1);
                    return;
                }
            }
        });
    for (auto& p : producers)
        p.join();
    writers_done.store(true);
    drain.join();

    CHECK(bad == RingDrainStatus::ok);
    REQUIRE(unexpected.load() == 0);
    REQUIRE(got.size() == threads * per_thread);
    std::map<std::uint32_t, std::uint32_t> next;
    for (const auto& e : got) {
        REQUIRE(e.crc_ok);
        REQUIRE(e.payload.size() >= 8);
        auto t = load_le<std::uint32_t>(e.payload.data());
        auto s = load_le<std::uint32_t>(e.payload.data() + 4);
        REQUIRE(s == next[t]);
        next[t] = s + 1;
        REQUIRE(e.payload.size() == 8 + (s * 13 + t) % 200);
    }
    CHECK(ring_read_header(host).drops == dropped.load());
}

TEST_CASE("a full ring counts drops", "[guest][shm]") {
    GuestSandbox sb;
    make_mem_file(sb.path("mem"), 0, 256);
    ShmWriter w(PhysMapping::map(sb.path("mem"), 0, 256));
    std::uint64_t written = 0, dropped = 0;
    for (int i = 0; i < 20; ++i)
        (w.write(to_u32(MsgType::Exit), encode_i32(i)) == RingWriteStatus::written ? written : dropped) += 1;
    CHECK(written == (256 - shm::header_size) / 20);
    CHECK(dropped == 20 - written);
    CHECK(w.header().drops == dropped);
}

TEST_CASE("try_write never waits for another thread or process holding the ring", "[guest][shm]") {
    GuestSandbox sb;
    make_mem_file(sb.path("mem"), 0, 4096);
    ShmWriter w(PhysMapping::map(sb.path("mem"), 0, 4096));
    const auto payload = encode_i32(1);

    // Another process holds the lock (its record lock on the lock file).
    int to_parent[2], to_child[2];
    REQUIRE(::pipe(to_parent) == 0);
    REQUIRE(::pipe(to_child) == 0);
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        w.lock().lock();
        char c = 'x';
        [[maybe_unused]] auto a = ::write(to_parent[1], &c, 1);
        [[maybe_unused]] auto b = ::read(to_child[0], &c, 1);
        w.lock().unlock();
        ::_exit(0);
    }
    char c;
    REQUIRE(::read(to_parent[0], &c, 1) == 1);
    CHECK_FALSE(w.try_write(to_u32(MsgType::Crash), payload).has_value());
    REQUIRE(::write(to_child[1], &c, 1) == 1);
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    for (int fd : {to_parent[0], to_parent[1], to_child[0], to_child[1]})
        ::close(fd);
    CHECK(w.try_write(to_u32(MsgType::Crash), payload) == RingWriteStatus::written);

    // Another thread holds it.
    std::atomic<bool> held{false}, release{false};
    std::thread holder([&] {
        std::lock_guard lk(w.lock());
        held = true;
        while (!release)
            std::this_thread::yield();
    });
    while (!held)
        std::this_thread::yield();
    CHECK_FALSE(w.try_write(to_u32(MsgType::Crash), payload).has_value());
    release = true;
    holder.join();
    CHECK(w.try_write(to_u32(MsgType::Crash), payload) == RingWriteStatus::written);
}

TEST_CASE("signal slots: set, read and wait with a bounded timeout", "[guest][shm]") {
    GuestSandbox sb;
    make_mem_file(sb.path("mem"), 0, 4096);
    auto m = PhysMapping::map(sb.path("mem"), 0, 4096);
    const SharedRegion r(m.data(), m.size());
    signal(r, 1, shm::signal_probes_ready);
    CHECK(m.data()[15] == shm::signal_probes_ready);
    CHECK(read_signal(r, 1) == shm::signal_probes_ready);
    CHECK(wait_for_signal(r, 1, 0ms) == SignalWait::signalled);

    const auto t0 = std::chrono::steady_clock::now();
    CHECK(wait_for_signal(r, 0, 20ms) == SignalWait::timed_out);
    CHECK(std::chrono::steady_clock::now() - t0 >= 20ms);

    std::thread host([&] {
        std::this_thread::sleep_for(20ms);
        ring_signal(r, 0, shm::signal_shutdown_req);
    });
    CHECK(wait_for_signal(r, 0, 10s) == SignalWait::signalled);
    host.join();
    CHECK(read_signal(r, 0) == shm::signal_shutdown_req);
    CHECK_THROWS_AS(signal(r, 2, 1), std::invalid_argument);
    CHECK_THROWS_AS(read_signal(r, 2), std::invalid_argument);
}

TEST_CASE("process-wide signal functions without a ring", "[guest][shm]") {
    GuestSandbox sb;
    CHECK(wait_for_signal(0, 10ms) == SignalWait::unavailable);
    CHECK_FALSE(signal(1));
    CHECK(read_signal(1) == 0);
}
