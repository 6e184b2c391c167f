// SPDX-License-Identifier: Apache-2.0
#include "dhub/shm/segment.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <utility>

namespace dhub::shm {
namespace {

Error os_error(std::string_view what, std::string_view channel, int error_number) {
    ErrorCode code = ErrorCode::Io;
    std::string hint;
    switch (error_number) {
        case ENOENT:
            code = ErrorCode::NotFound;
            hint = " (no such channel; is its producer running? `dhub-shm list` shows the channels)";
            break;
        case EEXIST:
            code = ErrorCode::AlreadyExists;
            break;
        case EACCES:
        case EPERM:
            code = ErrorCode::PermissionDenied;
            hint =
                " (segments are created with mode 0600: run as the producer's user, or create the channel "
                "with a wider mode)";
            break;
        default:
            break;
    }
    return Error{code, std::string(what) + " /dev/shm/" + std::string(SEGMENT_PREFIX) + std::string(channel) + ": " +
                           std::strerror(error_number) + hint};
}

/// Maps the whole object; MAP_POPULATE pre-faults it so the first slots written do not pay page faults.
Result<std::byte*> map(int fd, std::size_t bytes, std::string_view channel) {
    void* address = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
    if (address == MAP_FAILED) return os_error("cannot map", channel, errno);
    return static_cast<std::byte*>(address);
}

}  // namespace

std::string segment_name(std::string_view channel) {
    std::string name = "/";
    name += SEGMENT_PREFIX;
    name += channel;
    return name;
}

Segment::Segment(Segment&& other) noexcept {
    *this = std::move(other);
}

Segment& Segment::operator=(Segment&& other) noexcept {
    if (this != &other) {
        reset();
        channel_ = std::move(other.channel_);
        data_ = std::exchange(other.data_, nullptr);
        size_ = std::exchange(other.size_, 0);
        owner_uid_ = other.owner_uid_;
        mode_ = other.mode_;
    }
    return *this;
}

Segment::~Segment() {
    reset();
}

void Segment::reset() noexcept {
    if (data_ != nullptr) ::munmap(data_, size_);
    data_ = nullptr;
    size_ = 0;
}

Result<Segment> Segment::create(std::string_view channel, std::size_t bytes, mode_t mode) {
    const std::string name = segment_name(channel);
    const int fd = ::shm_open(name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) return os_error("cannot create", channel, errno);
    // shm_open applies the umask; the requested mode is what the channel promises, so set it exactly.
    if (::fchmod(fd, mode) != 0 || ::ftruncate(fd, static_cast<off_t>(bytes)) != 0) {
        const int saved = errno;
        ::close(fd);
        ::shm_unlink(name.c_str());
        return os_error("cannot size", channel, saved);
    }
    auto mapped = map(fd, bytes, channel);
    ::close(fd);
    if (!mapped) {
        ::shm_unlink(name.c_str());
        return mapped.error();
    }
    return Segment(std::string(channel), mapped.value(), bytes, ::geteuid(), mode);
}

Result<Segment> Segment::open(std::string_view channel) {
    const std::string name = segment_name(channel);
    const int fd = ::shm_open(name.c_str(), O_RDWR | O_CLOEXEC, 0);
    if (fd < 0) return os_error("cannot open", channel, errno);
    struct stat info {};
    if (::fstat(fd, &info) != 0) {
        const int saved = errno;
        ::close(fd);
        return os_error("cannot stat", channel, saved);
    }
    if (info.st_size <= 0) {
        ::close(fd);
        return Error{ErrorCode::Corrupt, "/dev/shm" + name +
                                             " is empty (size 0): its creator died before "
                                             "sizing it; remove it with `dhub-shm remove " +
                                             std::string(channel) + "`"};
    }
    auto mapped = map(fd, static_cast<std::size_t>(info.st_size), channel);
    ::close(fd);
    if (!mapped) return mapped.error();
    return Segment(std::string(channel), mapped.value(), static_cast<std::size_t>(info.st_size), info.st_uid,
                   info.st_mode & 07777);
}

Result<SegmentFile> Segment::stat(std::string_view channel) {
    const std::string name = segment_name(channel);
    const int fd = ::shm_open(name.c_str(), O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) return os_error("cannot open", channel, errno);
    struct stat info {};
    const int stat_result = ::fstat(fd, &info);
    const int saved = errno;
    ::close(fd);
    if (stat_result != 0) return os_error("cannot stat", channel, saved);
    timespec now{};
    ::clock_gettime(CLOCK_REALTIME, &now);
    const auto to_ns = [](const timespec& t) {
        return static_cast<std::uint64_t>(t.tv_sec) * 1'000'000'000ULL + static_cast<std::uint64_t>(t.tv_nsec);
    };
    const std::uint64_t changed = std::max(to_ns(info.st_ctim), to_ns(info.st_mtim));
    const std::uint64_t current = to_ns(now);
    return SegmentFile{static_cast<std::size_t>(info.st_size), current > changed ? current - changed : 0, info.st_uid,
                       info.st_mode & 07777};
}

VoidResult Segment::unlink(std::string_view channel) {
    if (::shm_unlink(segment_name(channel).c_str()) != 0) return os_error("cannot remove", channel, errno);
    return Ok{};
}

std::vector<std::string> Segment::list() {
    std::vector<std::string> channels;
    DIR* directory = ::opendir("/dev/shm");
    if (directory == nullptr) return channels;
    while (const dirent* entry = ::readdir(directory)) {
        const std::string_view file = entry->d_name;
        if (file.size() > SEGMENT_PREFIX.size() && file.substr(0, SEGMENT_PREFIX.size()) == SEGMENT_PREFIX) {
            channels.emplace_back(file.substr(SEGMENT_PREFIX.size()));
        }
    }
    ::closedir(directory);
    return channels;
}

}  // namespace dhub::shm
