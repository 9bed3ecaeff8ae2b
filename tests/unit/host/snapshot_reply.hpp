// Decodes what the host sent to the guest: SNRP frames, as the guest's
// snapshot client would read them.
#pragma once

#include <optional>
#include <vector>

#include "ktstr/common/bytes.hpp"
#include "ktstr/common/msg_type.hpp"
#include "ktstr/common/payloads.hpp"
#include "ktstr/common/tlv_assembler.hpp"

namespace ktstr::host::test {

inline std::vector<SnapshotReplyPayload> decode_replies(byte_view sent) {
    TlvAssembler a;
    a.feed(sent);
    std::vector<SnapshotReplyPayload> out;
    while (auto f = a.next()) {
        if (f->crc_ok && f->msg_type() == to_u32(MsgType::SnapshotReply))
            if (auto r = decode_snapshot_reply(f->payload))
                out.push_back(*r);
    }
    return out;
}

inline byte_buffer snapshot_request_frame(std::uint32_t id, std::uint32_t kind, std::string_view tag) {
    SnapshotRequestPayload p;
    p.request_id = id;
    p.kind = kind;
    p.tag = make_padded_text(tag);
    return encode_frame(to_u32(MsgType::SnapshotRequest), encode(p));
}

}  // namespace ktstr::host::test
