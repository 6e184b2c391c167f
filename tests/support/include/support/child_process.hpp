// SPDX-License-Identifier: Apache-2.0
// Real separate processes for tests and the bench: fork a function, or fork/exec a program, then wait
// for it with a deadline (a test never hangs on a stuck child), stop it or kill it. The one place that
// forks, waits and kills: the bench's pinned children (bench/harness/child_process.hpp) are built on it.
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

/// How a child starts and ends; the defaults are a plain fork.
struct ChildOptions {
    int cpu_core = -1;     ///< pin the child (and the threads it creates) to this core; negative: not pinned
    int death_signal = 0;  ///< the child gets this signal when this process dies (PR_SET_PDEATHSIG); 0: none
    /// fork(): end the child with std::exit, so static destructors and atexit handlers run in it (a
    /// runtime that must unregister itself); otherwise _exit, which runs nothing of the parent's.
    bool run_exit_handlers = false;
    /// spawn(): stdout goes to this file, and stderr too unless error_file is set (a file rather than a
    /// pipe: a chatty child can never block on it); empty: inherited.
    std::string output_file;
    /// spawn(): stderr goes to this file; empty: where stdout goes.
    std::string error_file;
};

class ChildProcess {
public:
    /// Forks; the child runs body() and ends with its return value (an uncaught exception: its message on
    /// stderr, code 99; a core it cannot be pinned to: the same, before body runs).
    static ChildProcess fork(const std::function<int()>& body, const ChildOptions& options = {});
    /// Forks and execs program with arguments (exec failure: code 127).
    static ChildProcess spawn(const std::string& program,
                              const std::vector<std::string>& arguments,
                              const ChildOptions& options);
    /// spawn() with only an output file (empty: stdout/stderr inherited).
    static ChildProcess spawn(const std::string& program,
                              const std::vector<std::string>& arguments,
                              const std::string& output_file = {});

    /// No process (pid() is -1): a place to move a started child into.
    ChildProcess() noexcept = default;
    ChildProcess(ChildProcess&& other) noexcept;
    ChildProcess& operator=(ChildProcess&& other) noexcept;
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;
    /// Kills and reaps a child that is still running.
    ~ChildProcess();

    pid_t pid() const noexcept { return pid_; }
    /// Waits for the child to end; SIGKILLs it at the deadline and reports timed_out.
    ExitStatus wait(std::chrono::milliseconds timeout = std::chrono::seconds(30));
    /// Reaps the child if it has ended; nothing while it runs.
    std::optional<ExitStatus> try_wait();
    /// Sends signal_number (SIGTERM by default), then waits up to grace; SIGKILL after it (timed_out).
    ExitStatus stop(std::chrono::milliseconds grace, int signal_number = 15);
    /// Sends a signal (SIGKILL by default) without reaping; wait() reaps.
    void kill(int signal_number = 9) const noexcept;
    /// True once wait(), try_wait() or stop() has collected the child's status.
    bool reaped() const noexcept { return reaped_; }

private:
    explicit ChildProcess(pid_t pid) noexcept : pid_(pid) {}
    pid_t pid_ = -1;
    bool reaped_ = false;
    ExitStatus status_;  ///< valid once reaped_
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

/// Polls condition every period until it holds (true) or the timeout passes (false): the one way tests
/// and the bench wait for something with a deadline.
bool wait_until(const std::function<bool()>& condition,
                std::chrono::milliseconds timeout = std::chrono::seconds(10),
                std::chrono::microseconds period = std::chrono::milliseconds(1));

/// Pins the calling process (its calling thread, and threads it creates later) to one core. Throws
/// std::system_error if the core does not exist or is not allowed.
void pin_current_process(int cpu_core);

/// The number of cores this process may run on.
int usable_cpu_count() noexcept;

}  // namespace dhub::testing
