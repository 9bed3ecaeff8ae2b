// Test fixture: points ktstr::guest at a private temporary directory
// (kernel command line, iomem, devices, lock files) and, optionally, at
// one end of a socketpair standing in for the bulk port, through
// KTSTR_BULK_FD as a child of ktstr-init would see it.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "ktstr/common/bytes.hpp"
#include "ktstr/common/msg_type.hpp"
#include "ktstr/common/tlv_assembler.hpp"
#include "ktstr/guest/paths.hpp"
#include "ktstr/common/unique_fd.hpp"
#include "ktstr/test/file_contents.hpp"
#include "ktstr/test/temp_dir.hpp"

namespace ktstr::test {

class GuestSandbox {
public:
    explicit GuestSandbox(const std::string& cmdline = "console=ttyS0 KTSTR_GUEST=1") {
        ::signal(SIGPIPE, SIG_IGN);  // tests close peers on purpose
        set_cmdline(cmdline);
        guest::Paths p;
        p.cmdline = path("cmdline");
        p.iomem = path("iomem");
        p.bulk_port = path("vport0p1");
        p.dev_mem = path("mem");
        p.com2 = path("com2");
        p.sysrq_trigger = path("sysrq-trigger");
        p.stall_file = path("ktstr_stall");
        p.kmsg = path("kmsg");
        p.sched_ext = path("sched_ext");
        p.tracing = path("tracing");
        p.bulk_lock = path("bulk.lock");
        p.shm_lock = path("shm.lock");
        p.snapshot_lock = path("snapshot.lock");
        ::unsetenv(guest::bulk_fd_env);
        guest::set_paths(p);
    }
    GuestSandbox(const GuestSandbox&) = delete;
    GuestSandbox& operator=(const GuestSandbox&) = delete;
    ~GuestSandbox() {
        ::unsetenv(guest::bulk_fd_env);
        guest::set_paths(guest::Paths{});
    }

    std::string path(const std::string& name) const { return (dir_.path() / name).string(); }
    const std::filesystem::path& dir() const { return dir_.path(); }

    // Rewrites the command line file; takes effect after refresh().
    void set_cmdline(const std::string& cmdline) { write_text(dir_.path() / "cmdline", cmdline); }
    void refresh() { guest::set_paths(guest::paths()); }

    // A socketpair; the guest end is handed over through KTSTR_BULK_FD and
    // host() is the host's end.
    void attach_port() {
        int sv[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
            throw std::runtime_error("socketpair failed");
        guest_end_.reset(sv[0]);
        host_end_.reset(sv[1]);
        ::setenv(guest::bulk_fd_env, std::to_string(sv[0]).c_str(), 1);
        refresh();
    }
    int host() const { return host_end_.get(); }
    int guest_end() const { return guest_end_.get(); }
    void close_host() { host_end_.reset(); }

private:
    TempDir dir_{"guest-test"};  // removed after the destructor has pointed the library away from it
    UniqueFd guest_end_;
    UniqueFd host_end_;
};

// Reads frames from `fd` until `count` frames arrived, end of file, or
// `timeout` (then returns what it has).
inline std::vector<Frame> read_frames(int fd, std::size_t count,
                                      std::chrono::milliseconds timeout = std::chrono::seconds(20),
                                      TlvAssembler* assembler = nullptr) {
    TlvAssembler local;
    TlvAssembler& a = assembler ? *assembler : local;
    std::vector<Frame> out;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::vector<std::uint8_t> buf(64 * 1024);
    while (out.size() < count) {
        while (auto f = a.next()) {
            out.push_back(std::move(*f));
            if (out.size() == count)
                return out;
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0)
            break;
        pollfd pfd{fd, POLLIN, 0};
        if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0)
            break;
        ssize_t r = ::read(fd, buf.data(), buf.size());
        if (r <= 0)
            break;
        a.feed(byte_view(buf.data(), static_cast<std::size_t>(r)));
    }
    while (out.size() < count) {
        auto f = a.next();
        if (!f)
            break;
        out.push_back(std::move(*f));
    }
    return out;
}

// True when `fd` has bytes to read right now.
inline bool readable(int fd) {
    pollfd pfd{fd, POLLIN, 0};
    return ::poll(&pfd, 1, 0) == 1;
}

inline std::string text(const Frame& f) { return std::string(f.payload.begin(), f.payload.end()); }

// The frames' tags ("LIFE", "SCDX", ...), in order.
inline std::vector<std::string> tags(const std::vector<Frame>& frames) {
    std::vector<std::string> out;
    for (const auto& f : frames)
        out.push_back(tag_of(f.msg_type()));
    return out;
}

// The payloads of the frames of type `t`, concatenated in order.
inline std::string concat(const std::vector<Frame>& frames, MsgType t) {
    std::string out;
    for (const auto& f : frames)
        if (f.msg_type() == to_u32(t))
            out += text(f);
    return out;
}

}  // namespace ktstr::test
