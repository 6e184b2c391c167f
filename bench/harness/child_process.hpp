// SPDX-License-Identifier: Apache-2.0
// Runs benchmark code in forked child processes pinned to CPU cores, and brings a small result
// back through a pipe. Every benchmark party is a child so that both sides of a transfer are
// separate processes (as in production) and the parent only supervises: it enforces a timeout,
// kills stuck children with SIGKILL and turns crashes into clear errors. Forking, pinning, the
// parent-death signal, reaping and killing are dhub::testing::ChildProcess (tests/support); this adds
// the result pipe and the waiting on several children at once.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "support/child_process.hpp"

namespace dhub::bench {

/// A child failed (exception, non-zero exit, signal), timed out, or could not be started.
class ChildError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

using dhub::testing::pin_current_process;
using dhub::testing::usable_cpu_count;

class ChildProcess {
public:
    using Body = std::function<std::vector<std::byte>()>;

    /// Forks. The child is pinned to `cpu_core` (no pinning if negative), runs `body`, sends the
    /// returned bytes to the parent and exits with std::exit, so static destructors run in the
    /// child (the iceoryx runtime unregisters from RouDi that way); stack objects of the parent
    /// are not destroyed in the child. If the parent dies, the child gets SIGKILL.
    /// An exception thrown by `body` is reported by wait() with its message.
    static ChildProcess spawn_bytes(std::string name, int cpu_core, Body body);

    /// Like spawn_bytes for a body returning a trivially copyable value (or void).
    template <typename F>
    static ChildProcess spawn(std::string name, int cpu_core, F body) {
        using Result = std::invoke_result_t<F&>;
        if constexpr (std::is_void_v<Result>) {
            return spawn_bytes(std::move(name), cpu_core, [body = std::move(body)]() mutable {
                body();
                return std::vector<std::byte>{};
            });
        } else {
            static_assert(std::is_trivially_copyable_v<Result>, "child results travel as raw bytes");
            return spawn_bytes(std::move(name), cpu_core, [body = std::move(body)]() mutable {
                const Result value = body();
                std::vector<std::byte> bytes(sizeof(Result));
                std::memcpy(bytes.data(), &value, sizeof(Result));
                return bytes;
            });
        }
    }

    ChildProcess(ChildProcess&& other) noexcept;
    ChildProcess& operator=(ChildProcess&& other) noexcept;
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;
    /// Kills (SIGKILL) and reaps the child if it is still running.
    ~ChildProcess();

    /// Waits for this child alone; see wait_all.
    void wait(std::chrono::milliseconds timeout);

    /// The bytes the body returned; only after a successful wait.
    const std::vector<std::byte>& result_bytes() const;

    /// The value the body returned; only after a successful wait.
    template <typename T>
    T result() const {
        static_assert(std::is_trivially_copyable_v<T>);
        const std::vector<std::byte>& bytes = result_bytes();
        if (bytes.size() != sizeof(T)) {
            throw ChildError("child '" + name_ + "' returned " + std::to_string(bytes.size()) + " bytes, expected " +
                             std::to_string(sizeof(T)));
        }
        T value;
        std::memcpy(&value, bytes.data(), sizeof(T));
        return value;
    }

    /// SIGKILL and reap, if still running.
    void kill() noexcept;

    const std::string& name() const noexcept { return name_; }
    pid_t pid() const noexcept { return process_.pid(); }

private:
    friend void wait_all(std::initializer_list<ChildProcess*> children, std::chrono::milliseconds timeout);

    ChildProcess(std::string name, testing::ChildProcess process, int read_fd) noexcept;
    enum class ReadOutcome { data, would_block, end_of_file };
    // Reads what is available from the (non-blocking) pipe.
    ReadOutcome read_available();
    // Interprets exit status and pipe contents; throws ChildError on failure.
    void check_outcome() const;
    void close_pipe() noexcept;

    std::string name_;
    testing::ChildProcess process_;
    int read_fd_ = -1;
    testing::ExitStatus status_;       // valid once process_.reaped()
    std::vector<std::byte> received_;  // header + payload as sent by the child
    std::vector<std::byte> result_;
};

/// Waits until every child has exited. At the first failure, or when `timeout` expires, kills all
/// children still running and throws ChildError naming the child and the cause (exception text,
/// exit code, signal, or timeout). Children of a cross-process benchmark must be waited for
/// together this way: if one dies, its partner would otherwise spin until the timeout.
void wait_all(std::initializer_list<ChildProcess*> children, std::chrono::milliseconds timeout);

}  // namespace dhub::bench
