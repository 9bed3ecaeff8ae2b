#include "init_options.hpp"

#include <charconv>
#include <string>

#include "ktstr/guest/kernel_cmdline.hpp"

namespace ktstr::init {
namespace {

constexpr std::uint64_t max_wait_ms = 3600 * 1000;

std::string absolute_path(std::string_view cmdline, std::string_view key, std::string fallback,
                          std::vector<std::string>& errors) {
    auto v = guest::cmdline_value(cmdline, key);
    if (!v)
        return fallback;
    if (v->empty() || v->front() != '/') {
        errors.push_back(std::string(key) + "=" + std::string(*v) + ": not an absolute path");
        return fallback;
    }
    return std::string(*v);
}

std::chrono::milliseconds millis(std::string_view cmdline, std::string_view key, std::chrono::milliseconds fallback,
                                 std::vector<std::string>& errors) {
    auto v = guest::cmdline_value(cmdline, key);
    if (!v)
        return fallback;
    std::uint64_t n = 0;
    auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n, 10);
    if (v->empty() || ec != std::errc{} || p != v->data() + v->size() || n > max_wait_ms) {
        errors.push_back(std::string(key) + "=" + std::string(*v) + ": not a decimal number of milliseconds up to " +
                         std::to_string(max_wait_ms));
        return fallback;
    }
    return std::chrono::milliseconds(n);
}

}  // namespace

InitOptions parse_init_options(std::string_view cmdline, std::vector<std::string>& errors) {
    InitOptions o;
    o.guest = guest::cmdline_has_token(cmdline, "KTSTR_GUEST=1");
    o.command_file = absolute_path(cmdline, "KTSTR_INIT_COMMAND", o.command_file, errors);
    o.env_file = absolute_path(cmdline, "KTSTR_INIT_ENV", o.env_file, errors);
    o.modules_file = absolute_path(cmdline, "KTSTR_INIT_MODULES", o.modules_file, errors);
    o.com2 = absolute_path(cmdline, "KTSTR_INIT_COM2", o.com2, errors);
    o.port_wait = millis(cmdline, "KTSTR_INIT_PORT_WAIT_MS", o.port_wait, errors);
    o.sysrdy_budget = millis(cmdline, "KTSTR_INIT_SYSRDY_MS", o.sysrdy_budget, errors);
    if (auto e = guest::cmdline_value(cmdline, "KTSTR_INIT_ECHO")) {
        if (*e == "0" || *e == "1")
            o.echo = *e == "1";
        else
            errors.push_back("KTSTR_INIT_ECHO=" + std::string(*e) + ": must be 0 or 1");
    }
    return o;
}

}  // namespace ktstr::init
