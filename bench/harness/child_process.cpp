// SPDX-License-Identifier: Apache-2.0
#include "harness/child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <thread>

namespace dhub::bench {

namespace {

// What the child writes first; the parent only trusts results with the right magic and status.
struct PipeHeader {
    std::uint32_t magic;
    std::uint32_t status;  // 0 = ok (payload = result), 1 = failed (payload = error text)
    std::uint64_t size;
};
constexpr std::uint32_t PIPE_MAGIC = 0x64686231;  // "dhb1"

void write_all(int fd, const void* data, std::size_t size) noexcept {
    const auto* bytes = static_cast<const char*>(data);
    while (size > 0) {
        const ssize_t written = ::write(fd, bytes, size);
        if (written < 0) {
            if (errno == EINTR) continue;
            return;  // parent gone; nothing useful left to do
        }
        bytes += written;
        size -= static_cast<std::size_t>(written);
    }
}

std::string describe_status(int status) {
    if (WIFSIGNALED(status)) {
        const int sig = WTERMSIG(status);
        const char* sig_name = ::strsignal(sig);
        return "killed by signal " + std::to_string(sig) + " (" + (sig_name ? sig_name : "?") + ")";
    }
    if (WIFEXITED(status)) return "exit code " + std::to_string(WEXITSTATUS(status));
    return "status " + std::to_string(status);
}

[[noreturn]] void run_child(int write_fd, int cpu_core, const ChildProcess::Body& body) {
    std::uint32_t status = 0;
    std::vector<std::byte> payload;
    std::string error;
    try {
        if (cpu_core >= 0) pin_current_process(cpu_core);
        payload = body();
    } catch (const std::exception& e) {
        status = 1;
        error = e.what();
    } catch (...) {
        status = 1;
        error = "unknown exception";
    }
    const PipeHeader header{PIPE_MAGIC, status, status == 0 ? payload.size() : error.size()};
    write_all(write_fd, &header, sizeof header);
    if (status == 0) {
        write_all(write_fd, payload.data(), payload.size());
    } else {
        write_all(write_fd, error.data(), error.size());
    }
    ::close(write_fd);
    std::fflush(nullptr);
    std::exit(status == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}

}  // namespace

void pin_current_process(int cpu_core) {
    if (cpu_core < 0 || cpu_core >= CPU_SETSIZE) {
        throw ChildError("invalid CPU core " + std::to_string(cpu_core));
    }
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(static_cast<std::size_t>(cpu_core), &set);
    if (::sched_setaffinity(0, sizeof set, &set) != 0) {
        throw ChildError("cannot pin to CPU core " + std::to_string(cpu_core) + ": " + std::strerror(errno));
    }
}

int usable_cpu_count() noexcept {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (::sched_getaffinity(0, sizeof set, &set) != 0) return 1;
    return CPU_COUNT(&set);
}

ChildProcess ChildProcess::spawn_bytes(std::string name, int cpu_core, Body body) {
    int fds[2];
    // CLOEXEC: a pipe must not leak into exec'd helpers (iox-roudi), or EOF would never arrive.
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        throw ChildError("pipe for child '" + name + "': " + std::strerror(errno));
    }
    // Flush first, or buffered output would be printed twice (once by each process).
    std::cout.flush();
    std::cerr.flush();
    std::fflush(nullptr);
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) {
        const int err = errno;
        ::close(fds[0]);
        ::close(fds[1]);
        throw ChildError("fork for child '" + name + "': " + std::strerror(err));
    }
    if (pid == 0) {
        ::close(fds[0]);
        // A stuck child must never outlive an interrupted benchmark run.
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) std::_Exit(EXIT_FAILURE);
        run_child(fds[1], cpu_core, body);
    }
    ::close(fds[1]);
    // Non-blocking: if a grandchild inherited the write end, EOF may never come, and the parent
    // must still be able to finish once the child itself has exited.
    ::fcntl(fds[0], F_SETFL, ::fcntl(fds[0], F_GETFL) | O_NONBLOCK);
    return ChildProcess(std::move(name), pid, fds[0]);
}

ChildProcess::ChildProcess(std::string name, pid_t pid, int read_fd) noexcept
    : name_(std::move(name)), pid_(pid), read_fd_(read_fd) {}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : name_(std::move(other.name_)),
      pid_(std::exchange(other.pid_, -1)),
      read_fd_(std::exchange(other.read_fd_, -1)),
      reaped_(other.reaped_),
      wait_status_(other.wait_status_),
      received_(std::move(other.received_)),
      result_(std::move(other.result_)) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
    if (this != &other) {
        kill();
        close_pipe();
        name_ = std::move(other.name_);
        pid_ = std::exchange(other.pid_, -1);
        read_fd_ = std::exchange(other.read_fd_, -1);
        reaped_ = other.reaped_;
        wait_status_ = other.wait_status_;
        received_ = std::move(other.received_);
        result_ = std::move(other.result_);
    }
    return *this;
}

