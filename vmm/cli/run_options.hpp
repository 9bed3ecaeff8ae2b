// `ktstr-vmm run`'s options, described once. Each row of the table names
// an option, says where its value goes in RunOptions and what the inner
// run in the emulated host gets of it; both the CLI11 setup and the inner
// command line are built from the table, so a new option is declared in
// one place and cannot be forgotten on the way into the emulated host.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/kvm_option.hpp"

namespace ktstr::cli {

struct RunOptions {
    std::string kernel = "default";
    std::string modules;
    std::uint32_t cpus = 2;
    bool cpus_given = false;  // --cpus was on the command line (not in the table)
    std::string topology;     // --topology NODES,LLCS,CORES,THREADS
    std::uint64_t memory_mib = 256;
    std::string shm_size = "1M";
    unsigned timeout_s = 60;
    unsigned boot_timeout_s = 300;
    KvmMode mode = KvmMode::automatic;
    std::vector<std::string> includes;
    std::string scheduler;                    // --scheduler NAME_OR_PATH
    std::vector<std::string> scheduler_args;  // --scheduler-arg ARG, in order
    std::string console_log;
    std::string messages;    // --messages FILE
    std::string output_dir;  // --output-dir DIR; empty: default_output_dir()
    bool json = false;
    bool summary = false;
    std::string json_file;   // --json-file FILE
    bool verbose = false;
    std::string append;
    std::vector<std::string> command;
    // Hidden: a ready initramfs (the emulated host's inner run gets one).
    std::string initramfs;
};

// What the emulated host's inner run gets of an option.
enum class Inner {
    same,         // the value as given (a flag: when set; text: when not empty)
    output_file,  // a path made absolute: the inner run writes it at the same
                  // place inside, and the file comes back from there
    output_dir,   // likewise, a directory that comes back with what is under it
    resolved,     // what the outer run settled instead of the user's value
                  // (--kernel: the bzImage, --initramfs: the image, --kvm: host)
    outer_only,   // used up outside (--modules, --include: in the image already)
};

// Where an option's value lives. std::uint32_t is unsigned here.
using RunOptionField = std::variant<std::string RunOptions::*, unsigned RunOptions::*, std::uint64_t RunOptions::*,
                                    bool RunOptions::*, std::vector<std::string> RunOptions::*, KvmMode RunOptions::*>;

struct RunOptionSpec {
    const char* names;  // as CLI11 takes them ("-v,--verbose"); the last is the long name
    const char* help;   // empty: hidden from --help
    RunOptionField field;
    Inner inner;
    void (*refine)(CLI::Option&) = nullptr;  // checks, type name, shown default
};

// Every option of `run`, in --help's order.
std::span<const RunOptionSpec> run_option_table();

// "--verbose" for "-v,--verbose".
std::string long_name(const RunOptionSpec& spec);

// Registers the table's options on `app`, then the command (after --),
// writing into `options`, which must outlive the parse. A KvmMode field is
// kvm_option.hpp's --kvm, with its help.
void add_run_options(CLI::App& app, RunOptions& options);

// The values the outer run settled, by long name ("--kernel" -> the
// bzImage path); every Inner::resolved option needs one.
using ResolvedValues = std::map<std::string, std::string, std::less<>>;

// The inner run's arguments, argv[0] excluded: "run", each option the
// inner run gets as one "--name=value" argument (or "--name"), "--", the
// command. Throws std::logic_error for a resolved option without a value.
std::vector<std::string> inner_run_arguments(const RunOptions& options, const ResolvedValues& resolved);

// What the inner run writes and the emulated host brings back
// (Request::outputs and Request::output_dirs), absolute.
struct InnerRunOutputs {
    std::vector<std::filesystem::path> files;
    std::vector<std::filesystem::path> directories;
};
InnerRunOutputs inner_run_outputs(const RunOptions& options);

}  // namespace ktstr::cli
