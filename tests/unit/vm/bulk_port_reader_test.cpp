#include <catch2/catch.hpp>

#include <string>

#include <fcntl.h>
#include <unistd.h>

#include <ktstr/common/frame.hpp>
#include <ktstr/common/msg_type.hpp>
#include <ktstr/common/payloads.hpp>

#include "kvm/unique_fd.hpp"
#include "vm/bulk_port_reader.hpp"

using namespace ktstr;
using namespace ktstr::vmm;
using namespace ktstr::vmm::vm;

namespace {

std::string drain(int fd) {
    std::string s;
    char buf[4096];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;)
        s.append(buf, static_cast<std::size_t>(n));
    return s;
}

byte_buffer frame(MsgType t, byte_view payload) { return encode_frame(static_cast<std::uint32_t>(t), payload); }

}  // namespace

TEST_CASE("frames split anywhere: stdout and stderr in order, exit codes kept, bad CRC ignored") {
    int out[2], err[2];
    REQUIRE(::pipe2(out, O_NONBLOCK) == 0);
    REQUIRE(::pipe2(err, O_NONBLOCK) == 0);
    UniqueFd out_r(out[0]), out_w(out[1]), err_r(err[0]), err_w(err[1]);

    byte_buffer stream;
    auto append = [&](const byte_buffer& b) { stream.insert(stream.end(), b.begin(), b.end()); };
    append(frame(MsgType::Stdout, as_bytes("hello ")));
    append(frame(MsgType::Stderr, as_bytes("warning\n")));
    append(frame(MsgType::Stdout, as_bytes("world\n")));
    auto bad = frame(MsgType::Stdout, as_bytes("corrupt"));
    bad.back() ^= 1;
    append(bad);
    const auto ee = encode_i32(7);
    append(frame(MsgType::ExecExit, ee));
    const auto ex = encode_i32(9);
    append(frame(MsgType::Exit, ex));

    BulkPortReader reader(out_w.get(), err_w.get());
    for (std::size_t i = 0; i < stream.size(); i += 5)
        reader.push(byte_view(stream).subspan(i, std::min<std::size_t>(5, stream.size() - i)));
    const auto r = reader.finish();

    CHECK(drain(out_r.get()) == "hello world\n");
    CHECK(drain(err_r.get()) == "warning\n");
    CHECK(r.exit_code == 9);
    CHECK(r.exec_exit_code == 7);
    CHECK(r.frames == 6);
    CHECK(r.crc_errors == 1);
    CHECK(r.per_type.at(static_cast<std::uint32_t>(MsgType::Stdout)) == 3);
    // finish() again: same totals, nothing more.
    CHECK(reader.finish().frames == 6);
}

TEST_CASE("no frames: no exit codes") {
    BulkPortReader reader(-1, -1);
    reader.push(as_bytes("garbage that never forms a frame"));
    const auto r = reader.finish();
    CHECK_FALSE(r.exit_code);
    CHECK_FALSE(r.exec_exit_code);
    CHECK(r.frames == 0);
}
