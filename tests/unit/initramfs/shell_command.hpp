// Runs a shell command line and captures its standard output: how the
// tests ask cpio(1), bsdtar(1), xz(1) and ldd(1) for a second opinion.
#pragma once

#include <cstdio>
#include <string>

#include <sys/wait.h>

namespace ktstr::test {

struct ShellResult {
    int status = -1;
    std::string out;
};

inline ShellResult shell(const std::string& command) {
    ShellResult r;
    FILE* p = ::popen(command.c_str(), "r");
    if (!p)
        return r;
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0)
        r.out.append(buf, n);
    const int st = ::pclose(p);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return r;
}

}  // namespace ktstr::test
