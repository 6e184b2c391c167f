// SPDX-License-Identifier: Apache-2.0
#include "harness/child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <system_error>
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

std::string describe_status(const testing::ExitStatus& status) {
    if (status.signalled) {
        const char* sig_name = ::strsignal(status.signal);
        return "killed by signal " + std::to_string(status.signal) + " (" + (sig_name ? sig_name : "?") + ")";
    }
    if (status.exited) return "exit code " + std::to_string(status.code);
    return "in an unknown state";
}

// The child's side: runs body, sends the header and the result (or the error text) through the pipe.
int run_child(int write_fd, const ChildProcess::Body& body) {
    std::uint32_t status = 0;
    std::vector<std::byte> payload;
    std::string error;
    try {
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
    return status == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

}  // namespace

ChildProcess ChildProcess::spawn_bytes(std::string name, int cpu_core, Body body) {
    int fds[2];
    // CLOEXEC: a pipe must not leak into exec'd helpers (iox-roudi), or EOF would never arrive.
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        throw ChildError("pipe for child '" + name + "': " + std::strerror(errno));
    }
    testing::ChildOptions options;
    options.cpu_core = cpu_core;
    options.death_signal = SIGKILL;    // a stuck child must never outlive an interrupted benchmark run
    options.run_exit_handlers = true;  // static destructors run in the child (iceoryx unregisters from RouDi)
    std::optional<testing::ChildProcess> process;
    try {
        process.emplace(testing::ChildProcess::fork(
            [&] {
                ::close(fds[0]);
                return run_child(fds[1], body);
            },
            options));
    } catch (const std::system_error& e) {
        ::close(fds[0]);
        ::close(fds[1]);
        throw ChildError("fork for child '" + name + "': " + e.what());
    }
    ::close(fds[1]);
    // Non-blocking: if a grandchild inherited the write end, EOF may never come, and the parent
    // must still be able to finish once the child itself has exited.
    ::fcntl(fds[0], F_SETFL, ::fcntl(fds[0], F_GETFL) | O_NONBLOCK);
    return ChildProcess(std::move(name), std::move(*process), fds[0]);
}

ChildProcess::ChildProcess(std::string name, testing::ChildProcess process, int read_fd) noexcept
    : name_(std::move(name)), process_(std::move(process)), read_fd_(read_fd) {}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : name_(std::move(other.name_)),
      process_(std::move(other.process_)),
      read_fd_(std::exchange(other.read_fd_, -1)),
      status_(other.status_),
      received_(std::move(other.received_)),
      result_(std::move(other.result_)) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
    if (this != &other) {
        kill();
        close_pipe();
        name_ = std::move(other.name_);
        process_ = std::move(other.process_);
        read_fd_ = std::exchange(other.read_fd_, -1);
        status_ = other.status_;
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
    if (process_.pid() <= 0 || process_.reaped()) return;
    status_ = process_.stop(std::chrono::milliseconds(0), SIGKILL);
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
    const std::string who = "child '" + name_ + "' (pid " + std::to_string(process_.pid()) + ")";
    PipeHeader header{};
    const bool has_header = received_.size() >= sizeof header;
    if (has_header) std::memcpy(&header, received_.data(), sizeof header);
    if (has_header && header.magic == PIPE_MAGIC && header.status == 1) {
        const auto* text = reinterpret_cast<const char*>(received_.data() + sizeof header);
        const std::size_t length = std::min<std::size_t>(header.size, received_.size() - sizeof header);
        throw ChildError(who + " failed: " + std::string(text, length));
    }
    if (!status_.exited || status_.code != 0) {
        throw ChildError(who + " " + describe_status(status_));
    }
    if (!has_header || header.magic != PIPE_MAGIC || received_.size() - sizeof header != header.size) {
        throw ChildError(who + " exited without a complete result");
    }
}

const std::vector<std::byte>& ChildProcess::result_bytes() const {
    if (!process_.reaped()) throw ChildError("child '" + name_ + "': result requested before wait()");
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
                if (!child->process_.reaped()) any_unreaped = true;
            }
            if (fds.empty() && !any_unreaped) break;

            const auto now = std::chrono::steady_clock::now();
            if (now >= deadline) {
                std::string running;
                for (ChildProcess* child : children) {
                    if (!child->process_.reaped()) running += (running.empty() ? "'" : ", '") + child->name_ + "'";
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
                if (child->process_.reaped()) continue;
                const std::optional<testing::ExitStatus> status = child->process_.try_wait();
                if (!status) continue;
                child->status_ = *status;
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
