#include "init_options.hpp"

#include <charconv>
#include <string>

#include "ktstr/common/kernel_cmdline_params.hpp"

namespace ktstr::init {
namespace {

constexpr std::uint64_t max_wait_ms = 3600 * 1000;

std::string absolute_path(std::string_view cmdline, std::string_view key, std::string fallback,
                          std::vector<std::string>& errors) {
    auto v = cmdline_params::cmdline_value(cmdline, key);
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
    auto v = cmdline_params::cmdline_value(cmdline, key);
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
    o.guest = cmdline_params::cmdline_has_token(cmdline, cmdline_params::guest_word);
    o.command_file = absolute_path(cmdline, cmdline_params::init_command_key, o.command_file, errors);
    o.env_file = absolute_path(cmdline, cmdline_params::init_env_key, o.env_file, errors);
    o.modules_file = absolute_path(cmdline, cmdline_params::init_modules_key, o.modules_file, errors);
    o.scheduler_file = absolute_path(cmdline, cmdline_params::init_scheduler_key, o.scheduler_file, errors);
    o.com2 = absolute_path(cmdline, cmdline_params::init_com2_key, o.com2, errors);
    o.port_wait = millis(cmdline, cmdline_params::init_port_wait_key, o.port_wait, errors);
    o.sysrdy_budget = millis(cmdline, cmdline_params::init_sysrdy_key, o.sysrdy_budget, errors);
    if (cmdline_params::cmdline_value(cmdline, cmdline_params::sched_attach_key)) {
        const auto before = errors.size();
        const auto v = millis(cmdline, cmdline_params::sched_attach_key, std::chrono::milliseconds(0), errors);
        if (errors.size() == before)
            o.sched_attach = v;
    }
    if (auto e = cmdline_params::cmdline_value(cmdline, cmdline_params::init_echo_key)) {
        if (*e == "0" || *e == "1")
            o.echo = *e == "1";
        else
            errors.push_back(std::string(cmdline_params::init_echo_key) + "=" + std::string(*e) + ": must be 0 or 1");
    }
    return o;
}

}  // namespace ktstr::init
