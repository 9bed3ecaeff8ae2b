#include "run/guest_run.hpp"

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <unistd.h>

#include <fmt/core.h>

#include <ktstr/common/fd_write.hpp>
#include <ktstr/common/payloads.hpp>
#include <ktstr/common/json_line.hpp>
#include <ktstr/common/scheduler_fate.hpp>
#include <ktstr/host/capped_file.hpp>
#include <ktstr/host/exit_line.hpp>
#include <ktstr/host/host_loop.hpp>
#include <ktstr/host/scheduler_report.hpp>
#include <ktstr/host/run_summary.hpp>
#include <ktstr/host/terminal_text.hpp>

#include "kernel/system_map.hpp"
#include "run/console_watch.hpp"
#include "run/run_verdict.hpp"
#include "run/timeout_dump.hpp"

namespace ktstr::vmm::run {

using machine::Machine;
using machine::MachineOutputs;
using machine::Stop;
using machine::StopReason;
using machine::stop_reason_name;
namespace {

using clock = std::chrono::steady_clock;

// After a panic line, how long the reset from panic=-1 may take before the
// VM is stopped anyway (a panic that hangs instead of resetting).
constexpr auto panic_grace = std::chrono::seconds(3);

constexpr std::uint32_t bulk_port = 1;

// x86_64's _text before KASLR (CONFIG_PHYSICAL_START 16 MiB above
// __START_KERNEL_map), for kernels whose System.map is not at hand.
constexpr std::uint64_t default_text = 0xffffffff81000000ULL;

// Console lines shown after a boot timeout (the console log has them all).
constexpr std::size_t boot_timeout_console_lines = 20;

// The scheduler's output and the dump's kernel log: the guest decides how
// much it sends, these bound what lands on disk.
constexpr std::uint64_t max_scheduler_log = 16ull << 20;
constexpr std::uint64_t max_dump_log = 16ull << 20;
// After a timeout's dump request: the machine's own deadline is this much
// later still, in case the dump thread never stops it.
constexpr auto dump_backstop = std::chrono::seconds(5);

// What a scheduler run keeps beside the result (output_dir).
struct SchedulerFiles {
    std::shared_ptr<host::CappedFile> log;
    std::shared_ptr<host::CappedFile> dump;
};

run::SchedulerFailure failure_of(host::SchedulerOutcome o) {
    switch (o) {
    case host::SchedulerOutcome::ejected: return SchedulerFailure::ejected;
    case host::SchedulerOutcome::exited: return SchedulerFailure::exited;
    case host::SchedulerOutcome::never_attached: return SchedulerFailure::never_attached;
    default: return SchedulerFailure::none;
    }
}

void say(const std::string& line) {
    fmt::print(stderr, "ktstr-vmm: {}\n", line);
    std::fflush(stderr);
}

// "vCPU 0 at 0xffffffffa1a2b3c4 (default_idle+0x14), vCPU 1 at ...": named
// from the System.map when there is one, moved by the KASLR displacement
// the guest's own page tables show (a diagnostic: whatever is missing
// leaves the addresses bare).
std::string describe_positions(const Machine& machine, const std::filesystem::path& system_map) {
    const auto& positions = machine.vcpu_stop_positions();
    const auto map = kernel::SystemMap::read_if_useful(system_map);
    // KASLR moves the text by a multiple of 2 MiB, upwards only.
    // Without a real System.map (Debian's is a stub; the real one is in
    // the -dbg package), x86_64's link-time _text: the address there is
    // what addr2line on that package's vmlinux takes.
    std::optional<std::uint64_t> displacement;
    {
        const std::uint64_t text_address = map ? map->address_of("_text").value_or(default_text) : default_text;
        for (const auto& p : positions) {
            if (!p)
                continue;
            if (auto page = machine.kernel_image_page(*p); page && *page >= text_address) {
                displacement = *page - text_address;
                break;
            }
        }
    }
    std::string out;
    for (std::size_t i = 0; i < positions.size(); ++i) {
        out += fmt::format("{}vCPU {} ", i == 0 ? "" : ", ", i);
        if (!positions[i]) {
            out += "unknown";
            continue;
        }
        const auto rip = positions[i]->rip;
        out += fmt::format("at {:#x}", rip);
        if (!displacement || rip < *displacement)
            continue;
        if (auto name = map ? map->describe(rip - *displacement) : std::nullopt)
            out += " (" + *name + ")";
        else if (*displacement != 0)
            out += fmt::format(" (link-time {:#x})", rip - *displacement);
    }
    return out.empty() ? "no vCPU ran" : out;
}

// The process's start, near enough for boot phases in milliseconds: when
// this code was loaded, before main().
const clock::time_point loaded_at = clock::now();

// Where a boot's time went, in milliseconds from the process's start:
// the vCPUs' start (the VMM's setup before it), ktstr-init's boot mark (the
// kernel's boot before it) and the command's start (init's work before
// it). Null for a point the run did not reach.
nlohmann::ordered_json boot_timeline(const Machine& machine, clock::time_point start, const host::RunResult& result) {
    auto ms = [](std::optional<clock::time_point> t) -> nlohmann::ordered_json {
        if (!t)
            return nullptr;
        return std::chrono::duration<double, std::milli>(*t - loaded_at).count();
    };
    std::optional<clock::time_point> command;
    for (const auto& st : result.lifecycle)
        if (st.phase == LifecyclePhase::PayloadStarting && !parse_fate(st.reason)) {
            command = start + std::chrono::duration_cast<clock::duration>(st.at);
            break;
        }
    return {{"vcpus_started_ms", ms(machine.vcpus_started())},
            {"init_started_ms", ms(machine.boot_timer().first(BootMark::init_started))},
            {"command_started_ms", ms(command)}};
}

double seconds_since(clock::time_point t) {
    return std::chrono::duration<double>(clock::now() - t).count();
}

host::HostLoopConfig host_config(const GuestRunOptions& o, Machine& machine, clock::time_point start,
                                 std::atomic<bool>& command_started, const host::LineStartTracker& stdout_line,
                                 const SchedulerFiles& files, std::optional<TimeoutDump>& dump) {
    host::HostLoopConfig hc;
    // The guest's stdout, watched for its last byte: --json's result must
    // start on a line of its own.
    hc.stdout_sink = stdout_line.wrap(host::fd_sink(STDOUT_FILENO));
    const auto& map = machine.memory_map();
    if (map.shm.size != 0) {
        // The host sees the SHM region and nothing else of the guest.
        // GuestRam wrote the ring header when it mapped the region.
        hc.memory = GuestMemory({{map.shm.start, {machine.shm().data(), machine.shm().size()}}});
        hc.shm_base = map.shm.start;
        hc.shm_size = map.shm.size;
    }
    // The Machine is built before the loop and outlives it; each of these
    // may be called from any thread.
    hc.send_to_guest = [&machine](byte_view b) { return machine.console().queue_receive(bulk_port, b); };
    hc.stop_vm = [&machine] { machine.request_stop("the guest's scheduler exited (SchedExit)"); };
    // The command's timeout starts with the first PayloadStarting; a guest
    // repeating it cannot move the deadline again.
    // The scheduler's attach record is a PayloadStarting too: not the
    // command's start. With a scheduler, the timeout first asks for its
    // dump (timeout_dump.hpp), the machine's deadline a backstop.
    hc.on_lifecycle = [&machine, &command_started, &dump, timeout = o.timeout](const host::LifecycleStage& st) {
        if (st.phase != LifecyclePhase::PayloadStarting || parse_fate(st.reason))
            return;
        if (command_started.exchange(true))
            return;
        const auto now = clock::now();
        if (dump) {
            machine.set_deadline(now + timeout + TimeoutDump::Config{}.grace + dump_backstop);
            dump->arm(now + timeout);
        } else {
            machine.set_deadline(now + timeout);
        }
    };
    if (files.log)
        hc.sched_log_sink = host::capped_file_sink(files.log);
    if (files.dump)
        hc.dmesg_sink = [file = files.dump, &dump](byte_view b) {
            if (dump)
                dump->note_output();
            return file->write(b);
        };
    hc.output_dir = o.output_dir;       // where captures go
    hc.messages_path = o.messages_path;  // the message log only with --messages
    hc.verbose = o.verbose;
    hc.start_time = start;
    return hc;
}

}  // namespace

int run_guest(GuestRunOptions options, machine::BootFiles boot) {
    const auto start = clock::now();
    const bool verbose = options.verbose;

    // Built in the order each needs the last: the Machine (guest RAM, SHM,
    // devices) first; what watches its outputs and the host loop (which
    // reads its SHM and answers through its console) after it, so they go
    // first; the outputs are wired at run().
    Machine machine(options.machine, boot);
    const std::size_t initrd_bytes = boot.initrd().size();
    {
        // Both files are in guest RAM now: their mappings go before the run.
        const machine::BootFiles copied = std::move(boot);
    }
    // Set on the loop thread, read after it stopped.
    std::atomic<bool> command_started{false};
    ConsoleWatch com1(std::move(options.console_log), verbose,
                      [&machine](std::string_view) { machine.limit_deadline(clock::now() + panic_grace); });

    // COM2's sink runs with the UART locked: one caller at a time. Its
    // lines are guest text: escaped on stderr (terminal_text.hpp), and at
    // most max_com2_lines kept and printed live.
    constexpr std::size_t max_com2_lines = 64;
    std::vector<std::string> com2_lines;
    std::uint64_t com2_left_out = 0;
    host::ExitLineScanner com2([&](std::string_view line) {
        if (com2_lines.size() == max_com2_lines) {
            ++com2_left_out;
            return;
        }
        com2_lines.push_back(host::terminal_line(line));
        if (verbose)
            say("com2: " + com2_lines.back());
    });
    std::mutex com2_mutex;

    SchedulerFiles files;
    if (options.scheduler && !options.output_dir.empty()) {
        std::error_code ec;
        std::filesystem::create_directories(options.output_dir, ec);
        if (ec)
            throw std::runtime_error(fmt::format("output directory {}: {}", options.output_dir.string(), ec.message()));
        files.log = std::make_shared<host::CappedFile>(options.output_dir / scheduler_log_name, max_scheduler_log);
        files.dump = std::make_shared<host::CappedFile>(options.output_dir / sched_ext_dump_name, max_dump_log);
    }
    // Armed by the command's start (loop thread); its thread asks the host
    // loop for the dump and stops the machine, so it must end before
    // either goes: the guard below, declared after both, stops it (joins
    // its thread) first on every path. The object itself outlives the
    // host loop, whose thread may still call arm() and note_output().
    std::optional<TimeoutDump> dump;
    host::LineStartTracker stdout_line;
    host::HostLoop host(host_config(options, machine, start, command_started, stdout_line, files, dump));
    if (options.scheduler)
        dump.emplace(TimeoutDump::Config{[&host] { return host.request_dump(); },
                                         [&machine] { machine.limit_deadline(clock::now()); }});
    struct EndDump {
        std::optional<TimeoutDump>& d;
        ~EndDump() {
            if (d)
                d->stop();
        }
    } end_dump{dump};
    const auto built = clock::now();
    if (verbose) {
        const auto& map = machine.memory_map();
        say(fmt::format("{} vCPUs, {} MiB of RAM, SHM {:#x}+{:#x}, initrd {} KiB; VM built in {:.3f} s", map.cpus,
                        map.ram_bytes() >> 20, map.shm.start, map.shm.size, initrd_bytes >> 10,
                        std::chrono::duration<double>(built - start).count()));
        say(fmt::format("kernel command line: {}", map.cmdline));
    }

    MachineOutputs outputs;
    outputs.com1 = [&](byte_view b) { com1.feed(b); };
    outputs.com2 = [&](byte_view b) {
        std::lock_guard lock(com2_mutex);
        com2.feed(b);
    };
    // With the device locked (device thread, a vCPU thread at a reset, or
    // run()'s last pass): bulk_transmit copies the bytes into the loop's
    // bounded queue and returns.
    outputs.console = [&host](std::uint32_t port, byte_view b) {
        if (port == bulk_port)
            host.bulk_transmit(b);
    };

    host.start();
    const Stop stop = machine.run(start + options.boot_timeout, std::move(outputs));
    // Joined before the host loop's final pass; requested() is final then.
    bool dump_requested = false;
    if (dump) {
        dump->stop();
        dump_requested = dump->requested();
    }
    // Every vCPU has stopped and the console's queues were drained: the
    // final pass over both channels, then the result.
    const host::RunResult& result = host.stop_after_vcpus();  // lives with `host`: no copy
    {
        std::lock_guard lock(com2_mutex);
        com2.finish();
    }
    com1.finish();  // the console log's note of what its cap left out, if anything

    RunEvidence e;
    e.stop = stop;
    e.exit_frame = result.guest_exit;
    e.exec_exit_frame = result.exec_exit;
    if (result.stopped_by_sched_exit)
        e.sched_exit = result.sched_exit;
    e.com2_exit = com2.exit_code();
    e.panic_line = com1.panic_line();
    if (auto last = com1.last_lines(1); !last.empty())
        e.last_console_line = last.back();
    e.timeout = options.timeout;
    e.boot_timeout = options.boot_timeout;
    e.command_started = command_started.load();
    std::optional<host::SchedulerReport> sched;
    if (options.scheduler) {
        sched = host::report_scheduler(result.scheduler, {options.scheduler->name, options.scheduler->args});
        if (files.log && files.log->exists())
            sched->log = files.log->path();
        if (files.dump && files.dump->exists())
            sched->dump = files.dump->path();
        e.scheduler_failure = failure_of(sched->outcome);
        e.scheduler_line = sched->describe();
    }
    const RunVerdict v = decide_run_verdict(e);

    // Without an exit frame, COM2's lines (init's errors, crash reports)
    // are the guest's last word.
    if (!verbose && !result.exit_code)
        for (const auto& line : com2_lines)
            say(fmt::format("com2: {}", line));
    if (com2_left_out != 0 && (verbose || !result.exit_code))
        say(fmt::format("com2: {} more lines, not printed", com2_left_out));
    if (verbose) {
        say(fmt::format("guest stopped: {}{} after {:.3f} s, {} exits; {} frames ({} CRC errors), {} bulk bytes, "
                        "{} SHM drops",
                        stop_reason_name(stop.reason), stop.detail.empty() ? "" : " (" + stop.detail + ")",
                        seconds_since(start), machine.exits(), result.frames, result.crc_errors,
                        result.bulk.received_bytes, result.shm.drops));
    }
    if (verbose)
        say("boot timeline, ms from the VMM's start: " + boot_timeline(machine, start, result).dump());
    if (!result.snapshots.capture_dirs.empty())
        say(fmt::format("{} snapshot capture(s) under {}", result.snapshots.capture_dirs.size(),
                        (options.output_dir / "snapshots").string()));
    if (result.bulk.handover_dropped_bytes != 0 || result.output_errors != 0 || !result.message_log_error.empty())
        say(fmt::format("host: {} bulk bytes refused (backlog full), {} output write errors{}",
                        result.bulk.handover_dropped_bytes, result.output_errors,
                        result.message_log_error.empty() ? "" : "; " + result.message_log_error));
    if (options.json || options.json_file) {
        auto j = result.to_json();
        if (sched)
            j["scheduler"] = sched->to_json();
        // What `run` exits with, and the VMM's reason when the status is
        // its own (run_verdict.hpp).
        j["exit_status"] = v.status;
        j["status_reason"] = v.reason;
        j["boot_timeline"] = boot_timeline(machine, start, result);
        const std::string text = json_line(j) + "\n";
        if (options.json) {
            // After every Stdout frame (the loop wrote them, and has
            // stopped), on a line of its own: a guest whose output does
            // not end in '\n' cannot make the result continue its line.
            if (!stdout_line.at_line_start())
                std::fputc('\n', stdout);
            std::fwrite(text.data(), 1, text.size(), stdout);
            std::fflush(stdout);
        }
        if (options.json_file && !write_all(options.json_file.get(), as_bytes(text)))
            say(fmt::format("cannot write the run result to --json-file: {}", std::strerror(errno)));
    }
    std::string reason = v.reason;
    if (stop.reason == StopReason::timeout) {
        // Where the guest got to: silent since boot, or stopped mid-stream.
        auto at = [](const std::optional<std::chrono::nanoseconds>& t) {
            return t ? fmt::format("{:.1f} s", std::chrono::duration<double>(*t).count()) : std::string("never");
        };
        const std::string_view stage =
            result.lifecycle.empty() ? std::string_view("none") : lifecycle_phase_name(result.lifecycle.back().phase);
        reason += fmt::format("; the host got {} frames ({} bulk bytes), the last at {}; boot complete at {}; "
                              "last init stage {}",
                              result.frames, result.bulk.received_bytes, at(result.last_frame_time),
                              at(result.boot_time), stage);
    }
    if (!reason.empty())
        say(reason);
    if (sched && (sched->failed() || stop.reason == StopReason::timeout)) {
        // Where to look next: the scheduler's own words and the kernel's dump.
        std::string where;
        if (!sched->log.empty())
            where += "scheduler log " + sched->log.string();
        if (!sched->dump.empty())
            where += std::string(where.empty() ? "" : ", ") + "sched_ext dump " + sched->dump.string();
        else if (dump_requested)
            where += std::string(where.empty() ? "" : ", ") + "no sched_ext dump came back";
        if (!where.empty())
            say(where);
    }
    for (const auto& f : {files.log, files.dump})
        if (f && (f->left_out() != 0 || !f->error().empty()))
            say(fmt::format("{}: {} bytes left out{}", f->path().string(), f->left_out(),
                            f->error().empty() ? "" : " (" + f->error() + ")"));
    if (stop.reason == StopReason::timeout && !e.command_started) {
        // A boot that never reached the command: the kernel's own words
        // (quiet still prints errors, soft lockups and stalls; verbose
        // showed them all already) and where the vCPUs were are all there
        // is to go on. Guest text: escaped, behind a prefix.
        std::string tail;
        for (const auto& line : com1.last_lines(boot_timeout_console_lines))
            tail += line + "\n";
        if (!tail.empty() && !verbose) {
            say("the kernel console's last lines:");
            fmt::print(stderr, "{}", host::terminal_lines(tail, "console| ", boot_timeout_console_lines));
        }
        say("where the vCPUs were: " + describe_positions(machine, options.system_map));
    }
    if (options.summary) {
        // The kind of stop only (our own words before the ':'), never the
        // guest text a reason may quote.
        const std::string whose = v.reason.empty() ? "the command's" : v.reason.substr(0, v.reason.find(':'));
        auto text = host::format_run_summary(result, v.status, whose);
        if (sched) {
            // The guest's part (ops, numbers) escaped, as everywhere.
            std::string line = "  scheduler: " + host::terminal_line(sched->request.name, 128);
            if (sched->attached && !sched->attached->ops.empty())
                line += " (ops " + host::terminal_line(sched->attached->ops, 64) + ")";
            if (sched->attached && sched->attached->attached_ms)
                line += fmt::format(", attached after {:.1f} s", static_cast<double>(*sched->attached->attached_ms) / 1000.0);
            line += fmt::format(", fate: {}", host::outcome_name(sched->outcome));
            if (sched->end && sched->end->kind && sched->outcome == host::SchedulerOutcome::ejected)
                line += fmt::format(" (kind {})", *sched->end->kind);
            text += line + "\n";
        }
        std::fwrite(text.data(), 1, text.size(), stderr);
        std::fflush(stderr);
    }
    return v.status;
}

}  // namespace ktstr::vmm::run
