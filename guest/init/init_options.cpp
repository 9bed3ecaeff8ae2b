#include "init_options.hpp"

#include <charconv>
#include <stdexcept>
#include <string>

#include "ktstr/guest/kernel_cmdline.hpp"

namespace ktstr::init {
namespace {

constexpr std::uint64_t max_wait_ms = 3600 * 1000;

std::string absolute_path(std::string_view cmdline, std::string_view key, std::string fallback) {
    auto v = guest::cmdline_value(cmdline, key);
    if (!v)
        return fallback;
    if (v->empty() || v->front() != '/')
        throw std::runtime_error(std::string(key) + "=" + std::string(*v) + ": not an absolute path");
    return std::string(*v);
}

std::chrono::milliseconds millis(std::string_view cmdline, std::string_view key, std::chrono::milliseconds fallback) {
    auto v = guest::cmdline_value(cmdline, key);
    if (!v)
        return fallback;
    std::uint64_t n = 0;
    auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n, 10);
    if (v->empty() || ec != std::errc{} || p != v->data() + v->size() || n > max_wait_ms)
        throw std::runtime_error(std::string(key) + "=" + std::string(*v) +
                                 ": not a decimal number of milliseconds up to " + std::to_string(max_wait_ms));
    return std::chrono::milliseconds(n);
}

}  // namespace

InitOptions parse_init_options(std::string_view cmdline) {
    InitOptions o;
    o.guest = guest::cmdline_has_token(cmdline, "KTSTR_GUEST=1");
    o.command_file = absolute_path(cmdline, "KTSTR_INIT_COMMAND", o.command_file);
    o.env_file = absolute_path(cmdline, "KTSTR_INIT_ENV", o.env_file);
    o.modules_file = absolute_path(cmdline, "KTSTR_INIT_MODULES", o.modules_file);
    o.com2 = absolute_path(cmdline, "KTSTR_INIT_COM2", o.com2);
    o.port_wait = millis(cmdline, "KTSTR_INIT_PORT_WAIT_MS", o.port_wait);
    o.sysrdy_budget = millis(cmdline, "KTSTR_INIT_SYSRDY_MS", o.sysrdy_budget);
    if (auto e = guest::cmdline_value(cmdline, "KTSTR_INIT_ECHO")) {
        if (*e != "0" && *e != "1")
            throw std::runtime_error("KTSTR_INIT_ECHO=" + std::string(*e) + ": must be 0 or 1");
        o.echo = *e == "1";
    }
    return o;
}

}  // namespace ktstr::init
