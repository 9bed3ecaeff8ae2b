// Typed senders: one function per message type the guest sends on the
// bulk channel, each encoding its payload as docs/wire-format.md says.
//
// Every sender is guest-only: outside a ktstr guest (no KTSTR_GUEST=1 on
// the kernel command line) it logs one warning per process and returns
// false without touching any device. Otherwise it returns whether the
// whole frame was written to the bulk port (false: port not open yet, or
// the write failed). The port's virtqueue applies backpressure, so a
// sender may block; code that must never block (crash paths, signal
// handlers) uses the SHM ring's try_write or COM2 instead.
//
// Thread-safe; frames of concurrent senders never interleave.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ktstr/common/bytes.hpp"
#include "ktstr/common/payloads.hpp"
#include "ktstr/common/structured.hpp"

namespace ktstr::guest {

// Frames `payload` as `msg_type` and writes it; the guest check and the
// port of every typed sender below.
bool send_frame(std::uint32_t msg_type, byte_view payload);

bool send_exit(std::int32_t code);                                // EXIT
// TEST. An encoding above the bulk cap (16 MiB) is replaced by a failing
// verdict with one "other" detail saying how large it was.
bool send_test_result(const TestResult& result);
bool send_payload_metrics(const PayloadMetrics& metrics);         // PMET
bool send_profraw(byte_view profraw);                             // PRAW
bool send_stimulus(const StimulusPayload& stimulus);              // STIM
bool send_raw_payload_output(const RawPayloadOutput& output);     // RAWO
bool send_sched_exit(std::int32_t code);                          // SCDX
bool send_scenario_start();                                       // SCST
bool send_scenario_end(std::uint64_t elapsed_ms);                 // SCEN
bool send_scenario_pause();                                       // SCPP
bool send_scenario_resume();                                      // SCRR
bool send_sys_rdy();                                              // SRDY
// KADR, the 16-byte form: phys_base + 1, then page_offset_base.
bool send_kern_addrs(std::uint64_t phys_base, std::uint64_t page_offset_base);
// SOUT / SERR / SCLG / DMSG / PROB: callers split at well under 16 MiB
// (the output forwarder and send_chunked use stream_chunk_size).
bool send_stdout_chunk(byte_view chunk);
bool send_stderr_chunk(byte_view chunk);
bool send_sched_log(byte_view chunk);
bool send_dmesg(byte_view chunk);
bool send_probe_output(byte_view chunk);
bool send_lifecycle(LifecyclePhase phase, std::string_view reason);  // LIFE
bool send_exec_exit(std::int32_t code);                              // EXCX

// The largest chunk of a byte stream (output, the kernel log) per frame.
// A whole frame (16-byte header + chunk) is then 32 KiB: the most the
// kernel's virtio_console takes in one write, so one buffer and one host
// notification per chunk. Each notification is a VM exit; 4 KiB chunks
// cost eight times as many.
inline constexpr std::size_t stream_chunk_size = 32 * 1024 - 16;

// Sends `data` through `send` (send_dmesg, send_sched_log, ...) in order,
// in chunks of at most stream_chunk_size bytes; nothing for empty data.
// Returns how many chunks were not written (0: all were).
std::size_t send_chunked(bool (*send)(byte_view), byte_view data);

// Implements the oversize rule of send_test_result: the encoding to send
// for `result` under a cap of `max_payload` bytes. Exposed for tests.
byte_buffer encode_test_result_capped(const TestResult& result, std::size_t max_payload);

}  // namespace ktstr::guest
