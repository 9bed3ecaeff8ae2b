// Frames an EXIT message with the installed library and checks it
// reassembles; prints the frame's CRC so the test can compare it.
#include <cstdio>

#include <ktstr/common/crc32.hpp>
#include <ktstr/common/msg_type.hpp>
#include <ktstr/common/payloads.hpp>
#include <ktstr/common/tlv_assembler.hpp>

int main() {
    auto payload = ktstr::encode_i32(7);
    auto frame = ktstr::encode_frame(ktstr::to_u32(ktstr::MsgType::Exit), payload);
    ktstr::TlvAssembler a;
    a.feed(frame);
    auto f = a.next();
    if (!f || !f->crc_ok || ktstr::decode_i32(f->payload) != 7)
        return 1;
    std::printf("%08x\n", ktstr::crc32(ktstr::as_bytes("123456789")));
    return 0;
}
