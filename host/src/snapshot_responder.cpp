#include "ktstr/host/snapshot_responder.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "ktstr/common/fd_write.hpp"
#include "ktstr/common/json_line.hpp"
#include "ktstr/common/msg_type.hpp"
#include "ktstr/common/payloads.hpp"
#include "ktstr/common/shared_access.hpp"

#include "capture_worker.hpp"

namespace ktstr::host {
namespace {

namespace fs = std::filesystem;

// Suffixes tried when a capture directory's name is taken (a guest that
// restarts its request counter); bounded so a name clash cannot loop long.
constexpr int max_name_suffix = 100;

std::string errno_text(int e) { return std::strerror(e); }

// A new file `name` in the directory `dir`: never one that exists, never
// through a symbolic link (O_EXCL does not follow one at the last
// component; O_NOFOLLOW says so again).
UniqueFd create_new(int dir, const char* name) {
    return UniqueFd(::openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666));
}

// Copies the region into the file `name` block by block (volatile reads:
// the guest may still be writing), so a large region needs no large buffer.
std::string write_region_file(int dir, const char* name, SharedRegion region) {
    UniqueFd f = create_new(dir, name);
    if (!f)
        return std::string("cannot create ") + name + ": " + errno_text(errno);
    byte_buffer block(std::min<std::size_t>(region.size(), 1 << 20));
    for (std::size_t off = 0; off < region.size(); off += block.size()) {
        const auto n = std::min(block.size(), region.size() - off);
        shared::copy_from(region.data() + off, mutable_byte_view(block).first(n));
        if (!write_all(f.get(), byte_view(block).first(n)))
            return std::string("cannot write ") + name + ": " + errno_text(errno);
    }
    return {};
}

std::string write_text_file(int dir, const char* name, const std::string& text) {
    UniqueFd f = create_new(dir, name);
    if (!f)
        return std::string("cannot create ") + name + ": " + errno_text(errno);
    if (!write_all(f.get(), as_bytes(text)))
        return std::string("cannot write ") + name + ": " + errno_text(errno);
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
    : config_(std::move(config)), send_(std::move(send)), worker_(std::make_unique<CaptureWorker>()) {}

SnapshotResponder::~SnapshotResponder() = default;

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

int SnapshotResponder::snapshots_dir(std::string& error) {
    if (snapshots_fd_)
        return snapshots_fd_.get();
    // The output directory itself is the user's (--output-dir, or the
    // private one the VMM made): created if missing, links on its path
    // followed as the user named them. Below it nothing is followed.
    std::error_code ec;
    fs::create_directories(config_.output_dir, ec);
    if (ec) {
        error = "cannot create output directory: " + ec.message();
        return -1;
    }
    UniqueFd out(::open(config_.output_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!out) {
        error = "cannot open output directory: " + errno_text(errno);
        return -1;
    }
    if (::mkdirat(out.get(), "snapshots", 0777) != 0 && errno != EEXIST) {
        error = "cannot create snapshots directory: " + errno_text(errno);
        return -1;
    }
    snapshots_fd_.reset(::openat(out.get(), "snapshots", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!snapshots_fd_) {
        error = "cannot open snapshots directory: " + errno_text(errno);  // ELOOP: a link
        return -1;
    }
    return snapshots_fd_.get();
}

std::string SnapshotResponder::capture(std::uint32_t request_id, const std::string& tag) {
    if (config_.output_dir.empty())
        return "no output directory for captures";
    if (stats_.captured + pending_ >= config_.max_captures)
        return "capture limit reached";
    if (pending_ >= config_.max_pending_captures)
        return "capture queue full (" + std::to_string(pending_) + " being written)";
    // Reserved at the request, so captures in flight count against it too.
    const std::uint64_t shm_bytes = config_.shm ? config_.shm->size() : 0;
    if (shm_bytes > config_.max_bytes - std::min(stats_.bytes, config_.max_bytes))
        return "capture byte budget reached (" + std::to_string(config_.max_bytes) + " bytes)";

    std::string err;
    const int parent = snapshots_dir(err);
    if (parent < 0)
        return err;
    const auto base_name = std::to_string(request_id) + (tag.empty() ? "" : "-" + snapshot_dir_tag(tag));
    std::string name;
    for (int i = 0; i <= max_name_suffix; ++i) {
        auto candidate = i == 0 ? base_name : base_name + "." + std::to_string(i);
        // mkdirat fails with EEXIST on anything already there, a link
        // included: it never creates through one.
        if (::mkdirat(parent, candidate.c_str(), 0777) == 0) {
            name = std::move(candidate);
            break;
        }
        if (errno != EEXIST)
            return "cannot create capture directory: " + errno_text(errno);
    }
    if (name.empty())
        return "capture directory names exhausted";
    auto dir = std::make_shared<UniqueFd>(::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!*dir)
        return "cannot open capture directory: " + errno_text(errno);

    // Where this capture sits in the message log, taken now (the log is the
    // loop thread's): its first message_log_lines lines are the frames up to
    // and including this request. The log is not copied (that would take
    // disk proportional to the whole run).
    nlohmann::ordered_json j{{"request_id", request_id}, {"tag", tag}};
    if (config_.message_log) {
        j["message_log"] = config_.message_log->path().string();
        j["message_log_lines"] = config_.message_log->lines();
        j["message_log_bytes"] = config_.message_log->bytes();
        j["message_log_left_out"] = config_.message_log->left_out_frames();
    } else {
        j["message_log"] = nullptr;
    }
    auto capture_json = json_line(j) + "\n";

    worker_->submit([this, request_id, dir, capture_json = std::move(capture_json),
                     path = (config_.output_dir / "snapshots" / name).string()]() mutable {
        WrittenCapture done{request_id, {}, std::move(path)};
        try {
            if (config_.before_capture_write)
                config_.before_capture_write();
            if (config_.shm)
                done.error = write_region_file(dir->get(), "shm.bin", *config_.shm);
            if (done.error.empty())
                done.error = write_text_file(dir->get(), "capture.json", capture_json);
        } catch (const std::exception& e) {
            done.error = e.what();
        } catch (...) {
            done.error = "unknown error while writing the capture";
        }
        try {
            {
                std::lock_guard lock(written_mutex_);
                written_.push_back(std::move(done));
            }
            if (config_.on_capture_written)
                config_.on_capture_written();
        } catch (...) {
            // Out of memory for the hand-back: the reply is lost (the guest's
            // client times out), the process is not.
        }
    });
    // Queued: counted now (the bytes even if the write fails half-way).
    stats_.bytes += shm_bytes;
    ++pending_;
    return {};
}

void SnapshotResponder::deliver_captures() {
    std::vector<WrittenCapture> written;
    {
        std::lock_guard lock(written_mutex_);
        written.swap(written_);
    }
    for (auto& w : written) {
        --pending_;
        if (w.error.empty()) {
            ++stats_.captured;
            stats_.capture_dirs.push_back(std::move(w.dir));  // bounded by max_captures
            reply(w.request_id, SnapshotStatus::Ok, "");
        } else {
            reply(w.request_id, SnapshotStatus::Err, w.error);
        }
    }
}

void SnapshotResponder::wait_captures() {
    worker_->wait_idle();
    deliver_captures();
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
        if (!err.empty())  // else the reply comes with deliver_captures()
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
