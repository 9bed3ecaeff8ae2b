#include "selftest_steps.hpp"

#include <signal.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <functional>
#include <vector>

#include "ktstr/common/crc32.hpp"
#include "ktstr/common/frame.hpp"
#include "ktstr/common/msg_type.hpp"
#include "ktstr/common/payloads.hpp"
#include "ktstr/common/structured.hpp"
#include "ktstr/guest/bulk_port.hpp"
#include "ktstr/guest/crash_hook.hpp"
#include "ktstr/guest/kernel_cmdline.hpp"
#include "ktstr/guest/phys_base.hpp"
#include "ktstr/guest/senders.hpp"
#include "ktstr/guest/shm_writer.hpp"
#include "ktstr/guest/signal_slots.hpp"
#include "ktstr/guest/snapshot_client.hpp"
#include "stdout_pattern.hpp"

namespace ktstr::selftest {
namespace {

namespace g = ktstr::guest;

std::string hex8(std::uint32_t v) {
    char b[9];
    std::snprintf(b, sizeof b, "%08x", v);
    return b;
}

std::string frame_fields(std::uint32_t type, byte_view payload) {
    return tag_of(type) + " len=" + std::to_string(payload.size()) + " crc=" + hex8(crc32(payload));
}

// Marker of the burst's Stimulus frames ("BURS"), so the host can tell
// them from scenario stimuli.
constexpr std::uint32_t burst_marker = 0x42555253;
// Writes refused once the ring is full, to count drops exactly.
constexpr std::uint64_t burst_drops = 16;

bool write_all(int fd, const char* p, std::size_t n) {
    while (n > 0) {
        ssize_t r = ::write(fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        p += r;
        n -= static_cast<std::size_t>(r);
    }
    return true;
}

}  // namespace

void Selftest::report(const std::string& line) {
    std::string l = "SELFTEST " + line + "\n";
    write_all(STDERR_FILENO, l.data(), l.size());
}

void Selftest::expect(bool ok, const std::string& what) {
    if (!ok) {
        ++failures_;
        report("failed " + what);
    }
}

void Selftest::senders() {
    auto sent = [&](MsgType t, byte_view payload, bool ok) {
        report("sent " + frame_fields(to_u32(t), payload) + " ok=" + (ok ? "1" : "0"));
        expect(ok, "sender " + tag_of(to_u32(t)));
    };
    const auto code = o_.exit_code;
    sent(MsgType::Exit, encode_i32(code), g::send_exit(code));

    TestResult tr{true, {{"other", "ktstr-selftest"}}};
    sent(MsgType::TestResult, g::encode_test_result_capped(tr, max_bulk_frame_payload), g::send_test_result(tr));

    PayloadMetrics pm{1, "ktstr-selftest", 0, {{"frames", 42, "count"}}};
    sent(MsgType::PayloadMetrics, encode_json(pm), g::send_payload_metrics(pm));

    std::array<std::uint8_t, 64> profraw{};
    for (std::size_t i = 0; i < profraw.size(); ++i)
        profraw[i] = static_cast<std::uint8_t>(i * 7 + 1);
    sent(MsgType::Profraw, profraw, g::send_profraw(profraw));

    StimulusPayload st{1, 2, 3, 4, 5, 6, 7};
    sent(MsgType::Stimulus, encode(st), g::send_stimulus(st));

    RawPayloadOutput raw{1, "selftest stdout", "selftest stderr"};
    sent(MsgType::RawPayloadOutput, encode_json(raw), g::send_raw_payload_output(raw));

    sent(MsgType::ScenarioStart, {}, g::send_scenario_start());
    sent(MsgType::ScenarioPause, {}, g::send_scenario_pause());
    sent(MsgType::ScenarioResume, {}, g::send_scenario_resume());
    sent(MsgType::ScenarioEnd, encode_u64(1234), g::send_scenario_end(1234));
    sent(MsgType::SysRdy, {}, g::send_sys_rdy());
    const auto phys = g::read_phys_base().value_or(0);
    sent(MsgType::KernAddrs, encode_kern_addrs(phys, 0), g::send_kern_addrs(phys, 0));

    const std::string out = "ktstr-selftest direct stdout chunk\n";
    sent(MsgType::Stdout, as_bytes(out), g::send_stdout_chunk(as_bytes(out)));
    const std::string err = "ktstr-selftest direct stderr chunk\n";
    sent(MsgType::Stderr, as_bytes(err), g::send_stderr_chunk(as_bytes(err)));
    const std::string log = "ktstr-selftest sched log\n";
    sent(MsgType::SchedLog, as_bytes(log), g::send_sched_log(as_bytes(log)));
    const std::string dmesg = "ktstr-selftest dmesg\n";
    sent(MsgType::Dmesg, as_bytes(dmesg), g::send_dmesg(as_bytes(dmesg)));
    const std::string probe = "{\"ktstr-selftest\":true}\n";
    sent(MsgType::ProbeOutput, as_bytes(probe), g::send_probe_output(as_bytes(probe)));

    sent(MsgType::Lifecycle, encode_lifecycle(LifecyclePhase::PayloadStarting, "ktstr-selftest"),
         g::send_lifecycle(LifecyclePhase::PayloadStarting, "ktstr-selftest"));
    sent(MsgType::ExecExit, encode_i32(code), g::send_exec_exit(code));
}

void Selftest::shm() {
    auto w = g::shm_writer();
    if (!w) {
        report("shm unavailable");
        expect(false, "shm: no SHM ring (KTSTR_SHM_BASE/KTSTR_SHM_SIZE)");
        return;
    }
    auto put = [&](MsgType t, byte_view payload) {
        auto s = w->write(to_u32(t), payload);
        report("shm " + frame_fields(to_u32(t), payload) + " status=" + g::to_string(s));
        expect(s == RingWriteStatus::written, "shm " + tag_of(to_u32(t)));
    };
    put(MsgType::Stimulus, encode(StimulusPayload{10, 11, 12, 13, 14, 15, 16}));
    put(MsgType::ScenarioStart, {});
    put(MsgType::ScenarioEnd, encode_u64(4321));
}

// Fills the ring on purpose: the host is asked to hold its live drain
// (the reply is the barrier), so the ring fills after a number of writes
// set by its free space, not by which side is faster; the release's reply
// comes after the host drained it, so every written frame has arrived.
void Selftest::shm_burst() {
    auto w = g::shm_writer();
    if (!w) {
        report("shm-burst unavailable");
        expect(false, "shm-burst: no SHM ring");
        return;
    }
    auto control = [&](SnapshotKind kind, const char* what) {
        auto r = g::request_snapshot(static_cast<std::uint32_t>(kind), "shm-burst", o_.snapshot_timeout);
        expect(r.status == g::SnapshotResult::Status::ok,
               std::string("shm-burst: the host did not ") + what + " its drain (" + g::to_string(r.status) +
                   (r.reason.empty() ? "" : ": " + r.reason) + ")");
        return r.status == g::SnapshotResult::Status::ok;
    };
    if (!control(SnapshotKind::ShmDrainHold, "hold"))
        return;
    const auto before = w->header();
    const std::uint64_t frame = frame_header_size + sizeof(StimulusPayload);
    // With nobody draining, the free space bounds the writes; the bound
    // only guards against a host that ignored the hold.
    const std::uint64_t max_attempts = before.capacity / frame + burst_drops;
    std::uint64_t attempts = 0, written = 0, dropped = 0, other = 0;
    while (attempts < max_attempts && dropped < burst_drops && other == 0) {
        StimulusPayload p{0, static_cast<std::uint16_t>(attempts), 0, burst_marker, 0, 0, attempts};
        ++attempts;
        switch (w->write(to_u32(MsgType::Stimulus), encode(p))) {
        case RingWriteStatus::written: ++written; break;
        case RingWriteStatus::dropped: ++dropped; break;
        default: ++other; break;
        }
    }
    const auto full = w->header();
    const bool released = control(SnapshotKind::ShmDrainRelease, "release");
    const auto after = w->header();
    report("shm-burst attempts=" + std::to_string(attempts) + " written=" + std::to_string(written) +
           " dropped=" + std::to_string(dropped) + " capacity=" + std::to_string(before.capacity) +
           " drops_before=" + std::to_string(before.drops) + " drops_after=" + std::to_string(full.drops) +
           " unread_after_release=" + std::to_string(after.write_ptr - after.read_ptr));
    expect(other == 0, "shm-burst: the ring became unusable");
    expect(dropped == burst_drops, "shm-burst: the ring never filled under the hold");
    expect(full.drops - before.drops == dropped, "shm-burst: the ring's drop counter disagrees with the drops seen");
    expect(!released || after.write_ptr == after.read_ptr, "shm-burst: the release left frames unread");
}

void Selftest::signal_slot() {
    bool ok = g::signal(1, shm::signal_probes_ready);
    report("signal slot=1 value=" + std::to_string(shm::signal_probes_ready) + " ok=" + (ok ? "1" : "0"));
    expect(ok, "signal: no SHM ring");
}

void Selftest::wait_signal() {
    auto r = g::wait_for_signal(0, *o_.wait_signal);
    report(std::string("wait-signal slot=0 result=") + g::to_string(r) + " value=" + std::to_string(g::read_signal(0)));
    expect(r == g::SignalWait::signalled, "wait-signal");
}

void Selftest::snapshot() {
    auto one = [&](std::uint32_t kind, const std::string& tag, g::SnapshotResult::Status want) {
        auto r = g::request_snapshot(kind, tag, o_.snapshot_timeout);
        report("snapshot kind=" + std::to_string(kind) + " tag=" + tag + " id=" + std::to_string(r.request_id) +
               " result=" + g::to_string(r.status) + " reason=" + r.reason);
        expect(r.status == want, "snapshot kind " + std::to_string(kind));
    };
    one(static_cast<std::uint32_t>(SnapshotKind::Capture), "selftest-capture", g::SnapshotResult::Status::ok);
    one(99, "selftest-unknown-kind", g::SnapshotResult::Status::host_error);
}

// Sends `total` bytes of the pattern in pieces of at most `piece` bytes
// through `send`, then reports "<what> bytes=N crc=X" for the host to check.
void Selftest::stream_pattern(const std::string& what, std::uint64_t total, std::size_t piece,
                              const std::function<bool(byte_view)>& send) {
    const PatternPieces pattern(piece);
    std::uint32_t crc = 0;
    std::uint64_t done = 0;
    bool ok = true;
    while (done < total && ok) {
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(piece, total - done));
        const auto chars = pattern.at(done, n);
        const byte_view bytes(reinterpret_cast<const std::uint8_t*>(chars.data()), n);
        crc = crc32_update(crc, bytes);
        ok = send(bytes);
        if (ok)
            done += n;
    }
    report(what + " bytes=" + std::to_string(done) + " crc=" + hex8(crc));
    expect(ok, what + ": sending failed after " + std::to_string(done) + " bytes");
}

void Selftest::stdout_bytes() {
    stream_pattern("stdout", *o_.stdout_bytes, 64 * 1024, [](byte_view b) {
        return write_all(STDOUT_FILENO, reinterpret_cast<const char*>(b.data()), b.size());
    });
}

// The bulk channel alone, without the pipe and ktstr-init's forwarding:
// each frame a single 64 KiB write (the bulk port joins header and
// payload), so the host sees exactly what --stdout-bytes would print.
void Selftest::bulk_bytes() {
    stream_pattern("bulk", *o_.bulk_bytes, g::BulkPort::coalesce_limit - frame_header_size,
                   [](byte_view b) { return g::send_stdout_chunk(b); });
}

void Selftest::garbage() {
    if (!g::is_guest()) {
        expect(false, "garbage: not in a ktstr guest");
        return;
    }
    auto& port = g::BulkPort::instance();
    auto raw = [&](const std::string& what, byte_view bytes) {
        bool ok = port.write_raw(bytes);
        report("garbage " + what + " bytes=" + std::to_string(bytes.size()) + " ok=" + (ok ? "1" : "0"));
        expect(ok, "garbage " + what);
    };
    const auto probe = to_u32(MsgType::ProbeOutput);
    {
        auto f = encode_frame(probe, as_bytes("garbage-bad-crc"));
        store_le<std::uint32_t>(f.data() + 8, load_le<std::uint32_t>(f.data() + 8) ^ 0xFFFFFFFFu);
        raw("bad-crc", f);
    }
    {
        auto f = encode_frame(probe, as_bytes("garbage-nonzero-pad"));
        store_le<std::uint32_t>(f.data() + 12, 0x5A5A5A5Au);
        raw("nonzero-pad", f);
    }
    raw("unknown-type", encode_frame(0x5A5A5A5Au, as_bytes("garbage-unknown-type")));
    {
        // A complete frame one byte above the cap: the host drops it and
        // what arrived with it, then resynchronises.
        byte_buffer f(frame_header_size + max_bulk_frame_payload + 1, 0);
        std::array<std::uint8_t, frame_header_size> h{};
        encode_frame_header({probe, max_bulk_frame_payload + 1, 0, 0}, h);
        std::copy(h.begin(), h.end(), f.begin());
        raw("oversize", f);
    }
    // A write of its own: the host feeds its assembler hand-over by
    // hand-over (one per virtqueue buffer, and a port write never shares a
    // buffer with another), so the oversize frame's drop ends where its
    // last write ended and cannot take this frame, however the host's
    // reads fall.
    const std::string marker = "garbage-recovered";
    bool ok = g::send_probe_output(as_bytes(marker));
    report("sent " + frame_fields(probe, as_bytes(marker)) + " ok=" + (ok ? "1" : "0"));
    expect(ok, "garbage marker");
}

void Selftest::sched_exit() {
    const auto code = *o_.sched_exit;
    bool ok = g::send_sched_exit(code);
    report("sent " + frame_fields(to_u32(MsgType::SchedExit), encode_i32(code)) + " ok=" + (ok ? "1" : "0"));
    expect(ok, "sender SCDX");
}

void Selftest::garbage_huge_length() {
    if (!g::is_guest()) {
        expect(false, "garbage-huge-length: not in a ktstr guest");
        return;
    }
    std::array<std::uint8_t, frame_header_size> h{};
    encode_frame_header({to_u32(MsgType::ProbeOutput), 0xFFFFFFFFu, 0, 0}, h);
    bool ok = g::BulkPort::instance().write_raw(h);
    report("garbage huge-length bytes=16 ok=" + std::string(ok ? "1" : "0"));
    expect(ok, "garbage huge-length");
}

void Selftest::garbage_ring() {
    auto w = g::shm_writer();
    if (!w) {
        expect(false, "garbage-ring: no SHM ring");
        return;
    }
    std::lock_guard lk(w->lock());
    const auto h = w->header();
    const std::uint64_t torn = h.read_ptr + h.capacity + 1;  // used > capacity
    auto* p = w->region().data() + shm::off_write_ptr;
    for (std::size_t i = 0; i < 8; ++i)
        static_cast<volatile std::uint8_t*>(p)[i] = static_cast<std::uint8_t>(torn >> (8 * i));
    report("garbage ring-torn write_ptr=" + std::to_string(torn) + " read_ptr=" + std::to_string(h.read_ptr) +
           " capacity=" + std::to_string(h.capacity));
}

void Selftest::crash() {
    g::install_crash_hook("ktstr-selftest");
    report("crash signal=" + std::to_string(SIGSEGV));
    ::raise(SIGSEGV);
    ::_exit(1);  // not reached: the default action ends the process
}

int Selftest::run() {
    if (!g::is_guest())
        report("warning not in a ktstr guest (no KTSTR_GUEST=1): bulk frames are not sent");
    if (o_.senders)
        senders();
    if (o_.shm)
        shm();
    if (o_.shm_burst)
        shm_burst();
    if (o_.signal)
        signal_slot();
    if (o_.wait_signal)
        wait_signal();
    if (o_.snapshot)
        snapshot();
    if (o_.stdout_bytes)
        stdout_bytes();
    if (o_.bulk_bytes)
        bulk_bytes();
    if (o_.garbage)
        garbage();
    if (o_.sched_exit)
        sched_exit();
    if (o_.garbage_huge_length)
        garbage_huge_length();
    if (o_.garbage_ring)
        garbage_ring();
    const int code = failures_ == 0 ? o_.exit_code : 1;
    report("done failures=" + std::to_string(failures_) + " exit=" + std::to_string(code));
    if (o_.crash)
        crash();
    return code;
}

}  // namespace ktstr::selftest
