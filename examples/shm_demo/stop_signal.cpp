// SPDX-License-Identifier: Apache-2.0
#include "stop_signal.hpp"

#include <signal.h>

#include <atomic>

namespace dhub::demo {
namespace {

// Lock-free atomics are the only shared state a signal handler may touch.
std::atomic<bool> stop_flag{false};
static_assert(std::atomic<bool>::is_always_lock_free);

extern "C" void on_stop_signal(int) {
    stop_flag.store(true, std::memory_order_relaxed);
}

void install(int signal_number) noexcept {
    struct sigaction current {};
    if (::sigaction(signal_number, nullptr, &current) == 0 && current.sa_handler == SIG_IGN) return;
    struct sigaction action {};
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    ::sigaction(signal_number, &action, nullptr);
}

}  // namespace

void install_stop_handler() noexcept {
    install(SIGINT);
    install(SIGTERM);
}

bool stop_requested() noexcept {
    return stop_flag.load(std::memory_order_relaxed);
}

}  // namespace dhub::demo
