// Routes received frames to their subscribers: the one place in the host
// that decides who sees a frame.
//
//  - subscribe_all() handlers see every frame, in arrival order: unknown
//    types and frames whose CRC failed included (the message log, counts).
//  - subscribe(type) handlers see only frames of that type whose CRC
//    matched: nothing acts on a corrupted payload.
//
// All-frame handlers run before typed ones; within each group, handlers run
// in subscription order. A handler that throws is counted and the others
// still run. Subscribe before dispatching starts: dispatch() does not lock.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "ktstr/common/frame.hpp"
#include "ktstr/common/msg_type.hpp"

namespace ktstr::host {

// Which channel a frame came through.
enum class Channel { bulk, shm };
const char* to_string(Channel c) noexcept;

using FrameHandler = std::function<void(Channel, const Frame&)>;

class Dispatcher {
public:
    void subscribe(MsgType type, FrameHandler handler);
    void subscribe_all(FrameHandler handler);

    void dispatch(Channel channel, const Frame& frame);

    std::uint64_t handler_errors() const noexcept { return handler_errors_; }
    // What the last throwing handler said.
    const std::string& last_handler_error() const noexcept { return last_handler_error_; }

private:
    void call(const FrameHandler& h, Channel channel, const Frame& frame) noexcept;

    std::vector<FrameHandler> all_;
    std::unordered_map<std::uint32_t, std::vector<FrameHandler>> typed_;
    std::uint64_t handler_errors_ = 0;
    std::string last_handler_error_;
};

}  // namespace ktstr::host
