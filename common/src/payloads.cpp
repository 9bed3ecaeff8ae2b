#include "ktstr/common/payloads.hpp"

#include <algorithm>
#include <cstring>

namespace ktstr {

std::array<std::uint8_t, 24> encode(const StimulusPayload& p) noexcept {
    std::array<std::uint8_t, 24> b{};
    store_le(b.data() + 0, p.elapsed_ms);
    store_le(b.data() + 4, p.step_index);
    store_le(b.data() + 6, p.op_count);
    store_le(b.data() + 8, p.op_kinds);
    store_le(b.data() + 12, p.cgroup_count);
    store_le(b.data() + 14, p.worker_count);
    store_le(b.data() + 16, p.total_iterations);
    return b;
}

std::optional<StimulusPayload> decode_stimulus(byte_view b) noexcept {
    if (b.size() < 24)
        return std::nullopt;
    StimulusPayload p;
    p.elapsed_ms = load_le<std::uint32_t>(b.data() + 0);
    p.step_index = load_le<std::uint16_t>(b.data() + 4);
    p.op_count = load_le<std::uint16_t>(b.data() + 6);
    p.op_kinds = load_le<std::uint32_t>(b.data() + 8);
    p.cgroup_count = load_le<std::uint16_t>(b.data() + 12);
    p.worker_count = load_le<std::uint16_t>(b.data() + 14);
    p.total_iterations = load_le<std::uint64_t>(b.data() + 16);
    return p;
}

std::array<char, snapshot_tag_size> make_padded_text(std::string_view text) noexcept {
    std::array<char, snapshot_tag_size> out{};
    std::size_t n = std::min(text.size(), out.size());
    // Back off to a UTF-8 character boundary: never cut a multi-byte
    // sequence (a continuation byte is 10xxxxxx).
    if (n < text.size())
        while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80)
            --n;
    std::memcpy(out.data(), text.data(), n);
    return out;
}

std::string padded_text(const std::array<char, snapshot_tag_size>& field) {
    auto end = std::find(field.begin(), field.end(), '\0');
    return std::string(field.begin(), end);
}

namespace {

std::array<std::uint8_t, 72> encode_snapshot(std::uint32_t a, std::uint32_t b,
                                             const std::array<char, snapshot_tag_size>& text) noexcept {
    std::array<std::uint8_t, 72> out{};
    store_le(out.data() + 0, a);
    store_le(out.data() + 4, b);
    std::memcpy(out.data() + 8, text.data(), text.size());
    return out;
}

struct SnapshotFields {
    std::uint32_t a, b;
    std::array<char, snapshot_tag_size> text;
};

std::optional<SnapshotFields> decode_snapshot(byte_view bytes) noexcept {
    if (bytes.size() != 72)
        return std::nullopt;
    SnapshotFields f{load_le<std::uint32_t>(bytes.data()), load_le<std::uint32_t>(bytes.data() + 4), {}};
    std::memcpy(f.text.data(), bytes.data() + 8, f.text.size());
    return f;
}

}  // namespace

std::array<std::uint8_t, 72> encode(const SnapshotRequestPayload& p) noexcept {
    return encode_snapshot(p.request_id, p.kind, p.tag);
}

std::array<std::uint8_t, 72> encode(const SnapshotReplyPayload& p) noexcept {
    return encode_snapshot(p.request_id, p.status, p.reason);
}

std::optional<SnapshotRequestPayload> decode_snapshot_request(byte_view b) noexcept {
    auto f = decode_snapshot(b);
    if (!f)
        return std::nullopt;
    return SnapshotRequestPayload{f->a, f->b, f->text};
}

std::optional<SnapshotReplyPayload> decode_snapshot_reply(byte_view b) noexcept {
    auto f = decode_snapshot(b);
    if (!f)
        return std::nullopt;
    return SnapshotReplyPayload{f->a, f->b, f->text};
}

std::string_view lifecycle_phase_name(LifecyclePhase p) noexcept {
    switch (p) {
    case LifecyclePhase::InitStarted: return "InitStarted";
    case LifecyclePhase::PayloadStarting: return "PayloadStarting";
    case LifecyclePhase::SchedulerDied: return "SchedulerDied";
    case LifecyclePhase::SchedulerNotAttached: return "SchedulerNotAttached";
    }
    return "Unknown";
}

byte_buffer encode_lifecycle(LifecyclePhase phase, std::string_view reason) {
    byte_buffer out;
    out.reserve(1 + reason.size());
    out.push_back(static_cast<std::uint8_t>(phase));
    out.insert(out.end(), reason.begin(), reason.end());
    return out;
}

std::optional<Lifecycle> decode_lifecycle(byte_view b) {
    if (b.empty() || b[0] == 0 || b[0] > 4)
        return std::nullopt;
    return Lifecycle{static_cast<LifecyclePhase>(b[0]), std::string(b.begin() + 1, b.end())};
}

std::array<std::uint8_t, 16> encode_kern_addrs(std::uint64_t phys_base, std::uint64_t page_offset_base) noexcept {
    std::array<std::uint8_t, 16> out{};
    store_le(out.data(), phys_base + 1);  // unsigned wrap is the protocol's bias
    store_le(out.data() + 8, page_offset_base);
    return out;
}

std::optional<KernAddrs> decode_kern_addrs(byte_view b) noexcept {
    if (b.size() != 16 && b.size() != 24)
        return std::nullopt;
    auto biased = load_le<std::uint64_t>(b.data());
    if (biased == 0)
        return std::nullopt;
    KernAddrs k;
    k.phys_base = biased - 1;
    k.page_offset_base = load_le<std::uint64_t>(b.data() + 8);
    if (b.size() == 24) {
        auto text = load_le<std::uint64_t>(b.data() + 16);
        if (text == 0)
            return std::nullopt;
        k.kernel_text_kva = text - 1;
    }
    return k;
}

std::array<std::uint8_t, 4> encode_i32(std::int32_t v) noexcept {
    std::array<std::uint8_t, 4> out{};
    store_le(out.data(), static_cast<std::uint32_t>(v));
    return out;
}

std::array<std::uint8_t, 8> encode_u64(std::uint64_t v) noexcept {
    std::array<std::uint8_t, 8> out{};
    store_le(out.data(), v);
    return out;
}

std::optional<std::int32_t> decode_i32(byte_view b) noexcept {
    if (b.size() != 4)
        return std::nullopt;
    return static_cast<std::int32_t>(load_le<std::uint32_t>(b.data()));
}

std::optional<std::uint64_t> decode_u64(byte_view b) noexcept {
    if (b.size() != 8)
        return std::nullopt;
    return load_le<std::uint64_t>(b.data());
}

}  // namespace ktstr
