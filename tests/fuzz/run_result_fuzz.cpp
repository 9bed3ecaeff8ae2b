// A run result (result.json) as run_vm reads it back: through the emulated
// KVM host it returns from the outer guest, so it is hostile JSON. The
// first byte is the exit status, the rest the JSON. Invariants: nothing
// crashes or throws; the summary is one line without escape sequences;
// the failure report has no escape sequence; its JSON dumps (guest bytes
// that are not UTF-8 replaced); no file is read from a path the JSON
// names (the output directory is empty here, so the report names none).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "ktstr/vmm/vm.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0)
        return 0;
    ktstr::vmm::VmResult r;
    r.exit_status = data[0];
    const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
    auto j = nlohmann::ordered_json::parse(text, nullptr, false);
    if (j.is_discarded())
        j = nullptr;
    ktstr::vmm::read_run_result(r, j);
    ktstr::vmm::decide_verdict(r);
    if (r.summary.empty() || r.summary.find('\n') != std::string::npos || r.summary.find('\x1b') != std::string::npos)
        std::abort();
    if (r.scheduler && (!r.scheduler->log.empty() || !r.scheduler->dump.empty()))
        std::abort();
    const std::string report = ktstr::vmm::failure_report(r);
    if (report.find('\x1b') != std::string::npos)
        std::abort();
    (void)ktstr::vmm::failure_report_json(r).dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
    return 0;
}
