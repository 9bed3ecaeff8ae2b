// Fixed payload layouts and their encoders/decoders. All little-endian.
// Decoders take untrusted bytes and return std::nullopt on a size or value
// the protocol does not allow; they never read past the span.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ktstr/common/bytes.hpp"

namespace ktstr {

// STIM: the state after a scenario step. 24 bytes, naturally aligned.
struct StimulusPayload {
    std::uint32_t elapsed_ms = 0;
    std::uint16_t step_index = 0;
    std::uint16_t op_count = 0;
    std::uint32_t op_kinds = 0;
    std::uint16_t cgroup_count = 0;
    std::uint16_t worker_count = 0;
    std::uint64_t total_iterations = 0;

    friend bool operator==(const StimulusPayload&, const StimulusPayload&) = default;
};
static_assert(sizeof(StimulusPayload) == 24);
static_assert(offsetof(StimulusPayload, step_index) == 4);
static_assert(offsetof(StimulusPayload, op_count) == 6);
static_assert(offsetof(StimulusPayload, op_kinds) == 8);
static_assert(offsetof(StimulusPayload, cgroup_count) == 12);
static_assert(offsetof(StimulusPayload, worker_count) == 14);
static_assert(offsetof(StimulusPayload, total_iterations) == 16);

std::array<std::uint8_t, 24> encode(const StimulusPayload& p) noexcept;
// Needs at least 24 bytes; extra trailing bytes are ignored (as ktstr does).
std::optional<StimulusPayload> decode_stimulus(byte_view b) noexcept;

inline constexpr std::size_t snapshot_tag_size = 64;

// 0-2 are ktstr's. 0x100 and up are ktstr-vmm's own controls, carried by the
// same request/reply pair because the reply is the barrier they need (the
// guest knows the host acted before it goes on); ktstr's host answers them
// ERR as unknown kinds.
//  - ShmDrainHold: the host stops draining the SHM ring live until a
//    release (or the run's end, whose final drain always runs), and
//    replies once no drain pass can run any more;
//  - ShmDrainRelease: the host drains the ring once, dispatching what the
//    guest wrote, and replies after that pass; live draining resumes.
enum class SnapshotKind : std::uint32_t {
    None = 0,
    Capture = 1,
    Watch = 2,
    ShmDrainHold = 0x100,
    ShmDrainRelease = 0x101,
};
enum class SnapshotStatus : std::uint32_t { Ok = 1, Err = 2 };

// SNRQ, guest to host. `tag` is NUL-padded UTF-8.
struct SnapshotRequestPayload {
    std::uint32_t request_id = 0;
    std::uint32_t kind = 0;  // SnapshotKind; 0 is invalid on the wire
    std::array<char, snapshot_tag_size> tag{};
};
static_assert(sizeof(SnapshotRequestPayload) == 72);
static_assert(offsetof(SnapshotRequestPayload, kind) == 4);
static_assert(offsetof(SnapshotRequestPayload, tag) == 8);

// SNRP, host to guest. `reason` is NUL-padded UTF-8.
struct SnapshotReplyPayload {
    std::uint32_t request_id = 0;
    std::uint32_t status = 0;  // SnapshotStatus
    std::array<char, snapshot_tag_size> reason{};
};
static_assert(sizeof(SnapshotReplyPayload) == 72);
static_assert(offsetof(SnapshotReplyPayload, status) == 4);
static_assert(offsetof(SnapshotReplyPayload, reason) == 8);

// Copies `text` into a NUL-padded field, truncating at a UTF-8 character
// boundary so the field never ends inside a multi-byte sequence.
std::array<char, snapshot_tag_size> make_padded_text(std::string_view text) noexcept;
// The text up to the first NUL.
std::string padded_text(const std::array<char, snapshot_tag_size>& field);

std::array<std::uint8_t, 72> encode(const SnapshotRequestPayload& p) noexcept;
std::array<std::uint8_t, 72> encode(const SnapshotReplyPayload& p) noexcept;
// Exactly 72 bytes required.
std::optional<SnapshotRequestPayload> decode_snapshot_request(byte_view b) noexcept;
std::optional<SnapshotReplyPayload> decode_snapshot_reply(byte_view b) noexcept;

// LIFE: phase byte then UTF-8 reason.
enum class LifecyclePhase : std::uint8_t {
    InitStarted = 1,
    PayloadStarting = 2,
    SchedulerDied = 3,
    SchedulerNotAttached = 4,
};
std::string_view lifecycle_phase_name(LifecyclePhase p) noexcept;

struct Lifecycle {
    LifecyclePhase phase;
    std::string reason;
};
byte_buffer encode_lifecycle(LifecyclePhase phase, std::string_view reason);
// Rejects an empty payload and phase 0 or > 4.
std::optional<Lifecycle> decode_lifecycle(byte_view b);

// KADR: phys_base is sent biased by +1 so that 0 means "not known".
struct KernAddrs {
    std::uint64_t phys_base = 0;
    std::uint64_t page_offset_base = 0;
    std::optional<std::uint64_t> kernel_text_kva;  // upstream's 24-byte form
};
std::array<std::uint8_t, 16> encode_kern_addrs(std::uint64_t phys_base, std::uint64_t page_offset_base) noexcept;
// Accepts 16 or 24 bytes; rejects a zero (unknown) biased phys_base and,
// in the 24-byte form, a zero biased kernel_text_kva.
std::optional<KernAddrs> decode_kern_addrs(byte_view b) noexcept;

std::array<std::uint8_t, 4> encode_i32(std::int32_t v) noexcept;
std::array<std::uint8_t, 8> encode_u64(std::uint64_t v) noexcept;
// Exactly 4 (resp. 8) bytes required.
std::optional<std::int32_t> decode_i32(byte_view b) noexcept;
std::optional<std::uint64_t> decode_u64(byte_view b) noexcept;

}  // namespace ktstr
