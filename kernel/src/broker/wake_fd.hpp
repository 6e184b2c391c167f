// SPDX-License-Identifier: Apache-2.0
// An eventfd that wakes a thread blocked in zmq::poll from any other thread (zmq sockets themselves must
// not be shared between threads).
#pragma once

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>

namespace dhub::broker {

class WakeFd {
public:
    WakeFd() noexcept : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}
    ~WakeFd() {
        if (fd_ >= 0) ::close(fd_);
    }
    WakeFd(const WakeFd&) = delete;
    WakeFd& operator=(const WakeFd&) = delete;

    bool valid() const noexcept { return fd_ >= 0; }
    int fd() const noexcept { return fd_; }
    void notify() const noexcept {
        const std::uint64_t one = 1;
        [[maybe_unused]] const auto written = ::write(fd_, &one, sizeof one);  // saturation is still a wake-up
    }
    void drain() const noexcept {
        std::uint64_t count = 0;
        [[maybe_unused]] const auto got = ::read(fd_, &count, sizeof count);
    }

private:
    int fd_;
};

}  // namespace dhub::broker
