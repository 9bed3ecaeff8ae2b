#include "ktstr/host/snapshot_responder.hpp"

#include <algorithm>
#include <cstdio>
#include <memory>
#include <system_error>

#include "ktstr/common/msg_type.hpp"
#include "ktstr/common/payloads.hpp"
#include "ktstr/host/guest_memory.hpp"

namespace ktstr::host {
namespace {

namespace fs = std::filesystem;

// Suffixes tried when a capture directory's name is taken (a guest that
// restarts its request counter); bounded so a name clash cannot loop long.
constexpr int max_name_suffix = 100;

struct FileCloser {
    void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};

// Copies the region into `path` block by block (volatile reads: the guest
// may still be writing), so a large region needs no large buffer.
std::string write_region_file(const fs::path& path, SharedRegion region) {
    std::unique_ptr<std::FILE, FileCloser> f(std::fopen(path.c_str(), "we"));
    if (!f)
        return "cannot create " + path.filename().string();
    byte_buffer block(std::min<std::size_t>(region.size(), 1 << 20));
    for (std::size_t off = 0; off < region.size(); off += block.size()) {
        const auto n = std::min(block.size(), region.size() - off);
        copy_from_shared(SharedRegion(region.data() + off, n), block);
        if (std::fwrite(block.data(), 1, n, f.get()) != n)
            return "cannot write " + path.filename().string();
    }
    if (std::fclose(f.release()) != 0)
        return "cannot write " + path.filename().string();
    return {};
}

}  // namespace

std::string snapshot_dir_tag(std::string_view tag) {
    std::string out;
    out.reserve(tag.size());
    for (char c : tag) {
        const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                          c == '_' || c == '-';
        out.push_back(keep ? c : '_');
    }
    return out;
}

SnapshotResponder::SnapshotResponder(SnapshotResponderConfig config, std::function<bool(byte_view)> send)
    : config_(std::move(config)), send_(std::move(send)) {}

void SnapshotResponder::reply(std::uint32_t request_id, SnapshotStatus status, std::string_view reason) {
    SnapshotReplyPayload p;
    p.request_id = request_id;
    p.status = static_cast<std::uint32_t>(status);
    p.reason = make_padded_text(reason);
    const auto payload = encode(p);
    const auto frame = encode_frame(to_u32(MsgType::SnapshotReply), payload);
    if (status != SnapshotStatus::Ok)
        ++stats_.errors;
    if (!send_ || !send_(frame))
        ++stats_.replies_refused;
}

std::string SnapshotResponder::capture(std::uint32_t request_id, const std::string& tag) {
    if (config_.output_dir.empty())
        return "no output directory for captures";
    if (stats_.captured >= config_.max_captures)
        return "capture limit reached";

    const auto base_name = std::to_string(request_id) + (tag.empty() ? "" : "-" + snapshot_dir_tag(tag));
    const auto parent = config_.output_dir / "snapshots";
    std::error_code ec;
    fs::create_directories(parent, ec);
    if (ec)
        return "cannot create snapshots directory: " + ec.message();
    fs::path dir;
    for (int i = 0; i <= max_name_suffix; ++i) {
        auto candidate = parent / (i == 0 ? base_name : base_name + "." + std::to_string(i));
        if (fs::create_directory(candidate, ec)) {
            dir = std::move(candidate);
            break;
        }
        if (ec)
            return "cannot create capture directory: " + ec.message();
    }
    if (dir.empty())
        return "capture directory names exhausted";

    if (config_.shm) {
        if (auto err = write_region_file(dir / "shm.bin", *config_.shm); !err.empty())
            return err;
    }
    if (config_.message_log) {
        std::string err;
        if (!config_.message_log->copy_to(dir / "messages.jsonl", err))
            return err;
    }
    stats_.capture_dirs.push_back(dir.string());  // bounded by max_captures
    return {};
}

void SnapshotResponder::on_request(const Frame& frame) {
    const auto req = decode_snapshot_request(frame.payload);
    if (!req) {
        ++stats_.malformed;
        return;
    }
    ++stats_.requests;
    switch (static_cast<SnapshotKind>(req->kind)) {
    case SnapshotKind::Capture: {
        std::string err;
        try {
            err = capture(req->request_id, padded_text(req->tag));
        } catch (const std::exception& e) {
            err = e.what();
        }
        if (err.empty()) {
            ++stats_.captured;
            reply(req->request_id, SnapshotStatus::Ok, "");
        } else
            reply(req->request_id, SnapshotStatus::Err, err);
        break;
    }
    case SnapshotKind::Watch:
        reply(req->request_id, SnapshotStatus::Err, "watch snapshots are not supported");
        break;
    case SnapshotKind::ShmDrainHold:
    case SnapshotKind::ShmDrainRelease: {
        const bool hold = req->kind == static_cast<std::uint32_t>(SnapshotKind::ShmDrainHold);
        std::string err = "no SHM drain control";
        if (config_.shm_drain_control)
            err = config_.shm_drain_control(hold);
        if (err.empty())
            ++(hold ? stats_.shm_drain_holds : stats_.shm_drain_releases);
        reply(req->request_id, err.empty() ? SnapshotStatus::Ok : SnapshotStatus::Err, err);
        break;
    }
    case SnapshotKind::None:
        reply(req->request_id, SnapshotStatus::Err, "snapshot kind 0 is invalid");
        break;
    default:
        reply(req->request_id, SnapshotStatus::Err, "unknown snapshot kind " + std::to_string(req->kind));
        break;
    }
}

}  // namespace ktstr::host
