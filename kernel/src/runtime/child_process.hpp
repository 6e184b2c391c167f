// SPDX-License-Identifier: Apache-2.0
// A child process the kernel starts and watches: fork and exec with the descriptors it passes on, limits
// applied before exec, death of the kernel killing it (PR_SET_PDEATHSIG), a pidfd to wait on, and its exit
// told in words ("killed by SIGSEGV", "exit code 3").
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dhub/base/result.hpp"

namespace dhub::runtime {

struct ChildSpec {
    std::string executable;
    std::vector<std::string> arguments;  ///< argv[1..]
    /// Descriptors the child gets, at fds 3, 4, ... in this order (all others are closed on exec).
    std::vector<int> pass_fds;
    std::optional<std::uint64_t> memory_mb;  ///< RLIMIT_AS
    std::vector<std::uint32_t> cpus;         ///< sched_setaffinity; empty: inherited
    std::optional<int> nice;
};

/// How a child ended.
struct ChildExit {
    bool signaled = false;
    int code = 0;  ///< exit code, or the signal number when signaled
    bool clean() const noexcept { return !signaled && code == 0; }
    /// "exit code 3", "killed by SIGSEGV (signal 11)".
    std::string describe() const;
};

class ChildProcess {
public:
    /// Starts it. An exec that fails ends the child with exit code 127 (the shell's "command not found").
    static Result<ChildProcess> spawn(const ChildSpec& spec);
    ChildProcess(ChildProcess&& other) noexcept;
    ChildProcess& operator=(ChildProcess&& other) noexcept;
    /// Kills (SIGKILL) and reaps it if it still runs: a child never outlives its handle.
    ~ChildProcess();
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    pid_t pid() const noexcept { return pid_; }
    /// Readable once the child has exited (-1 where the kernel has no pidfds: then poll with try_reap).
    int pidfd() const noexcept { return pidfd_; }
    /// Its exit if it has ended (reaped now), else nullopt.
    std::optional<ChildExit> try_reap();
    /// Waits for its end.
    ChildExit reap();
    void kill(int signal) const noexcept;

private:
    ChildProcess(pid_t pid, int pidfd) noexcept : pid_(pid), pidfd_(pidfd) {}
    void release() noexcept;

    pid_t pid_ = -1;
    int pidfd_ = -1;
    std::optional<ChildExit> exit_;
};

}  // namespace dhub::runtime
