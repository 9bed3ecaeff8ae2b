#include "ktstr/host/host_loop.hpp"

#include <csignal>
#include <stdexcept>
#include <string>
#include <thread>

#include <pthread.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "ktstr/common/msg_type.hpp"
#include "ktstr/common/payloads.hpp"
#include "ktstr/host/message_log.hpp"
#include "ktstr/host/run_recorder.hpp"
#include "ktstr/host/shm_control.hpp"
#include "ktstr/host/shm_drain.hpp"
#include "ktstr/host/snapshot_responder.hpp"
#include "ktstr/host/terminal_text.hpp"

namespace ktstr::host {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

// SHM status lines printed with verbose: enough to see a problem, bounded
// so a guest flipping its header every tick cannot flood stderr.
constexpr std::uint64_t max_status_reports = 16;

// Guest text on the diagnostics sink (terminal_text.hpp): crash reports
// printed at most this many, each at most this many lines; init stages (with
// verbose) at most this many. Past a bound one line says the rest is left
// out; the run result keeps its own bounded copies.
constexpr std::uint64_t max_crash_reports_printed = 16;
constexpr std::size_t max_crash_lines_printed = 200;
constexpr std::uint64_t max_lifecycle_lines_printed = 256;
constexpr std::string_view crash_line_prefix = "ktstr-vmm: guest crash| ";

std::optional<SharedRegion> shm_region(const HostLoopConfig& c) {
    if (c.shm_size == 0)
        return std::nullopt;
    auto r = c.memory.region(c.shm_base, c.shm_size);
    if (!r)
        throw std::invalid_argument("the SHM region is not inside one guest memory mapping");
    return r;
}

std::optional<MessageLog> open_log(const HostLoopConfig& c) {
    if (c.messages_path.empty())
        return std::nullopt;
    return std::optional<MessageLog>(std::in_place, c.messages_path, c.message_log_max_bytes);
}

HostLoopConfig with_defaults(HostLoopConfig c) {
    if (c.shm_poll_interval.count() <= 0)
        throw std::invalid_argument("the SHM poll interval must be positive");
    if (!c.stdout_sink)
        c.stdout_sink = fd_sink(1);
    if (!c.stderr_sink)
        c.stderr_sink = fd_sink(2);
    if (!c.diagnostics)
        c.diagnostics = fd_sink(2);
    if (!c.start_time)
        c.start_time = Clock::now();
    return c;
}

}  // namespace

struct HostLoop::Impl {
    explicit Impl(HostLoopConfig c);

    void subscribe();
    void run_thread() noexcept;
    void schedule_tick();
    void pump_bulk();
    void drain_shm();
    std::string control_shm_drain(bool hold);
    void dispatch(Channel ch, const Frame& f) { dispatcher.dispatch(ch, f); }
    void diag(const std::string& line) { config.diagnostics(as_bytes(line)); }
    void on_sched_exit();
    void on_lifecycle(Channel ch, const Frame& f);
    void on_crash(Channel ch, const Frame& f);
    void final_pass() noexcept;
    void note_loop_error(const char* what) noexcept;

    HostLoopConfig config;
    asio::io_context io{1};
    asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
    asio::steady_timer timer{io};

    std::optional<ShmDrain> shm;
    std::optional<MessageLog> log;
    Dispatcher dispatcher;
    RunRecorder recorder;
    BulkChannel bulk;
    SnapshotResponder responder;

    std::thread thread;
    bool started = false;
    bool finished = false;
    bool stop_requested = false;        // loop thread
    bool shm_drain_held = false;        // loop thread: the guest asked to hold the live drain
    std::uint64_t output_errors = 0;    // loop thread
    std::uint64_t status_reports = 0;   // loop thread
    std::uint64_t crash_reports = 0;    // loop thread
    std::uint64_t lifecycle_lines = 0;  // loop thread
    std::uint64_t loop_errors = 0;      // loop thread
    std::string last_loop_error;        // loop thread
    RunResult result;                   // written by the final pass
};

HostLoop::Impl::Impl(HostLoopConfig c)
    : config(with_defaults(std::move(c))),
      shm(),
      log(open_log(config)),
      recorder(*config.start_time, config.limits),
      bulk(config.bulk, config.send_to_guest, [this] { asio::post(io, [this] { pump_bulk(); }); }),
      responder(SnapshotResponderConfig{config.output_dir, shm_region(config), log ? &*log : nullptr,
                                        config.max_snapshot_captures, config.max_snapshot_bytes,
                                        [this](bool hold) { return control_shm_drain(hold); },
                                        config.max_pending_captures,
                                        [this] { asio::post(io, [this] { responder.deliver_captures(); }); },
                                        config.before_capture_write},
                [this](byte_view frame) { return bulk.send(frame); }) {
    if (auto r = shm_region(config))
        shm.emplace(*r);
    subscribe();
}

