#include <catch2/catch.hpp>

#include "ktstr/common/scx_exit_kind.hpp"

using namespace ktstr;

TEST_CASE("exit kinds carry the kernel's values, names and logged reasons", "[scx]") {
    CHECK(scx::kind_name(scx::exit_error_bpf) == "ERROR_BPF");
    CHECK(scx::kind_name(1026) == "ERROR_STALL");
    CHECK(scx::kind_name(64) == "UNREG");
    CHECK(scx::kind_name(0) == "NONE");
    CHECK(scx::kind_name(2048) == "UNKNOWN");
    CHECK(scx::kind_name(-1) == "UNKNOWN");
    CHECK(scx::kind_reason(64) == "unregistered from user space");
    CHECK(scx::kind_reason(65) == "unregistered from BPF");
    CHECK(scx::kind_reason(66) == "unregistered from the main kernel");
    CHECK(scx::kind_reason(67) == "disabled by sysrq-S");
    CHECK(scx::kind_reason(1024) == "runtime error");
    CHECK(scx::kind_reason(1025) == "scx_bpf_error");
    CHECK(scx::kind_reason(1026) == "runnable task stall");
    CHECK(scx::kind_reason(1).empty());
    CHECK(scx::kind_reason(999).empty());
}

TEST_CASE("a logged reason maps back to its kind, and only an exact one", "[scx]") {
    for (const auto& k : scx::exit_kinds()) {
        if (k.reason.empty())
            continue;
        INFO(k.name);
        CHECK(scx::kind_of_reason(k.reason) == k.kind);
    }
    CHECK_FALSE(scx::kind_of_reason(""));
    CHECK_FALSE(scx::kind_of_reason("runnable task stall "));
    CHECK_FALSE(scx::kind_of_reason("Runtime error"));
    CHECK_FALSE(scx::kind_of_reason("<UNKNOWN>"));
    CHECK(scx::is_error_kind(1024));
    CHECK_FALSE(scx::is_error_kind(67));
}
