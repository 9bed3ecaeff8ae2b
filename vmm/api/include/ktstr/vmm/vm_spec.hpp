// What one VM run is: the kernel, the CPUs and memory, the sched_ext
// scheduler, the files and the command the guest runs, the limits and
// where the output goes. `ktstr-vmm run`'s options fill one of these
// (docs/run.md names each); a program fills it itself and hands it to
// ktstr::vmm::run_vm() (vm.hpp).
//
// The members are in the order a test author writes them, so designated
// initializers read naturally:
//   ktstr::vmm::VmSpec{.kernel = "sched-ext", .topology = "1,2,2,1", .scheduler = "scx_simple"}
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ktstr::vmm {

// Where the VM runs: on this machine's /dev/kvm, inside the emulated KVM
// host (a QEMU TCG guest with nested virtualization, docs/kvm-anywhere.md),
// or on /dev/kvm when it is usable and emulated otherwise.
enum class KvmMode { automatic, host, emulated };

struct VmSpec {
    // A kernel: "default" (Debian's, fetched once), "sched-ext" (the newest
    // `ktstr-vmm kernel build`), a name given to a build, a release in the
    // cache or a bzImage path.
    std::string kernel = "default";
    // How the kernel is entered: "auto" (the PVH entry of its vmlinux,
    // unpacked once on the host and cached, where the kernel has one; the
    // bzImage's own entry otherwise), "pvh" or "bzimage".
    std::string kernel_entry = "auto";
    // The guest's architecture: "x86_64" or "arm64"; empty: this machine's.
    // A guest of another architecture runs in its emulated KVM host (an
    // arm64 guest on x86_64: qemu-system-aarch64 with EL2,
    // docs/kvm-anywhere.md), with a kernel, programs and busybox of its own
    // (docs/arm64.md).
    std::string arch;
    // "NODES,LLCS,CORES,THREADS": NUMA nodes, LLCs per node, cores per LLC,
    // threads per core; the vCPU count is their product (and `cpus` is
    // ignored). Empty: `cpus` cores in one package.
    std::string topology;
    std::uint32_t cpus = 2;
    std::uint64_t memory_mib = 256;
    // A scheduler built with the kernel ("scx_simple") or a program's path;
    // empty: none (the kernel's own scheduler).
    std::string scheduler;
    std::vector<std::string> scheduler_args;
    // HOST[:GUEST] files put into the guest (a dynamic program comes with
    // its loader and libraries); without GUEST, under /include.
    std::vector<std::string> includes;
    // The guest command, argv[0] first (a program on the guest's PATH or an
    // absolute guest path).
    std::vector<std::string> command;
    // The command's time, counted from its start; and the boot's, counted
    // from the run's start until the command starts.
    unsigned timeout_s = 60;
    unsigned boot_timeout_s = 300;
    KvmMode kvm = KvmMode::automatic;
    // Where the run's files go (scheduler.log, sched_ext-dump.log, snapshot
    // captures, result.json, report.json). Empty: a private directory under
    // $TMPDIR, removed at the end when nothing went there.
    std::string output_dir;
    std::string append;  // extra kernel command-line text
    bool verbose = false;
    std::string shm_size = "1M";
    std::string modules;      // a modules tree for a bzImage path
    std::string console_log;  // the kernel console, as a file (empty: none)
    std::string messages;     // every frame as a JSON line (empty: none)
    bool json = false;        // the run result as one JSON line on stdout
    bool summary = false;     // a short table of the run on stderr
    bool report = false;      // on a verdict other than pass: the failure report on stderr
    std::string json_file;    // the run result written to this file (empty: output_dir/result.json)
    // A ready initramfs: the emulated host's inner run gets one (with
    // kvm = host); run_vm() builds the image itself otherwise.
    std::string initramfs;
};

}  // namespace ktstr::vmm
