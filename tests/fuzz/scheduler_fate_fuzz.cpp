// A guest's fate record (a Lifecycle reason, hostile text) as the host
// reads it: parse_fate, then everything the host makes of it (the report's
// one line and its JSON). Invariants: nothing crashes or throws; a record
// that parses formats back within the bound, and that text parses again
// to something that formats the same (format is idempotent on its output);
// the host's line is one line.
#include <cstdlib>
#include <string_view>

#include "ktstr/common/json_line.hpp"
#include "ktstr/common/scheduler_fate.hpp"
#include "ktstr/host/run_result.hpp"
#include "ktstr/host/scheduler_report.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto f = ktstr::parse_fate(text);
    if (!f)
        return 0;
    const auto formatted = ktstr::format_fate(*f);
    if (formatted.size() > ktstr::max_fate_record)
        std::abort();
    const auto again = ktstr::parse_fate(formatted);
    if (!again || ktstr::format_fate(*again) != formatted)
        std::abort();

    ktstr::host::SchedulerRecords records;
    if (f->fate == ktstr::SchedulerFate::Kind::attached)
        records.attached = *f;
    else
        records.end = *f;
    const auto report = ktstr::host::report_scheduler(records, {"scx_fuzz", {"-x"}});
    const auto line = report.describe();
    if (line.find('\n') != std::string::npos || line.find('\x1b') != std::string::npos)
        std::abort();
    if (ktstr::json_line(report.to_json()).empty())
        std::abort();
    return 0;
}
