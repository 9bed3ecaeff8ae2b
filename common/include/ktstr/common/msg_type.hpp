// The message-type catalogue: every type of ktstr's protocol, with ktstr's
// own values. A value is a u32 whose hex digits spell its four-letter tag
// ("EXIT" = 0x45584954); on the wire it is little-endian.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace ktstr {

enum class MsgType : std::uint32_t {
    Stimulus = 0x5354494D,          // STIM
    ScenarioStart = 0x53435354,     // SCST
    ScenarioEnd = 0x5343454E,       // SCEN
    ScenarioPause = 0x53435050,     // SCPP
    ScenarioResume = 0x53435252,    // SCRR
    Exit = 0x45584954,              // EXIT
    TestResult = 0x54455354,        // TEST
    SchedExit = 0x53434458,         // SCDX
    Crash = 0x43525348,             // CRSH
    PayloadMetrics = 0x504D4554,    // PMET
    RawPayloadOutput = 0x5241574F,  // RAWO
    Profraw = 0x50524157,           // PRAW
    SnapshotRequest = 0x534E5251,   // SNRQ
    SnapshotReply = 0x534E5250,     // SNRP
    SysRdy = 0x53524459,            // SRDY
    KernAddrs = 0x4B414452,         // KADR
    Stdout = 0x534F5554,            // SOUT
    Stderr = 0x53455252,            // SERR
    SchedLog = 0x53434C47,          // SCLG
    Lifecycle = 0x4C494645,         // LIFE
    ExecExit = 0x45584358,          // EXCX
    Dmesg = 0x444D5347,             // DMSG
    ProbeOutput = 0x50524F42,       // PROB
};

// How a type's payload is laid out; drives decoding.
enum class PayloadKind {
    Empty,          // no bytes
    I32,            // i32 LE (exit codes)
    U64,            // u64 LE (scenario-end milliseconds)
    Stimulus,       // StimulusPayload, 24 bytes
    SnapshotRequest,// SnapshotRequestPayload, 72 bytes
    SnapshotReply,  // SnapshotReplyPayload, 72 bytes
    KernAddrs,      // 16 or 24 bytes
    Lifecycle,      // 1 byte phase + UTF-8 reason
    Text,           // UTF-8 text (crash report)
    Json,           // structured: UTF-8 JSON object (docs/wire-format.md)
    Bytes,          // opaque bytes (stdout chunks, profraw, ...)
};

struct MsgTypeInfo {
    MsgType type;
    std::string_view tag;   // "EXIT"
    std::string_view name;  // "Exit"
    PayloadKind payload;
};

// Every known type, in the order of the protocol table.
std::span<const MsgTypeInfo> all_msg_types() noexcept;

std::optional<MsgTypeInfo> find_msg_type(std::uint32_t value) noexcept;
// Accepts the tag ("EXIT") or the name ("Exit").
std::optional<MsgTypeInfo> find_msg_type(std::string_view tag_or_name) noexcept;

constexpr std::uint32_t to_u32(MsgType t) noexcept { return static_cast<std::uint32_t>(t); }

// The four characters a value's hex digits spell, most significant first;
// non-printable bytes become '.'. Works for unknown values too.
std::string tag_of(std::uint32_t value);

}  // namespace ktstr
