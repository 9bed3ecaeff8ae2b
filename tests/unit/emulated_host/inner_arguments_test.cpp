#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "emulated_host/inner_arguments.hpp"

using ktstr::vmm::emulated_host::arguments_for_inner_host;
using ktstr::vmm::emulated_host::inner_command_line;
using ktstr::vmm::emulated_host::InnerOption;
using V = std::vector<std::string>;

TEST_CASE("inner arguments: --kvm becomes host, in both spellings") {
    CHECK(arguments_for_inner_host(V{"kvm-check", "--kvm", "emulated", "--timeout", "5"}, "kvm-check") ==
          V{"kvm-check", "--kvm", "host", "--timeout", "5"});
    CHECK(arguments_for_inner_host(V{"kvm-check", "--kvm=auto"}, "kvm-check") == V{"kvm-check", "--kvm=host"});
}

TEST_CASE("inner arguments: --kvm host is added after the subcommand when absent") {
    CHECK(arguments_for_inner_host(V{"run", "--cpus", "2", "--", "true"}, "run") ==
          V{"run", "--kvm", "host", "--cpus", "2", "--", "true"});
}

TEST_CASE("inner arguments: nothing after -- is touched") {
    CHECK(arguments_for_inner_host(V{"run", "--kvm", "emulated", "--", "prog", "--kvm", "emulated"}, "run") ==
          V{"run", "--kvm", "host", "--", "prog", "--kvm", "emulated"});
    CHECK(arguments_for_inner_host(V{"run", "--", "prog", "--kvm=x"}, "run") ==
          V{"run", "--kvm", "host", "--", "prog", "--kvm=x"});
}

TEST_CASE("inner arguments: options before the subcommand stay where they are") {
    CHECK(arguments_for_inner_host(V{"--some-root-flag", "kvm-check"}, "kvm-check") ==
          V{"--some-root-flag", "kvm-check", "--kvm", "host"});
}

TEST_CASE("inner command line: each option is one --name=value argument, flags bare, the command after --") {
    const std::vector<InnerOption> options{{"--kvm", "host"}, {"--cpus", "2"}, {"--json", std::nullopt}};
    CHECK(inner_command_line(V{"run"}, options, V{"sh", "-c", "echo hi"}) ==
          V{"run", "--kvm=host", "--cpus=2", "--json", "--", "sh", "-c", "echo hi"});
    CHECK(inner_command_line(V{}, {}, V{}) == V{"--"});
}

TEST_CASE("inner command line: a value stays one argument whatever it holds") {
    const std::vector<InnerOption> options{
        {"--append", "--not-an-option"}, {"--append", "a b  c"}, {"--append", ""}, {"--append", "x=y=z"}};
    CHECK(inner_command_line(V{"run"}, options, V{"--kvm", "emulated"}) ==
          V{"run", "--append=--not-an-option", "--append=a b  c", "--append=", "--append=x=y=z", "--", "--kvm",
            "emulated"});
}

TEST_CASE("inner command line: only long option names") {
    CHECK_THROWS_AS(inner_command_line(V{}, std::vector<InnerOption>{{"-v", std::nullopt}}, V{}),
                    std::invalid_argument);
    CHECK_THROWS_AS(inner_command_line(V{}, std::vector<InnerOption>{{"--a=b", "c"}}, V{}), std::invalid_argument);
    CHECK_THROWS_AS(inner_command_line(V{}, std::vector<InnerOption>{{"--", "c"}}, V{}), std::invalid_argument);
}
