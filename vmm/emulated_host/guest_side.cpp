#include "emulated_host/guest_side.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <thread>

#include <fcntl.h>
#include <linux/kvm.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/core.h>

#include "emulated_host/channels.hpp"
#include "emulated_host/return_stream.hpp"
#include "ktstr/common/unique_fd.hpp"

namespace ktstr::vmm::emulated_host {
namespace fs = std::filesystem;
namespace {

using clock = std::chrono::steady_clock;

constexpr int start_failed = 125;
// After the command exited, how long its descendants may keep its
// output pipes open before we stop reading them.
constexpr auto output_grace = std::chrono::seconds(2);

// The data port's device node, once it exists: the port appears when
// QEMU answered virtio_console's control messages, shortly after the
// module loaded.
fs::path wait_for_data_port(const GuestSideOptions& o) {
    const auto deadline = clock::now() + o.port_wait;
    for (;;) {
        std::error_code ec;
        for (const auto& entry : fs::directory_iterator(o.ports_dir, ec)) {
            std::ifstream f(entry.path() / "name");
            std::string name;
            const auto node = o.dev_dir / entry.path().filename();
            if (f && std::getline(f, name) && name == data_port && ::access(node.c_str(), R_OK | W_OK) == 0)
                return node;
        }
        if (clock::now() >= deadline)
            throw std::runtime_error(fmt::format("the virtio port {} did not appear in {} within {} ms "
                                                 "(virtio_console not loaded?)",
                                                 data_port, o.ports_dir.string(), o.port_wait.count()));
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

// One line for the caller's stderr, through the port; also on our own
// stderr, which ktstr-init echoes on the console.
void report(int port, const std::string& what) noexcept {
    const auto line = "ktstr-vmm: emulated host: " + what + "\n";
    std::fputs(line.c_str(), stderr);
    try {
        write_output_chunk(port, return_kind_stderr, {reinterpret_cast<const std::uint8_t*>(line.data()), line.size()});
    } catch (const std::exception&) {
    }
}

// Makes each staged host path visible at its own path. A path inside a
// directory already mounted is covered by it.
void bind_host_paths(const fs::path& root, std::vector<fs::path> paths) {
    std::sort(paths.begin(), paths.end());
    std::vector<fs::path> done;
    for (const auto& p : paths) {
        const bool covered = std::any_of(done.begin(), done.end(), [&](const fs::path& d) {
            auto [a, b] = std::mismatch(d.begin(), d.end(), p.begin(), p.end());
            return a == d.end();
        });
        if (covered || !is_plain_absolute(p))
            continue;
        const fs::path source = root / p.relative_path();
        std::error_code ec;
        const bool dir = fs::is_directory(source, ec);
        if (ec || !fs::exists(source, ec))
            throw std::runtime_error(fmt::format("{}: missing from the initramfs", source.string()));
        if (dir) {
            fs::create_directories(p, ec);
        } else {
            fs::create_directories(p.parent_path(), ec);
            if (!fs::exists(p))
                UniqueFd(::open(p.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
        }
        if (::mount(source.c_str(), p.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
            throw std::runtime_error(fmt::format("bind mount of {} on {}: {}", source.string(), p.string(), std::strerror(errno)));
        done.push_back(p);
    }
}

// x86 KVM flips static keys, rewriting its own code with int3 breakpoints
// and sync IPIs (text_poke_bp), as vCPUs come and go: kvm_has_noapic_vcpu
// for a vCPU without an in-kernel local APIC (kvm-check's), apic_sw_disabled
// for one whose APIC the guest has not enabled yet (every vCPU at creation;
// the guest's enabling drops it again, a second later). Under multi-threaded
// TCG, rewriting code the other outer CPU is executing has hung the outer
// guest: caught once with both CPUs spinning, one at the int3 entry, the
// other in a spinlock's slow path, right after an inner VMM started
// (docs/kvm-anywhere.md). One never-run vCPU of each kind, held for the
// outer guest's life, keeps both keys on, so inner VMs never flip them.
// Best effort: a failure only leaves the keys to flip as before.
void pin_kvm_static_keys([[maybe_unused]] int kvm) {
#if defined(__x86_64__)
    const int without_apic = ::ioctl(kvm, KVM_CREATE_VM, 0);
    if (without_apic >= 0)
        (void)::ioctl(without_apic, KVM_CREATE_VCPU, 0);
    const int with_apic = ::ioctl(kvm, KVM_CREATE_VM, 0);
    if (with_apic >= 0 && ::ioctl(with_apic, KVM_CREATE_IRQCHIP, 0) == 0)
        (void)::ioctl(with_apic, KVM_CREATE_VCPU, 0);
    // The descriptors stay open until the holder dies with the outer guest.
#endif
}

// KVM on the 6.1 kernel enables virtualisation on every CPU when the first
// VM is created and disables it, again on every CPU by IPI, when the last
// one is destroyed. Under TCG that disabling IPI occasionally never
// completes (a soft lockup in kvm_destroy_vm waiting for the other CPU,
// seen about once in 20 runs), which hangs the inner command as it closes
// its VM. A child holding one empty VM for the rest of the outer guest's
// life keeps KVM's usage count above zero, so the inner VMs come and go
// without those IPIs; it also pins KVM's static keys (pin_kvm_static_keys).
// The child closes every other descriptor (ktstr-init must not wait for it
// on the output pipes) and is never waited for: the outer guest powers off
// with it still there. The inner command starts only once it is ready.
void start_kvm_holder() {
    int ready[2];
    if (::pipe2(ready, O_CLOEXEC) != 0)
        return;
    UniqueFd rd(ready[0]), wr(ready[1]);
    const pid_t pid = ::fork();
    if (pid < 0)
        return;
    if (pid == 0) {
        for (int fd = 0; fd < 1024; ++fd)
            if (fd != wr.get())
                ::close(fd);
        ::setsid();
        const int kvm = ::open("/dev/kvm", O_RDWR | O_CLOEXEC);
        const int vm = kvm < 0 ? -1 : ::ioctl(kvm, KVM_CREATE_VM, 0);
        if (vm >= 0)
            pin_kvm_static_keys(kvm);
        const char ok = vm >= 0 ? '1' : '0';
        ssize_t ignored = ::write(wr.get(), &ok, 1);
        (void)ignored;
        ::close(wr.get());
        if (vm < 0)
            ::_exit(0);
        for (;;)
            ::pause();
    }
    wr.reset();
    char c = 0;
    while (::read(rd.get(), &c, 1) < 0 && errno == EINTR) {
    }
}

int status_of(int wstatus) {
    if (WIFEXITED(wstatus))
        return WEXITSTATUS(wstatus);
    if (WIFSIGNALED(wstatus))
        return 128 + WTERMSIG(wstatus);
    return start_failed;
}

}  // namespace

int run_guest_side(const GuestSideOptions& o) {
    if (o.command.empty()) {
        std::fprintf(stderr, "ktstr-vmm emulated-host-inside: no command\n");
        return start_failed;
    }
    UniqueFd port;
    try {
        const auto node = wait_for_data_port(o);
        port.reset(::open(node.c_str(), O_RDWR | O_CLOEXEC));
        if (!port)
            throw std::runtime_error(fmt::format("{}: cannot open: {}", node.string(), std::strerror(errno)));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ktstr-vmm emulated-host-inside: %s\n", e.what());
        return start_failed;
    }
    try {
        bind_host_paths(o.host_root, o.host_paths);
    } catch (const std::exception& e) {
        report(port.get(), e.what());
        return start_failed;
    }
    std::error_code ec;
    if (!o.cwd.empty()) {
        fs::create_directories(o.cwd, ec);
        if (::chdir(o.cwd.c_str()) < 0) {
            report(port.get(), fmt::format("cannot enter {}: {}", o.cwd.string(), std::strerror(errno)));
            return start_failed;
        }
    }
    for (const auto& p : o.outputs)
        fs::create_directories(p.parent_path(), ec);
    if (o.hold_kvm)
        start_kvm_holder();

    // The command's stdout and stderr come through pipes that we copy to
    // the port as return-stream chunks, so that the end record can follow
    // the last of them.
    int out_fds[2], err_fds[2];
    if (::pipe2(out_fds, O_CLOEXEC) != 0 || ::pipe2(err_fds, O_CLOEXEC) != 0) {
        report(port.get(), fmt::format("pipe: {}", std::strerror(errno)));
        return start_failed;
    }
    UniqueFd out_r(out_fds[0]), out_w(out_fds[1]), err_r(err_fds[0]), err_w(err_fds[1]);

    std::vector<char*> argv;
    for (const auto& a : o.command)
        argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);

    const pid_t pid = ::fork();
    if (pid < 0) {
        report(port.get(), fmt::format("fork: {}", std::strerror(errno)));
        return start_failed;
    }
    if (pid == 0) {
        ::dup2(out_w.get(), STDOUT_FILENO);
        ::dup2(err_w.get(), STDERR_FILENO);
        ::execv(argv[0], argv.data());
        const int e = errno;
        dprintf(STDERR_FILENO, "ktstr-vmm: emulated host: cannot run %s: %s\n", argv[0], std::strerror(e));
        ::_exit(e == ENOENT ? 127 : 126);
    }
    out_w.reset();
    err_w.reset();

    int status = -1;
    try {
        std::optional<clock::time_point> drain_until;
        std::vector<std::uint8_t> buf(1 << 16);
        while (out_r || err_r) {
            if (status < 0) {
                int st = 0;
                if (::waitpid(pid, &st, WNOHANG) == pid) {
                    status = status_of(st);
                    drain_until = clock::now() + output_grace;
                }
            }
            if (drain_until && clock::now() >= *drain_until)
                break;  // a descendant still holds the pipes; stop waiting for it
            pollfd pfds[2] = {{out_r ? out_r.get() : -1, POLLIN, 0}, {err_r ? err_r.get() : -1, POLLIN, 0}};
            if (::poll(pfds, 2, 100) < 0 && errno != EINTR)
                throw std::runtime_error(fmt::format("poll: {}", std::strerror(errno)));
            for (int i = 0; i < 2; ++i) {
                if (pfds[i].revents == 0)
                    continue;
                UniqueFd& fd = i == 0 ? out_r : err_r;
                ssize_t n = ::read(fd.get(), buf.data(), buf.size());
                if (n < 0 && errno == EINTR)
                    continue;
                if (n <= 0) {
                    fd.reset();
                    continue;
                }
                write_output_chunk(port.get(), i == 0 ? return_kind_stdout : return_kind_stderr,
                                   {buf.data(), static_cast<std::size_t>(n)});
            }
        }
        if (status < 0) {
            int st = 0;
            while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
            }
            status = status_of(st);
        }
        write_outputs(port.get(), o.outputs);
        write_end(port.get());
    } catch (const std::exception& e) {
        report(port.get(), fmt::format("returning the results: {}", e.what()));
        if (status < 0) {
            int st = 0;
            ::waitpid(pid, &st, 0);
        }
        return start_failed;
    }

    // Power-off drops whatever QEMU has not passed on yet: wait until the
    // host has read everything (return_stream.hpp).
    pollfd ack{port.get(), POLLIN, 0};
    const auto ack_deadline = clock::now() + o.ack_wait;
    for (auto now = clock::now(); now < ack_deadline; now = clock::now()) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(ack_deadline - now);
        if (::poll(&ack, 1, static_cast<int>(left.count())) > 0) {
            char c = 0;
            if (::read(port.get(), &c, 1) == 1 && c == return_ack)
                break;
            if (!(ack.revents & POLLIN) || c == 0)
                break;  // end of file (a test's plain file): nobody will answer
        }
    }
    return status;
}

}  // namespace ktstr::vmm::emulated_host
