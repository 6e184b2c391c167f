// SPDX-License-Identifier: Apache-2.0
#include "support/child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <initializer_list>
#include <iostream>
#include <iterator>
#include <system_error>
#include <thread>
#include <utility>

namespace dhub::testing {
namespace {

ExitStatus decode(int status) {
    ExitStatus result;
    if (WIFEXITED(status)) {
        result.exited = true;
        result.code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        result.signalled = true;
        result.signal = WTERMSIG(status);
    }
    return result;
}

// Flushes every stream first, or buffered output would be written twice (once by each process).
void flush_all() {
    std::cout.flush();
    std::cerr.flush();
    std::fflush(nullptr);
}

// In the child, right after fork: the parent-death signal (and the check that the parent did not die
// before it was set).
void arm_death_signal(const ChildOptions& options, pid_t parent) {
    if (options.death_signal == 0) return;
    ::prctl(PR_SET_PDEATHSIG, options.death_signal);
    if (::getppid() != parent) ::_exit(EXIT_FAILURE);
}

}  // namespace

ChildProcess ChildProcess::fork(const std::function<int()>& body, const ChildOptions& options) {
    flush_all();
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
    if (pid == 0) {
        arm_death_signal(options, parent);
        int code = 99;
        try {
            if (options.cpu_core >= 0) pin_current_process(options.cpu_core);
            code = body();
        } catch (const std::exception& error) {
            std::fprintf(stderr, "child process: %s\n", error.what());
            code = 99;
        } catch (...) {
            code = 99;
        }
        if (options.run_exit_handlers) {
            flush_all();
            std::exit(code);
        }
        ::_exit(code);
    }
    return ChildProcess(pid);
}

ChildProcess ChildProcess::spawn(const std::string& program,
                                 const std::vector<std::string>& arguments,
                                 const std::string& output_file) {
    ChildOptions options;
    options.output_file = output_file;
    return spawn(program, arguments, options);
}

ChildProcess ChildProcess::spawn(const std::string& program,
                                 const std::vector<std::string>& arguments,
                                 const ChildOptions& options) {
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(program.c_str()));
    for (const auto& argument : arguments)
        argv.push_back(const_cast<char*>(argument.c_str()));
    argv.push_back(nullptr);
    flush_all();
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork for " + program);
    if (pid == 0) {
        arm_death_signal(options, parent);  // kept across exec
        if (options.cpu_core >= 0) {
            try {
                pin_current_process(options.cpu_core);
            } catch (const std::exception& error) {
                std::fprintf(stderr, "%s: %s\n", program.c_str(), error.what());
                ::_exit(127);
            }
        }
        const auto redirect = [](const std::string& file, std::initializer_list<int> targets) {
            const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (fd < 0) return;
            for (const int target : targets)
                ::dup2(fd, target);
            ::close(fd);
        };
        if (!options.output_file.empty() && options.error_file.empty()) {
            redirect(options.output_file, {STDOUT_FILENO, STDERR_FILENO});
        } else {
            if (!options.output_file.empty()) redirect(options.output_file, {STDOUT_FILENO});
            if (!options.error_file.empty()) redirect(options.error_file, {STDERR_FILENO});
        }
        ::execv(program.c_str(), argv.data());
        std::perror(("exec " + program).c_str());
        ::_exit(127);
    }
    return ChildProcess(pid);
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept {
    *this = std::move(other);
}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
    if (this != &other) {
        if (pid_ > 0 && !reaped_) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
        pid_ = std::exchange(other.pid_, -1);
        reaped_ = std::exchange(other.reaped_, true);
        status_ = other.status_;
    }
    return *this;
}

ChildProcess::~ChildProcess() {
    if (pid_ > 0 && !reaped_) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
}

std::optional<ExitStatus> ChildProcess::try_wait() {
    if (pid_ <= 0) return ExitStatus{};
    if (reaped_) return status_;
    int status = 0;
    pid_t done = 0;
    do {
        done = ::waitpid(pid_, &status, WNOHANG);
    } while (done < 0 && errno == EINTR);
    if (done != pid_) return std::nullopt;
    reaped_ = true;
    status_ = decode(status);
    return status_;
}

ExitStatus ChildProcess::wait(std::chrono::milliseconds timeout) {
    if (pid_ <= 0) return {};
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        if (auto status = try_wait()) return *status;
        if (std::chrono::steady_clock::now() >= deadline) {
            ::kill(pid_, SIGKILL);
            int status = 0;
            while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
            }
            reaped_ = true;
            status_ = decode(status);
            status_.timed_out = true;
            return status_;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}

ExitStatus ChildProcess::stop(std::chrono::milliseconds grace, int signal_number) {
    kill(signal_number);
    return wait(grace);
}

void ChildProcess::kill(int signal_number) const noexcept {
    if (pid_ > 0 && !reaped_) ::kill(pid_, signal_number);
}

ReadySignal::ReadySignal() {
    if (::pipe2(fds_, O_CLOEXEC) != 0) fds_[0] = fds_[1] = -1;
}

ReadySignal::~ReadySignal() {
    for (const int fd : fds_) {
        if (fd >= 0) ::close(fd);
    }
}

void ReadySignal::notify() noexcept {
    const char byte = 1;
    [[maybe_unused]] const auto written = ::write(fds_[1], &byte, 1);
}

bool ReadySignal::wait(std::chrono::milliseconds timeout) noexcept {
    pollfd descriptor{fds_[0], POLLIN, 0};
    if (::poll(&descriptor, 1, static_cast<int>(timeout.count())) != 1) return false;
    char byte = 0;
    return ::read(fds_[0], &byte, 1) == 1;
}

std::string read_text_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

bool wait_until(const std::function<bool()>& condition,
                std::chrono::milliseconds timeout,
                std::chrono::microseconds period) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!condition()) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(period);
    }
    return true;
}

void pin_current_process(int cpu_core) {
    if (cpu_core < 0 || cpu_core >= CPU_SETSIZE) {
        throw std::system_error(EINVAL, std::generic_category(), "invalid CPU core " + std::to_string(cpu_core));
    }
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(static_cast<std::size_t>(cpu_core), &set);
    if (::sched_setaffinity(0, sizeof set, &set) != 0) {
        throw std::system_error(errno, std::generic_category(), "cannot pin to CPU core " + std::to_string(cpu_core));
    }
}

int usable_cpu_count() noexcept {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (::sched_getaffinity(0, sizeof set, &set) != 0) return 1;
    return CPU_COUNT(&set);
}

}  // namespace dhub::testing
