#include <catch2/catch.hpp>

#include <string>

#include "ktstr/host/run_summary.hpp"

using namespace ktstr::host;

TEST_CASE("run summary: frames per channel and type, losses, snapshots and the exit status") {
    RunResult r;
    r.frames = 30;
    r.crc_errors = 3;
    r.message_counts = {{"EXIT", 1}, {"STIM", 25}, {"SOUT", 4}};
    r.shm_message_counts = {{"STIM", 24}};
    r.shm_present = true;
    r.shm.crc_errors = 1;
    r.shm.drops = 16;
    r.bulk.assembler.dropped_bytes = 100;
    r.bulk.handover_dropped_bytes = 7;
    r.bulk.assembler.oversize_frames = 1;
    r.snapshots.requests = 4;
    r.snapshots.captured = 1;
    r.snapshots.errors = 1;
    r.snapshots.shm_drain_holds = 1;
    r.snapshots.shm_drain_releases = 1;

    const auto s = format_run_summary(r, 0, "the command's");
    INFO(s);
    CHECK(s.find("  bulk              6           2  107 bytes (1 oversize frames, 0 refused hand-overs)\n") !=
          std::string::npos);
    CHECK(s.find("  SHM ring         24           1  16 drops (the guest's counter)\n") != std::string::npos);
    CHECK(s.find("  STIM              1          24\n") != std::string::npos);
    CHECK(s.find("  EXIT              1           0\n") != std::string::npos);
    CHECK(s.find("4 requests, 1 captured, 1 answered ERR, 1 drain holds, 1 releases") != std::string::npos);
    CHECK(s.find("  exit status: 0 (the command's)\n") != std::string::npos);
    CHECK(s.find("tests:") == std::string::npos);  // no verdicts, no line
}

TEST_CASE("run summary: without an SHM ring the row says so") {
    RunResult r;
    const auto s = format_run_summary(r, 240, "timeout");
    CHECK(s.find("  SHM ring       none\n") != std::string::npos);
    CHECK(s.find("  exit status: 240 (timeout)\n") != std::string::npos);
}
