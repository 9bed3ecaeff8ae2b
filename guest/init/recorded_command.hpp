// The command ktstr-init runs, as recorded in the initramfs:
//  - the argv file (default /etc/ktstr/command): every argument followed
//    by one NUL byte, argv[0] first;
//  - the environment file (default /etc/ktstr/environment, optional):
//    every NAME=value entry followed by one NUL byte.
// The parsers are pure and bounded; errors say what is wrong and where.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ktstr::init {

inline constexpr std::size_t max_recorded_file = 1 << 20;  // bytes per file
inline constexpr std::size_t max_recorded_entries = 4096;
inline constexpr std::size_t max_recorded_entry = 128 * 1024;  // the kernel's MAX_ARG_STRLEN

struct RecordedCommand {
    std::vector<std::string> argv;
    std::vector<std::string> env;
};

// Splits NUL-terminated entries. Throws std::runtime_error when the data
// does not end with a NUL (truncated), or breaks a bound above.
std::vector<std::string> parse_nul_list(std::string_view bytes, std::string_view what);

// argv must have a non-empty argv[0]; env entries must look like
// NAME=value with a non-empty NAME without '='.
RecordedCommand parse_recorded_command(std::string_view argv_bytes, std::string_view env_bytes);

// Reads and parses the two files; a missing environment file is an
// empty environment. Throws std::runtime_error naming the file.
RecordedCommand read_recorded_command(const std::string& argv_path, const std::string& env_path);

// The argv file at `argv_path` with the environment `env` already read
// (the command's), or nullopt when the file does not exist (the
// scheduler's file is optional). Throws like read_recorded_command.
std::optional<RecordedCommand> read_recorded_command_if_present(const std::string& argv_path,
                                                               const std::vector<std::string>& env);

// PATH entries ktstr-init guarantees.
inline constexpr std::string_view default_path = "/bin:/sbin:/usr/bin:/usr/sbin";

// The environment the command runs with: the recorded one, with PATH
// extended by any default_path directory it lacks (or set to
// default_path), and KTSTR_BULK_FD=<bulk_fd> when bulk_fd >= 0 (a
// recorded KTSTR_BULK_FD is replaced).
std::vector<std::string> command_environment(const std::vector<std::string>& recorded, int bulk_fd);

// The value of NAME in an environment list.
std::optional<std::string_view> env_value(const std::vector<std::string>& env, std::string_view name);

enum class Resolve { found, not_found, not_executable };

struct Resolved {
    Resolve status = Resolve::not_found;
    std::string path;  // the executable (found) or the candidate that failed
};

// Finds `name` like execvp: as given when it contains '/', otherwise in
// each PATH directory (empty entries are skipped, never ".").
Resolved resolve_executable(std::string_view name, std::string_view path_var);

}  // namespace ktstr::init