void HostLoop::Impl::subscribe() {
    if (log)
        dispatcher.subscribe_all([this](Channel c, const Frame& f) { log->write(c, f); });
    dispatcher.subscribe_all([this](Channel ch, const Frame& f) { recorder.record(ch, f, Clock::now()); });
    dispatcher.subscribe(MsgType::Stdout, [this](Channel, const Frame& f) {
        if (!config.stdout_sink(f.payload))
            ++output_errors;
    });
    dispatcher.subscribe(MsgType::Stderr, [this](Channel, const Frame& f) {
        if (!config.stderr_sink(f.payload))
            ++output_errors;
    });
    // The scheduler's output and the kernel log: kept where the VMM says
    // (bounded files); a failed write is an output error like stdout's.
    for (const auto& route : {std::pair{MsgType::SchedLog, &config.sched_log_sink},
                              std::pair{MsgType::Dmesg, &config.dmesg_sink}}) {
        OutputSink* sink = route.second;  // a plain variable: clang 14 cannot capture a structured binding
        if (!*sink)
            continue;
        dispatcher.subscribe(route.first, [this, sink](Channel, const Frame& f) {
            if (!(*sink)(f.payload))
                ++output_errors;
        });
    }
    dispatcher.subscribe(MsgType::SchedExit, [this](Channel, const Frame&) { on_sched_exit(); });
    dispatcher.subscribe(MsgType::Crash, [this](Channel ch, const Frame& f) { on_crash(ch, f); });
    dispatcher.subscribe(MsgType::Lifecycle, [this](Channel ch, const Frame& f) { on_lifecycle(ch, f); });
    dispatcher.subscribe(MsgType::SnapshotRequest, [this](Channel, const Frame& f) { responder.on_request(f); });
}

void HostLoop::Impl::on_sched_exit() {
    if (stop_requested)
        return;
    stop_requested = true;
    recorder.result().stopped_by_sched_exit = true;
    if (config.verbose)
        diag("ktstr-vmm: scheduler exited in the guest; stopping the VM\n");
    if (config.stop_vm)
        config.stop_vm();
}

void HostLoop::Impl::on_crash(Channel ch, const Frame& f) {
    // Every guest line behind the prefix, escaped: the guest cannot send
    // terminal controls or a line that reads as the host's own.
    if (++crash_reports > max_crash_reports_printed) {
        if (crash_reports == max_crash_reports_printed + 1)
            diag("ktstr-vmm: more guest crash reports, not printed (--messages and --json keep them)\n");
        return;
    }
    const std::string_view text(reinterpret_cast<const char*>(f.payload.data()), f.payload.size());
    diag("ktstr-vmm: guest crash report (" + std::string(to_string(ch)) + "):\n" +
         terminal_lines(text, crash_line_prefix, max_crash_lines_printed));
}

void HostLoop::Impl::on_lifecycle(Channel ch, const Frame& f) {
    auto l = decode_lifecycle(f.payload);
    if (!l)
        return;  // counted as invalid by the recorder
    LifecycleStage stage{l->phase, std::move(l->reason), Clock::now() - *config.start_time, ch};
    if (config.verbose && ++lifecycle_lines <= max_lifecycle_lines_printed) {
        diag("ktstr-vmm: init stage " + std::string(lifecycle_phase_name(stage.phase)) +
             (stage.reason.empty() ? "" : ": " + terminal_line(stage.reason)) + "\n");
        if (lifecycle_lines == max_lifecycle_lines_printed)
            diag("ktstr-vmm: more init stages, not printed\n");
    }
    if (config.on_lifecycle)
        config.on_lifecycle(stage);
}

void HostLoop::Impl::pump_bulk() {
    bulk.pump([this](Frame&& f) { dispatch(Channel::bulk, f); });
}

void HostLoop::Impl::drain_shm() {
    if (!shm)
        return;
    auto pass = shm->drain();
    if (pass.status_changed && config.verbose && status_reports < max_status_reports) {
        ++status_reports;
        diag(std::string("ktstr-vmm: SHM ring: ") + to_string(pass.status) + "\n");
    }
    for (const auto& f : pass.frames)
        dispatch(Channel::shm, f);
}

// On the loop thread, like every drain pass: once this returns with the
// hold set, no live pass runs until the release, so the reply the
// responder sends next is a barrier the guest can rely on.
std::string HostLoop::Impl::control_shm_drain(bool hold) {
    if (!shm)
        return "no SHM ring";
    if (hold) {
        shm_drain_held = true;
        return {};
    }
    shm_drain_held = false;
    drain_shm();  // what the guest wrote while held, before the reply
    return {};
}

