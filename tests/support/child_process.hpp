// SPDX-License-Identifier: Apache-2.0
// Real separate processes for multi-process tests: fork a function, or fork/exec a program, then wait
// for it with a deadline (a test never hangs on a stuck child) or kill it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace dhub::testing {

struct ExitStatus {
    bool exited = false;  ///< normal exit (code is valid)
    int code = -1;
    bool signalled = false;  ///< killed by a signal (signal is valid)
    int signal = 0;
    bool timed_out = false;  ///< still running at the deadline: it was SIGKILLed
};

class ChildProcess {
public:
    /// Forks; the child runs body() and _exit()s with its return value (uncaught exceptions: 99).
    static ChildProcess fork(const std::function<int()>& body);
    /// Forks and execs program with arguments; stdout/stderr are inherited, or both go to output_file
    /// when one is given (a file rather than a pipe: a chatty child can never block on it).
    static ChildProcess spawn(const std::string& program,
                              const std::vector<std::string>& arguments,
                              const std::string& output_file = {});

    ChildProcess(ChildProcess&& other) noexcept;
    ChildProcess& operator=(ChildProcess&& other) noexcept;
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;
    /// Kills and reaps a child that is still running.
    ~ChildProcess();

    pid_t pid() const noexcept { return pid_; }
    /// Waits for the child to end; SIGKILLs it at the deadline and reports timed_out.
    ExitStatus wait(std::chrono::milliseconds timeout = std::chrono::seconds(30));
    /// Sends a signal (SIGKILL by default) without reaping; wait() reaps.
    void kill(int signal_number = 9) const noexcept;

private:
    explicit ChildProcess(pid_t pid) noexcept : pid_(pid) {}
    pid_t pid_ = -1;
    bool reaped_ = false;
};

/// A one-shot signal between processes: the child calls notify(), the parent wait()s. Built on a pipe
/// so it survives fork. The pipe is close-on-exec: to signal from an exec'd program, hand it a dup() of
/// write_fd() (dup clears the flag).
class ReadySignal {
public:
    ReadySignal();
    ~ReadySignal();
    ReadySignal(const ReadySignal&) = delete;
    ReadySignal& operator=(const ReadySignal&) = delete;
    void notify() noexcept;
    /// True if notified before the timeout.
    bool wait(std::chrono::milliseconds timeout = std::chrono::seconds(10)) noexcept;
    int write_fd() const noexcept { return fds_[1]; }

private:
    int fds_[2] = {-1, -1};
};

/// The whole content of a file ("" if it cannot be read).
std::string read_text_file(const std::string& path);

/// Polls condition every millisecond until it holds or the timeout passes.
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace dhub::testing
