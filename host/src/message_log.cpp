#include "ktstr/host/message_log.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <stdio.h>
#include <stdexcept>
#include <system_error>

#include "ktstr/common/frame_json.hpp"
#include "ktstr/common/json_line.hpp"
#include "ktstr/common/msg_type.hpp"
#include "ktstr/common/unique_fd.hpp"

namespace ktstr::host {

std::string frame_json_line(Channel channel, const Frame& frame) {
    // frame_to_json guards the nesting itself: an over-nested payload is
    // reported in "fields", never parsed (decode writes the same line).
    auto j = frame_to_json(frame);
    j["channel"] = to_string(channel);
    return json_line(j);
}

MessageLog::MessageLog(std::filesystem::path path, std::uint64_t max_bytes, bool no_follow)
    : path_(std::move(path)), buffer_(1 << 20), max_bytes_(max_bytes) {
    // O_CLOEXEC: the log is not inherited by anything the VMM runs.
    UniqueFd fd(::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | (no_follow ? O_NOFOLLOW : 0), 0666));
    if (fd)
        file_.reset(::fdopen(fd.get(), "w"));
    if (!file_)
        throw std::runtime_error("cannot open message log " + path_.string() + ": " + std::strerror(errno));
    fd.release();  // the FILE owns it now
    std::setvbuf(file_.get(), buffer_.data(), _IOFBF, buffer_.size());
}

void MessageLog::fail(const std::string& what) noexcept {
    if (!error_.empty())
        return;
    try {
        error_ = what;
    } catch (...) {
        error_ = "message log failed";
    }
}

void MessageLog::write(Channel channel, const Frame& frame) noexcept {
    if (!error_.empty())
        return;
    if (capped_ || finished_) {
        ++left_out_frames_;
        left_out_payload_bytes_ += frame.payload.size();
        return;
    }
    try {
        auto line = frame_json_line(channel, frame);
        line.push_back('\n');
        if (line.size() > max_bytes_ - bytes_) {
            capped_ = true;
            ++left_out_frames_;
            left_out_payload_bytes_ += frame.payload.size();
            return;
        }
        if (std::fwrite(line.data(), 1, line.size(), file_.get()) != line.size()) {
            fail("cannot write message log " + path_.string() + ": " + std::strerror(errno));
            return;
        }
        ++lines_;
        bytes_ += line.size();
    } catch (const std::exception& e) {
        fail(std::string("message log: ") + e.what());
    }
}

bool MessageLog::finish() noexcept {
    if (!finished_ && error_.empty() && left_out_frames_ != 0) {
        try {
            // Host text, not a frame: its only key tells a reader so.
            const std::string line = "{\"left_out\":{\"frames\":" + std::to_string(left_out_frames_) +
                                     ",\"payload_bytes\":" + std::to_string(left_out_payload_bytes_) +
                                     ",\"cap_bytes\":" + std::to_string(max_bytes_) + "}}\n";
            if (std::fwrite(line.data(), 1, line.size(), file_.get()) != line.size())
                fail("cannot write message log " + path_.string() + ": " + std::strerror(errno));
        } catch (const std::exception& e) {
            fail(std::string("message log: ") + e.what());
        }
    }
    finished_ = true;
    return flush();
}

bool MessageLog::flush() noexcept {
    if (!error_.empty())
        return false;
    if (std::fflush(file_.get()) != 0) {
        fail("cannot write message log " + path_.string() + ": " + std::strerror(errno));
        return false;
    }
    return true;
}

}  // namespace ktstr::host