void HostLoop::Impl::schedule_tick() {
    timer.expires_after(config.shm_poll_interval);
    timer.async_wait([this](const boost::system::error_code& ec) {
        if (ec)
            return;  // cancelled by the final pass
        // A capture being written copies the ring as the request found it:
        // no live pass moves its tail meanwhile (before captures had their
        // own thread, the copy held the loop, and so the drain, too).
        if (!shm_drain_held && responder.pending_captures() == 0)
            drain_shm();
        schedule_tick();
    });
}

void HostLoop::Impl::note_loop_error(const char* what) noexcept {
    ++loop_errors;
    try {
        last_loop_error = what;
    } catch (...) {
    }
}

void HostLoop::Impl::run_thread() noexcept {
    // Signals belong to the VMM's main thread; blocking them here also
    // turns a write to a closed stdout pipe into EPIPE instead of SIGPIPE.
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, nullptr);
    for (;;) {
        try {
            io.run();
            return;
        } catch (const std::exception& e) {
            note_loop_error(e.what());
        } catch (...) {
            note_loop_error("unknown exception");
        }
    }
}

void HostLoop::Impl::final_pass() noexcept {
    // Each step runs whatever an earlier one threw: captures requested
    // before the vCPUs stopped are written and counted, before the last
    // drain moves the ring's tail under their copies; a request in that
    // drain makes one more.
    auto step = [this](auto&& f) noexcept {
        try {
            f();
        } catch (const std::exception& e) {
            note_loop_error(e.what());
        } catch (...) {
            note_loop_error("unknown exception");
        }
    };
    step([this] {
        bulk.close();
        timer.cancel();
        pump_bulk();
    });
    step([this] { responder.wait_captures(); });
    step([this] { drain_shm(); });
    step([this] { responder.wait_captures(); });
    try {
        recorder.finish(Clock::now());
        if (log)
            log->finish();
        result = recorder.take_result();  // moved: the kept texts can be megabytes
        result.bulk = bulk.stats();
        result.shm_present = shm.has_value();
        if (shm)
            result.shm = shm->stats();
        result.snapshots = responder.stats();
        result.handler_errors = dispatcher.handler_errors();
        result.last_handler_error = dispatcher.last_handler_error();
        result.output_errors = output_errors;
        if (log) {
            result.message_log_error = log->error();
            result.message_log_left_out = log->left_out_frames();
        }
        result.loop_errors = loop_errors;
        result.last_loop_error = last_loop_error;
    } catch (const std::exception& e) {
        note_loop_error(e.what());
        result.loop_errors = loop_errors;
    }
}

HostLoop::HostLoop(HostLoopConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}

HostLoop::~HostLoop() {
    if (impl_->thread.joinable()) {
        impl_->work.reset();
        impl_->io.stop();
        impl_->thread.join();
    }
}

Dispatcher& HostLoop::dispatcher() {
    if (impl_->started)
        throw std::logic_error("subscribers must be added before the host loop starts");
    return impl_->dispatcher;
}

void HostLoop::start() {
    if (impl_->started)
        throw std::logic_error("the host loop was already started");
    if (impl_->finished)
        throw std::logic_error("the host loop was already stopped");
    impl_->started = true;
    if (impl_->shm)
        impl_->schedule_tick();
    impl_->thread = std::thread([impl = impl_.get()] { impl->run_thread(); });
}

bool HostLoop::bulk_transmit(byte_view bytes) noexcept { return impl_->bulk.hand_over(bytes); }

std::size_t HostLoop::bulk_backlog_bytes() const { return impl_->bulk.backlog_bytes(); }

bool HostLoop::signal_guest(std::size_t slot, std::uint8_t value) noexcept {
    const auto& c = impl_->config;
    return c.shm_size != 0 && signal_guest_value(c.memory, c.shm_base, slot, value);
}

bool HostLoop::request_dump() noexcept {
    const auto& c = impl_->config;
    return c.shm_size != 0 && host::request_dump(c.memory, c.shm_base);
}

bool HostLoop::request_stall() noexcept {
    const auto& c = impl_->config;
    return c.shm_size != 0 && host::request_stall(c.memory, c.shm_base);
}

const RunResult& HostLoop::stop_after_vcpus() {
    auto& impl = *impl_;
    if (impl.finished)
        return impl.result;
    if (impl.started && std::this_thread::get_id() == impl.thread.get_id())
        throw std::logic_error("stop_after_vcpus() called from the host loop's own thread");
    if (impl.started) {
        asio::post(impl.io, [p = &impl] {
            p->final_pass();
            p->work.reset();
            p->io.stop();
        });
        impl.thread.join();
    } else {
        impl.final_pass();
    }
    impl.finished = true;
    return impl.result;
}

}  // namespace ktstr::host
