#include <catch2/catch.hpp>

#include "cli/run_cmdline.hpp"

using ktstr::cli::run_cmdline_extra;

TEST_CASE("run's kernel command line: quiet without --verbose, then --append") {
    CHECK(run_cmdline_extra(false, "") == "quiet KTSTR_INIT_ECHO=0");
    CHECK(run_cmdline_extra(true, "") == "KTSTR_INIT_ECHO=1");
    CHECK(run_cmdline_extra(false, "rtc_cmos.use_acpi_alarm=1") == "quiet KTSTR_INIT_ECHO=0 rtc_cmos.use_acpi_alarm=1");
}
