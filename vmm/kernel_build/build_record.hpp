// <release>/ktstr/build.json: how a built kernel was made, for `kernel
// list`, for finding a build again by its recipe, and for people:
//   {"name": "mine" or null, "key": "<64 hex>", "recipe": "<64 hex>",
//    "source": "linux-source-6.12 6.12.118-1~deb12u1", "source_identity": "...",
//    "fragments": [{"name": "lean-vm.config", "sha256": "..."}, ...],
//    "release": "6.12.118-ktstr-0123456789ab", "jobs": 2, "objects": 2113,
//    "seconds": {"source": 0.1, "config": 21.0, "compile": 480.2, ...},
//    "built_at": "2025-06-01T12:00:00Z"}
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ktstr::vmm::kernel_build {

struct BuildRecord {
    struct Fragment {
        std::string name;    // "lean-vm.config", or the user's path
        std::string sha256;  // of its .config-syntax form
    };
    std::string name;  // --name at build time, "" for none
    std::string key;
    std::string recipe;
    std::string source;
    std::string source_identity;
    std::vector<Fragment> fragments;
    std::string release;
    int jobs = 0;
    std::uint64_t objects = 0;
    std::vector<std::pair<std::string, double>> seconds;  // per phase, in phase order
    std::string built_at;                   // ISO 8601, UTC
};

inline constexpr const char* build_record_path = "ktstr/build.json";  // in a release directory

std::string to_json(const BuildRecord& record);

// The record of the kernel in `release_dir`; nullopt when it has none or
// it does not parse (a fetched kernel, a damaged file).
std::optional<BuildRecord> read_build_record(const std::filesystem::path& release_dir);

}  // namespace ktstr::vmm::kernel_build