ChildProcess::~ChildProcess() {
    kill();
    close_pipe();
}

void ChildProcess::kill() noexcept {
    if (pid_ <= 0 || reaped_) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
    wait_status_ = status;
}

void ChildProcess::close_pipe() noexcept {
    if (read_fd_ >= 0) {
        ::close(read_fd_);
        read_fd_ = -1;
    }
}

ChildProcess::ReadOutcome ChildProcess::read_available() {
    std::byte buffer[65536];
    for (;;) {
        const ssize_t got = ::read(read_fd_, buffer, sizeof buffer);
        if (got > 0) {
            received_.insert(received_.end(), buffer, buffer + got);
            return ReadOutcome::data;
        }
        if (got == 0) return ReadOutcome::end_of_file;
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return ReadOutcome::would_block;
        throw ChildError("reading from child '" + name_ + "': " + std::strerror(errno));
    }
}

void ChildProcess::check_outcome() const {
    const std::string who = "child '" + name_ + "' (pid " + std::to_string(pid_) + ")";
    PipeHeader header{};
    const bool has_header = received_.size() >= sizeof header;
    if (has_header) std::memcpy(&header, received_.data(), sizeof header);
    if (has_header && header.magic == PIPE_MAGIC && header.status == 1) {
        const auto* text = reinterpret_cast<const char*>(received_.data() + sizeof header);
        const std::size_t length = std::min<std::size_t>(header.size, received_.size() - sizeof header);
        throw ChildError(who + " failed: " + std::string(text, length));
    }
    if (!WIFEXITED(wait_status_) || WEXITSTATUS(wait_status_) != 0) {
        throw ChildError(who + " " + describe_status(wait_status_));
    }
    if (!has_header || header.magic != PIPE_MAGIC || received_.size() - sizeof header != header.size) {
        throw ChildError(who + " exited without a complete result");
    }
}

const std::vector<std::byte>& ChildProcess::result_bytes() const {
    if (!reaped_) throw ChildError("child '" + name_ + "': result requested before wait()");
    return result_;
}

void ChildProcess::wait(std::chrono::milliseconds timeout) {
    wait_all({this}, timeout);
}

void wait_all(std::initializer_list<ChildProcess*> children, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    auto kill_all = [&] {
        for (ChildProcess* child : children)
            child->kill();
    };
    try {
        for (;;) {
            // Drain pipes first: a child blocks in write() if its result does not fit the pipe.
            std::vector<pollfd> fds;
            std::vector<ChildProcess*> owners;
            bool any_unreaped = false;
            for (ChildProcess* child : children) {
                if (child->read_fd_ >= 0) {
                    fds.push_back(pollfd{child->read_fd_, POLLIN, 0});
                    owners.push_back(child);
                }
                if (!child->reaped_) any_unreaped = true;
            }
            if (fds.empty() && !any_unreaped) break;

            const auto now = std::chrono::steady_clock::now();
            if (now >= deadline) {
                std::string running;
                for (ChildProcess* child : children) {
                    if (!child->reaped_) running += (running.empty() ? "'" : ", '") + child->name_ + "'";
                }
                kill_all();
                throw ChildError("timed out after " + std::to_string(timeout.count()) +
                                 " ms; killed still running: " + running);
            }
            // Children whose pipe is closed are exiting; poll with a short period to reap them.
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
            const int poll_ms = static_cast<int>(std::clamp<std::int64_t>(left.count(), 0, fds.empty() ? 1 : 100));
            if (!fds.empty()) {
                const int ready = ::poll(fds.data(), fds.size(), poll_ms);
                if (ready < 0 && errno != EINTR) throw ChildError(std::string("poll: ") + std::strerror(errno));
                for (std::size_t i = 0; ready > 0 && i < fds.size(); ++i) {
                    if (fds[i].revents != 0 && owners[i]->read_available() == ChildProcess::ReadOutcome::end_of_file) {
                        owners[i]->close_pipe();
                    }
                }
            } else {
                std::this_thread::sleep_for(std::chrono::milliseconds(poll_ms));
            }
            for (ChildProcess* child : children) {
                if (child->reaped_) continue;
                int status = 0;
                const pid_t done = ::waitpid(child->pid_, &status, WNOHANG);
                if (done != child->pid_) continue;
                child->reaped_ = true;
                child->wait_status_ = status;
                // The pipe may still hold the tail of the result: read it all now.
                if (child->read_fd_ >= 0) {
                    while (child->read_available() == ChildProcess::ReadOutcome::data) {
                    }
                    child->close_pipe();
                }
                child->check_outcome();
                child->result_.assign(child->received_.begin() + sizeof(PipeHeader), child->received_.end());
            }
        }
    } catch (...) {
        kill_all();
        throw;
    }
}

}  // namespace dhub::bench
