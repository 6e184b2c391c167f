// SPDX-License-Identifier: Apache-2.0
#include "dhub/base/process_identity.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace dhub {
namespace {

struct StatFields {
    char state = '?';
    std::uint64_t start_ticks = 0;
};

/// Parses state (field 3) and starttime (field 22) of /proc/<pid>/stat. The command name (field 2) may
/// hold spaces and parentheses, so parsing starts after the last ')'.
std::optional<StatFields> read_stat(std::uint32_t pid) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%u/stat", pid);
    const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    char buffer[1024];
    const ssize_t length = ::read(fd, buffer, sizeof buffer - 1);
    ::close(fd);
    if (length <= 0) return std::nullopt;
    buffer[length] = '\0';
    const char* cursor = std::strrchr(buffer, ')');
    if (cursor == nullptr || cursor[1] != ' ') return std::nullopt;
    cursor += 2;
    StatFields fields;
    fields.state = *cursor;
    // Fields after the state: 4 ppid ... 22 starttime, i.e. 19 more separators.
    for (int field = 3; field < 22; ++field) {
        cursor = std::strchr(cursor, ' ');
        if (cursor == nullptr) return std::nullopt;
        ++cursor;
    }
    fields.start_ticks = std::strtoull(cursor, nullptr, 10);
    return fields;
}

}  // namespace

ProcessIdentity ProcessIdentity::self() {
    // Cached per pid: after fork() the child has a new pid and computes its own identity.
    static thread_local ProcessIdentity cached{};
    const auto pid = static_cast<std::uint32_t>(::getpid());
    if (cached.pid != pid) {
        const auto fields = read_stat(pid);
        cached = ProcessIdentity{pid, fields ? fields->start_ticks : 0};
    }
    return cached;
}

std::optional<ProcessIdentity> ProcessIdentity::of(std::uint32_t pid) {
    const auto fields = read_stat(pid);
    if (!fields || fields->state == 'Z' || fields->state == 'X') return std::nullopt;
    return ProcessIdentity{pid, fields->start_ticks};
}

Liveness liveness_of(std::uint64_t token) noexcept {
    const std::uint32_t pid = token_pid(token);
    if (pid == 0) return Liveness::Dead;
    if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) return Liveness::Dead;
    const auto fields = read_stat(pid);
    if (!fields) return Liveness::Alive;  // cannot see it (pid namespace): be cautious
    if (fields->state == 'Z' || fields->state == 'X') return Liveness::Dead;
    const auto start_low = static_cast<std::uint32_t>(fields->start_ticks);
    return start_low == static_cast<std::uint32_t>(token >> 32) ? Liveness::Alive : Liveness::Dead;
}

}  // namespace dhub
