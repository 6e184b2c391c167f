// SPDX-License-Identifier: Apache-2.0
#include "child_process.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace dhub::runtime {
namespace {

constexpr int FIRST_PASSED_FD = 3;

int open_pidfd(pid_t pid) noexcept {
#ifdef SYS_pidfd_open
    const long fd = ::syscall(SYS_pidfd_open, pid, 0);
    if (fd >= 0) {
        ::fcntl(static_cast<int>(fd), F_SETFD, FD_CLOEXEC);
        return static_cast<int>(fd);
    }
#endif
    (void)pid;
    return -1;  // before Linux 5.3: the caller polls
}

ChildExit exit_of(int status) noexcept {
    if (WIFSIGNALED(status)) return ChildExit{true, WTERMSIG(status)};
    return ChildExit{false, WIFEXITED(status) ? WEXITSTATUS(status) : 0};
}

/// In the child between fork and exec: async-signal-safe calls only.
[[noreturn]] void become_child(const ChildSpec& spec, char* const* argv, pid_t parent) noexcept {
    // Dies with the thread that started it (the kernel's supervisor of this node, which outlives it).
    ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (::getppid() != parent) ::_exit(126);  // the kernel died before the line above took effect
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);  // the kernel blocks its signals for its signal thread
    ::signal(SIGPIPE, SIG_DFL);
    // A process group of its own: Ctrl-C in the kernel's terminal is for the kernel, which stops its children.
    ::setpgid(0, 0);
    // Passed descriptors to 3, 4, ...: first out of the way (above every target), then into place.
    const int count = static_cast<int>(spec.pass_fds.size());
    int moved[16];
    for (int i = 0; i < count && i < 16; ++i) {
        moved[i] = ::fcntl(spec.pass_fds[static_cast<std::size_t>(i)], F_DUPFD_CLOEXEC, FIRST_PASSED_FD + count);
        if (moved[i] < 0) ::_exit(126);
    }
    for (int i = 0; i < count && i < 16; ++i) {
        if (::dup2(moved[i], FIRST_PASSED_FD + i) < 0) ::_exit(126);  // dup2's copy is not close-on-exec
    }
    // Nothing else of the kernel's reaches the plugin's process, close-on-exec or not (an events file, sockets).
    const unsigned first_free = static_cast<unsigned>(FIRST_PASSED_FD + count);
#ifdef SYS_close_range
    if (::syscall(SYS_close_range, first_free, ~0U, 0U) != 0)
#endif
    {
        rlimit files{};
        const rlim_t most = ::getrlimit(RLIMIT_NOFILE, &files) == 0 ? std::min<rlim_t>(files.rlim_cur, 65536) : 1024;
        for (rlim_t fd = first_free; fd < most; ++fd)
            ::close(static_cast<int>(fd));
    }
    if (spec.memory_mb) {
        const rlim_t bytes = static_cast<rlim_t>(*spec.memory_mb) << 20;
        const rlimit limit{bytes, bytes};
        if (::setrlimit(RLIMIT_AS, &limit) != 0) ::_exit(126);
    }
    if (!spec.cpus.empty()) {
        cpu_set_t set;
        CPU_ZERO(&set);
        for (const std::uint32_t cpu : spec.cpus)
            CPU_SET(cpu, &set);
        if (::sched_setaffinity(0, sizeof set, &set) != 0) ::_exit(126);
    }
    if (spec.nice) {
        errno = 0;
        if (::setpriority(PRIO_PROCESS, 0, *spec.nice) != 0 && errno != 0) ::_exit(126);
    }
    ::execv(argv[0], argv);
    ::_exit(127);
}

}  // namespace

std::string ChildExit::describe() const {
    if (!signaled) {
        if (code == 126) return "exit code 126 (its process could not be set up: limits, cpus or descriptors)";
        if (code == 127) return "exit code 127 (the executable could not be started)";
        return "exit code " + std::to_string(code);
    }
    const char* name = ::sigabbrev_np(code);
    return std::string("killed by ") + (name != nullptr ? std::string("SIG") + name : "signal") + " (signal " +
           std::to_string(code) + ")";
}

Result<ChildProcess> ChildProcess::spawn(const ChildSpec& spec) {
    if (spec.pass_fds.size() > 16) return Error{ErrorCode::InvalidArgument, "at most 16 descriptors pass to a child"};
    // Everything the child needs is built before fork: after it, only async-signal-safe calls.
    std::vector<std::string> words;
    words.push_back(spec.executable);
    words.insert(words.end(), spec.arguments.begin(), spec.arguments.end());
    std::vector<char*> argv;
    for (std::string& word : words)
        argv.push_back(word.data());
    argv.push_back(nullptr);
    if (::access(spec.executable.c_str(), X_OK) != 0) {
        return Error{ErrorCode::NotFound, "cannot run " + spec.executable + ": " + std::strerror(errno)};
    }
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) return Error{ErrorCode::Io, std::string("fork failed: ") + std::strerror(errno)};
    if (pid == 0) become_child(spec, argv.data(), parent);
    return ChildProcess(pid, open_pidfd(pid));
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), pidfd_(std::exchange(other.pidfd_, -1)), exit_(other.exit_) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
    if (this != &other) {
        release();
        pid_ = std::exchange(other.pid_, -1);
        pidfd_ = std::exchange(other.pidfd_, -1);
        exit_ = other.exit_;
    }
    return *this;
}

ChildProcess::~ChildProcess() {
    release();
}

void ChildProcess::release() noexcept {
    if (pid_ > 0 && !exit_) {
        ::kill(pid_, SIGKILL);
        int status = 0;
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
    }
    if (pidfd_ >= 0) ::close(pidfd_);
    pid_ = -1;
    pidfd_ = -1;
}

std::optional<ChildExit> ChildProcess::try_reap() {
    if (exit_) return exit_;
    int status = 0;
    pid_t got = -1;
    do {
        got = ::waitpid(pid_, &status, WNOHANG);
    } while (got < 0 && errno == EINTR);
    if (got == pid_) exit_ = exit_of(status);
    return exit_;
}

ChildExit ChildProcess::reap() {
    if (exit_) return *exit_;
    int status = 0;
    pid_t got = -1;
    do {
        got = ::waitpid(pid_, &status, 0);
    } while (got < 0 && errno == EINTR);
    exit_ = got == pid_ ? exit_of(status) : ChildExit{true, SIGKILL};
    return *exit_;
}

void ChildProcess::kill(int signal) const noexcept {
    if (pid_ > 0 && !exit_) ::kill(pid_, signal);
}

}  // namespace dhub::runtime
