// `ktstr-vmm decode`: prints the frames of a bulk TLV stream or of an SHM
// ring image as JSON lines (docs/wire-format.md, "JSON lines").
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include <fcntl.h>
#include <unistd.h>

#include <fmt/core.h>

#include "cli/command.hpp"
#include "ktstr/common/frame_json.hpp"
#include "ktstr/common/json_line.hpp"
#include "ktstr/common/shm_ring.hpp"
#include "ktstr/common/tlv_assembler.hpp"

namespace ktstr::cli {
namespace {

// An input file or stdin, closed on scope exit.
class InputFile {
public:
    explicit InputFile(const std::string& path) : path_(path) {
        if (path == "-") {
            fd_ = STDIN_FILENO;
            return;
        }
        fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd_ < 0)
            throw UsageError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
    }
    ~InputFile() {
        if (fd_ > STDIN_FILENO)
            ::close(fd_);
    }
    InputFile(const InputFile&) = delete;
    InputFile& operator=(const InputFile&) = delete;

    // Reads up to buf.size() bytes; 0 at end of file.
    std::size_t read(mutable_byte_view buf) {
        for (;;) {
            ssize_t n = ::read(fd_, buf.data(), buf.size());
            if (n >= 0)
                return static_cast<std::size_t>(n);
            if (errno != EINTR)
                throw UsageError(fmt::format("{}: read failed: {}", path_, std::strerror(errno)));
        }
    }

private:
    std::string path_;
    int fd_ = -1;
};

void print_line(const nlohmann::ordered_json& j) {
    auto s = json_line(j);
    s.push_back('\n');
    std::fwrite(s.data(), 1, s.size(), stdout);
}

int decode_stream(const std::string& path) {
    InputFile in(path);
    TlvAssembler assembler;
    byte_buffer chunk(64 * 1024);
    for (;;) {
        std::size_t n = in.read(chunk);
        if (n == 0)
            break;
        assembler.feed(byte_view(chunk.data(), n));
        while (auto f = assembler.next())
            print_line(frame_to_json(*f));
    }
    const auto& st = assembler.stats();
    if (st.dropped_bytes != 0)
        fmt::print(stderr, "ktstr-vmm: decode: dropped {} bytes ({} frames over the {}-byte cap, {} overflow resets)\n",
                   st.dropped_bytes, st.oversize_frames, assembler.max_payload(), st.overflow_resets);
    nlohmann::ordered_json summary;
    summary["summary"]["frames"] = st.frames;
    summary["summary"]["crc_errors"] = st.crc_errors;
    summary["summary"]["trailing_bytes"] = assembler.buffered();
    print_line(summary);
    return 0;
}

int decode_ring(const std::string& path, std::uint64_t offset) {
    InputFile in(path);
    // Nothing past offset + header + max_capacity can belong to a ring, so
    // that bounds what we read, whatever the file's size.
    const std::uint64_t limit = offset + shm::header_size + shm::max_capacity;
    byte_buffer image;
    byte_buffer chunk(1 << 20);
    while (image.size() < limit) {
        auto want = static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), limit - image.size()));
        std::size_t n = in.read(mutable_byte_view(chunk.data(), want));
        if (n == 0)
            break;
        image.insert(image.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(n));
    }
    if (offset > image.size() || image.size() - offset < shm::header_size)
        throw UsageError(fmt::format("{}: offset {} leaves fewer than {} bytes for a ring header (image is {} bytes)",
                                     path, offset, shm::header_size, image.size()));
    SpanRegion region(mutable_byte_view(image.data() + offset, image.size() - offset));
    auto r = ring_drain(region, DrainMode::peek);
    if (r.status == RingDrainStatus::bad_magic || r.status == RingDrainStatus::bad_capacity)
        throw UsageError(fmt::format("{}: no SHM ring at offset {}: {}", path, offset, to_string(r.status)));
    if (r.status != RingDrainStatus::ok)
        fmt::print(stderr, "ktstr-vmm: decode: ring stopped early: {}\n", to_string(r.status));
    std::uint64_t crc_errors = 0;
    for (const auto& f : r.frames) {
        crc_errors += f.crc_ok ? 0 : 1;
        print_line(frame_to_json(f));
    }
    nlohmann::ordered_json summary;
    summary["summary"]["frames"] = r.frames.size();
    summary["summary"]["crc_errors"] = crc_errors;
    summary["summary"]["drops"] = r.drops;
    print_line(summary);
    return 0;
}

}  // namespace

Command add_decode_command(CLI::App& root) {
    struct Options {
        std::string file = "-";
        bool ring = false;
        std::uint64_t offset = 0;
    };
    auto opts = std::make_shared<Options>();
    auto* app = root.add_subcommand("decode", "Print the frames of a bulk TLV stream or an SHM ring image as JSON lines");
    app->footer(
        "Output: one JSON object per frame: {\"type\", \"msg_type\", \"length\", \"crc_ok\", \"payload_hex\", "
        "\"fields\"}, then {\"summary\": {\"frames\", \"crc_errors\", \"trailing_bytes\"}} for a stream or "
        "{\"summary\": {\"frames\", \"crc_errors\", \"drops\"}} for a ring.\n"
        "Exit status: 0 when the input was read (CRC errors are data), 2 for bad arguments or unreadable input.");
    app->add_option("file", opts->file, "Input file, or - for standard input")->capture_default_str();
    app->add_flag("--ring", opts->ring, "Input is an SHM region image (ring header first), not a bulk stream");
    app->add_option("--offset", opts->offset, "With --ring: byte offset of the ring header in the image")
        ->capture_default_str();
    return {app, [opts] {
                if (!opts->ring && opts->offset != 0)
                    throw UsageError("decode: --offset needs --ring");
                return opts->ring ? decode_ring(opts->file, opts->offset) : decode_stream(opts->file);
            }};
}

}  // namespace ktstr::cli
