// SPDX-License-Identifier: Apache-2.0
#include "dhub/events/event_log.hpp"

#include <cerrno>
#include <cstring>

#include "dhub/base/clock.hpp"

namespace dhub::events {

Result<std::unique_ptr<EventLog>> EventLog::open(const std::filesystem::path& file) {
    std::FILE* handle = std::fopen(file.c_str(), "w");
    if (handle == nullptr) {
        return Error{ErrorCode::Io, "cannot write the event file " + file.string() + ": " + std::strerror(errno)};
    }
    auto log = std::make_unique<EventLog>();
    log->file_ = handle;
    return log;
}

EventLog::~EventLog() {
    if (file_ != nullptr) std::fclose(file_);
}

void EventLog::emit(std::string_view event, nlohmann::json fields) {
    if (file_ == nullptr && !listener_) return;
    nlohmann::json line = {{"t_ns", monotonic_ns()}, {"event", event}};
    if (fields.is_object()) line.update(fields);
    // Replacement, not an exception, for invalid UTF-8 in a plugin-chosen name: the event must not be lost.
    const std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    const std::lock_guard lock(mutex_);
    if (file_ != nullptr) {
        // One fwrite per line under the lock, then a flush: a reader never sees half a line from us.
        std::fwrite(text.data(), 1, text.size(), file_);
        std::fflush(file_);
    }
    if (listener_) listener_(std::string_view(text).substr(0, text.size() - 1));
}

}  // namespace dhub::events
