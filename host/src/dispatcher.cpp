#include "ktstr/host/dispatcher.hpp"

#include <exception>

namespace ktstr::host {

const char* to_string(Channel c) noexcept {
    switch (c) {
    case Channel::bulk: return "bulk";
    case Channel::shm: return "shm";
    }
    return "unknown";
}

void Dispatcher::subscribe(MsgType type, FrameHandler handler) {
    typed_[to_u32(type)].push_back(std::move(handler));
}

void Dispatcher::subscribe_all(FrameHandler handler) { all_.push_back(std::move(handler)); }

void Dispatcher::call(const FrameHandler& h, Channel channel, const Frame& frame) noexcept {
    try {
        h(channel, frame);
    } catch (const std::exception& e) {
        ++handler_errors_;
        try {
            last_handler_error_ = e.what();
        } catch (...) {
        }
    } catch (...) {
        ++handler_errors_;
    }
}

void Dispatcher::dispatch(Channel channel, const Frame& frame) {
    for (const auto& h : all_)
        call(h, channel, frame);
    if (!frame.crc_ok)
        return;
    auto it = typed_.find(frame.msg_type());
    if (it == typed_.end())
        return;
    for (const auto& h : it->second)
        call(h, channel, frame);
}

}  // namespace ktstr::host
