#include "emulated_host/guest_side.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <stdexcept>
#include <thread>

#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/core.h>

#include "emulated_host/channels.hpp"
#include "emulated_host/output_stream.hpp"
#include "kvm/unique_fd.hpp"

namespace ktstr::vmm::emulated_host {
namespace fs = std::filesystem;
namespace {

constexpr int start_failed = 125;

// Port name -> device node, for the ports present now.
std::map<std::string, fs::path> list_ports(const GuestSideOptions& o) {
    std::map<std::string, fs::path> ports;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(o.ports_dir, ec)) {
        std::ifstream f(entry.path() / "name");
        std::string name;
        if (f && std::getline(f, name) && !name.empty())
            ports.emplace(name, o.dev_dir / entry.path().filename());
    }
    return ports;
}

UniqueFd open_port(const fs::path& node) {
    UniqueFd fd(::open(node.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd)
        throw std::runtime_error(fmt::format("{}: cannot open: {}", node.string(), std::strerror(errno)));
    return fd;
}

// Waits until every port exists with its device node; the ports appear
// once QEMU answered virtio_console's control messages, shortly after the
// module loaded.
std::map<std::string, fs::path> wait_for_ports(const GuestSideOptions& o) {
    const auto deadline = std::chrono::steady_clock::now() + o.port_wait;
    for (;;) {
        auto ports = list_ports(o);
        bool all = true;
        for (auto name : {stdout_port, stderr_port, files_port}) {
            auto it = ports.find(std::string(name));
            all = all && it != ports.end() && ::access(it->second.c_str(), W_OK) == 0;
        }
        if (all)
            return ports;
        if (std::chrono::steady_clock::now() >= deadline)
            throw std::runtime_error(fmt::format(
                "the virtio ports {}, {} and {} did not all appear in {} within {} ms (virtio_console not loaded?)",
                stdout_port, stderr_port, files_port, o.ports_dir.string(), o.port_wait.count()));
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
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

// KVM on the 6.1 kernel enables virtualisation on every CPU when the first
// VM is created and disables it, again on every CPU by IPI, when the last
// one is destroyed. Under TCG that disabling IPI occasionally never
// completes (a soft lockup in kvm_destroy_vm waiting for the other CPU,
// seen about once in 20 runs), which hangs the inner command as it closes
// its VM. A child holding one empty VM for the rest of the outer guest's
// life keeps KVM's usage count above zero, so the inner VMs come and go
// without those IPIs. The child closes every other descriptor (ktstr-init
// must not wait for it on the output pipes) and is never waited for: the
// outer guest powers off with it still there.
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
    UniqueFd out, err, files;
    try {
        auto ports = wait_for_ports(o);
        out = open_port(ports.at(std::string(stdout_port)));
        err = open_port(ports.at(std::string(stderr_port)));
        files = open_port(ports.at(std::string(files_port)));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ktstr-vmm emulated-host-inside: %s\n", e.what());
        return start_failed;
    }
    // From here on our own messages reach the caller's stderr too.
    std::fflush(stderr);
    ::dup2(err.get(), STDERR_FILENO);

    try {
        bind_host_paths(o.host_root, o.host_paths);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ktstr-vmm: emulated host: %s\n", e.what());
        return start_failed;
    }
    std::error_code ec;
    if (!o.cwd.empty()) {
        fs::create_directories(o.cwd, ec);
        if (::chdir(o.cwd.c_str()) < 0) {
            std::fprintf(stderr, "ktstr-vmm: emulated host: cannot enter %s: %s\n", o.cwd.c_str(), std::strerror(errno));
            return start_failed;
        }
    }
    for (const auto& p : o.outputs)
        fs::create_directories(p.parent_path(), ec);

    if (o.hold_kvm)
        start_kvm_holder();

    std::vector<char*> argv;
    for (const auto& a : o.command)
        argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);

    const pid_t pid = ::fork();
    if (pid < 0) {
        std::fprintf(stderr, "ktstr-vmm: emulated host: fork: %s\n", std::strerror(errno));
        return start_failed;
    }
    if (pid == 0) {
        ::dup2(out.get(), STDOUT_FILENO);
        ::dup2(err.get(), STDERR_FILENO);
        ::execv(argv[0], argv.data());
        const int e = errno;
        dprintf(STDERR_FILENO, "ktstr-vmm: emulated host: cannot run %s: %s\n", argv[0], std::strerror(e));
        ::_exit(e == ENOENT ? 127 : 126);
    }
    int wstatus = 0;
    while (::waitpid(pid, &wstatus, 0) < 0) {
        if (errno != EINTR) {
            std::fprintf(stderr, "ktstr-vmm: emulated host: waitpid: %s\n", std::strerror(errno));
            return start_failed;
        }
    }
    const int status = status_of(wstatus);
    out.reset();
    try {
        write_outputs(files.get(), o.outputs);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ktstr-vmm: emulated host: sending output files: %s\n", e.what());
        return status != 0 ? status : start_failed;
    }
    files.reset();
    return status;
}

}  // namespace ktstr::vmm::emulated_host
