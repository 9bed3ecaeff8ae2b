#include "ktstr/common/msg_type.hpp"

#include <array>

namespace ktstr {
namespace {

constexpr std::array catalogue{
    MsgTypeInfo{MsgType::Stimulus, "STIM", "Stimulus", PayloadKind::Stimulus},
    MsgTypeInfo{MsgType::ScenarioStart, "SCST", "ScenarioStart", PayloadKind::Empty},
    MsgTypeInfo{MsgType::ScenarioEnd, "SCEN", "ScenarioEnd", PayloadKind::U64},
    MsgTypeInfo{MsgType::ScenarioPause, "SCPP", "ScenarioPause", PayloadKind::Empty},
    MsgTypeInfo{MsgType::ScenarioResume, "SCRR", "ScenarioResume", PayloadKind::Empty},
    MsgTypeInfo{MsgType::Exit, "EXIT", "Exit", PayloadKind::I32},
    MsgTypeInfo{MsgType::TestResult, "TEST", "TestResult", PayloadKind::Json},
    MsgTypeInfo{MsgType::SchedExit, "SCDX", "SchedExit", PayloadKind::I32},
    MsgTypeInfo{MsgType::Crash, "CRSH", "Crash", PayloadKind::Text},
    MsgTypeInfo{MsgType::PayloadMetrics, "PMET", "PayloadMetrics", PayloadKind::Json},
    MsgTypeInfo{MsgType::RawPayloadOutput, "RAWO", "RawPayloadOutput", PayloadKind::Json},
    MsgTypeInfo{MsgType::Profraw, "PRAW", "Profraw", PayloadKind::Bytes},
    MsgTypeInfo{MsgType::SnapshotRequest, "SNRQ", "SnapshotRequest", PayloadKind::SnapshotRequest},
    MsgTypeInfo{MsgType::SnapshotReply, "SNRP", "SnapshotReply", PayloadKind::SnapshotReply},
    MsgTypeInfo{MsgType::SysRdy, "SRDY", "SysRdy", PayloadKind::Empty},
    MsgTypeInfo{MsgType::KernAddrs, "KADR", "KernAddrs", PayloadKind::KernAddrs},
    MsgTypeInfo{MsgType::Stdout, "SOUT", "Stdout", PayloadKind::Bytes},
    MsgTypeInfo{MsgType::Stderr, "SERR", "Stderr", PayloadKind::Bytes},
    MsgTypeInfo{MsgType::SchedLog, "SCLG", "SchedLog", PayloadKind::Bytes},
    MsgTypeInfo{MsgType::Lifecycle, "LIFE", "Lifecycle", PayloadKind::Lifecycle},
    MsgTypeInfo{MsgType::ExecExit, "EXCX", "ExecExit", PayloadKind::I32},
    MsgTypeInfo{MsgType::Dmesg, "DMSG", "Dmesg", PayloadKind::Bytes},
    MsgTypeInfo{MsgType::ProbeOutput, "PROB", "ProbeOutput", PayloadKind::Bytes},
};

// The tag is the value's hex digits read as ASCII, so the table can be
// checked against itself at compile time.
constexpr bool tags_spell_values() {
    for (const auto& e : catalogue) {
        auto v = static_cast<std::uint32_t>(e.type);
        for (int i = 0; i < 4; ++i)
            if (static_cast<unsigned char>(e.tag[static_cast<std::size_t>(i)]) != ((v >> (24 - 8 * i)) & 0xff))
                return false;
    }
    return true;
}
static_assert(tags_spell_values());

}  // namespace

std::span<const MsgTypeInfo> all_msg_types() noexcept { return catalogue; }

std::optional<MsgTypeInfo> find_msg_type(std::uint32_t value) noexcept {
    for (const auto& e : catalogue)
        if (static_cast<std::uint32_t>(e.type) == value)
            return e;
    return std::nullopt;
}

std::optional<MsgTypeInfo> find_msg_type(std::string_view tag_or_name) noexcept {
    for (const auto& e : catalogue)
        if (e.tag == tag_or_name || e.name == tag_or_name)
            return e;
    return std::nullopt;
}

std::string tag_of(std::uint32_t value) {
    std::string s(4, '.');
    for (int i = 0; i < 4; ++i) {
        auto c = static_cast<unsigned char>((value >> (24 - 8 * i)) & 0xff);
        if (c >= 0x20 && c < 0x7f)
            s[static_cast<std::size_t>(i)] = static_cast<char>(c);
    }
    return s;
}

}  // namespace ktstr
