// SPDX-License-Identifier: Apache-2.0
// An event stream (dhub-kernel --events FILE, dhub-broker --events FILE): one JSON object per line for what
// supervisors and tests wait on — an input attached, a channel published, a client refused — so that nothing
// has to read log text. docs/kernel.md ("Events") and docs/protocol.md ("Transport") list the
// events and their fields.
#pragma once

#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string_view>

#include <nlohmann/json.hpp>

#include "dhub/base/result.hpp"

namespace dhub::events {

class EventLog {
public:
    /// A log that writes nothing: emit() returns at once.
    EventLog() = default;
    /// Creates (truncates) the file; the error names it.
    static Result<std::unique_ptr<EventLog>> open(const std::filesystem::path& file);
    ~EventLog();
    EventLog(const EventLog&) = delete;
    EventLog& operator=(const EventLog&) = delete;

    /// Appends {"t_ns": CLOCK_MONOTONIC, "event": event, ...fields} as one line and flushes it, so a reader
    /// polling the file sees whole lines only. Any thread; never on a data path (events are rare).
    void emit(std::string_view event, nlohmann::json fields = nlohmann::json::object());
    /// Also hands every line (without its newline) to listener, in the order of the file, under the log's lock:
    /// how the control endpoint streams a kernel's events (docs/control.md). Set before any thread emits.
    void set_listener(std::function<void(std::string_view line)> listener) { listener_ = std::move(listener); }

private:
    std::FILE* file_ = nullptr;
    std::function<void(std::string_view)> listener_;
    std::mutex mutex_;
};

}  // namespace dhub::events
