// The decoder's view of one frame: the first four bytes are the type (so
// known types are reached through the corpus), the rest the payload.
#include <cstdlib>
#include <cstring>

#include "ktstr/common/frame.hpp"
#include "ktstr/common/frame_json.hpp"
#include "ktstr/common/json_line.hpp"
#include "ktstr/common/msg_type.hpp"
#include "ktstr/common/structured.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 4)
        return 0;
    std::uint32_t type;
    std::memcpy(&type, data, 4);
    // Steer one byte of entropy toward the catalogue so every decoder runs.
    auto types = ktstr::all_msg_types();
    if (data[0] < types.size())
        type = ktstr::to_u32(types[data[0]].type);
    ktstr::byte_view payload(data + 4, size - 4);
    const auto frame = ktstr::received_frame(ktstr::make_frame_header(type, payload),
                                             ktstr::byte_buffer(payload.begin(), payload.end()));
    auto j = ktstr::frame_to_json(frame);
    auto s = ktstr::json_line(j);
    if (s.empty())
        std::abort();
    (void)ktstr::decode_test_result(payload);
    (void)ktstr::decode_payload_metrics(payload);
    (void)ktstr::decode_raw_payload_output(payload);
    return 0;
}
