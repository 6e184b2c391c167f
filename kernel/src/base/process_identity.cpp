// SPDX-License-Identifier: Apache-2.0
#include "dhub/base/process_identity.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
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

/// The tag of the caller's pid namespace (ProcessIdentity::pid_namespace); 0 where /proc does not show it.
std::uint32_t own_pid_namespace() {
    struct stat info {};
    if (::stat("/proc/self/ns/pid", &info) != 0) return 0;
    const auto tag = static_cast<std::uint32_t>(info.st_ino & ((1ULL << token_bits::NAMESPACE_BITS) - 1));
    return tag != 0 ? tag : 1;  // 0 means unknown
}

}  // namespace

ProcessIdentity ProcessIdentity::self() {
    // Cached per pid: after fork() the child has a new pid and computes its own identity.
    static thread_local ProcessIdentity cached{};
    const auto pid = static_cast<std::uint32_t>(::getpid());
    if (cached.pid != pid) {
        const auto fields = read_stat(pid);
        cached = ProcessIdentity{pid, fields ? fields->start_ticks : 0, own_pid_namespace()};
    }
    return cached;
}

std::optional<ProcessIdentity> ProcessIdentity::of(std::uint32_t pid) {
    const auto fields = read_stat(pid);
    if (!fields || fields->state == 'Z' || fields->state == 'X') return std::nullopt;
    return ProcessIdentity{pid, fields->start_ticks, self().pid_namespace};
}

Liveness liveness_of(std::uint64_t token) noexcept {
    const std::uint32_t pid = token_pid(token);
    if (pid == 0) return Liveness::Dead;
    // Our /proc and kill() speak of our namespace only: there, the pid may be nobody or someone else.
    const std::uint32_t space = token_pid_namespace(token);
    const std::uint32_t own_space = ProcessIdentity::self().pid_namespace;
    if (space != 0 && own_space != 0 && space != own_space) return Liveness::Alive;
    if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) return Liveness::Dead;
    const auto fields = read_stat(pid);
    if (!fields) return Liveness::Alive;  // cannot see it (pid namespace): be cautious
    if (fields->state == 'Z' || fields->state == 'X') return Liveness::Dead;
    const std::uint64_t start_low = fields->start_ticks & ((1ULL << token_bits::START_BITS) - 1);
    return start_low == (token >> token_bits::START_SHIFT) ? Liveness::Alive : Liveness::Dead;
}

}  // namespace dhub
