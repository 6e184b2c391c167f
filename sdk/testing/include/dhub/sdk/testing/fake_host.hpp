// SPDX-License-Identifier: Apache-2.0
// A fake kernel for one node: the dhub_host_api table a component's create() receives, backed by test
// state instead of shared memory. It records what the component says (log lines, reported errors,
// messages), answers what it asks (parameters, time from a ManualClock, the stop flag, flex zones) and,
// for queue-mode components, holds input frames the test pushes and captures the frames committed.
// Thread-safe: a queue-mode run() may run on its own thread while the test pushes input or asks to stop.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "dhub/sdk/abi.h"
#include "dhub/sdk/node_context.hpp"
#include "dhub/sdk/testing/frame.hpp"
#include "dhub/sdk/testing/manual_clock.hpp"
#include "dhub/sdk/testing/param_schema.hpp"

namespace dhub::sdk::testing {

struct LogLine {
    dhub_log_level level = DHUB_LOG_INVALID;
    std::string message;
};

struct ErrorReport {
    dhub_status code = DHUB_OK;
    std::string message;
};

struct SentMessage {
    Direction direction = Direction::Input;
    std::uint32_t port = 0;
    std::string text;
};

inline const char* to_string(dhub_log_level level) noexcept {
    switch (level) {
        case DHUB_LOG_TRACE:
            return "trace";
        case DHUB_LOG_DEBUG:
            return "debug";
        case DHUB_LOG_INFO:
            return "info";
        case DHUB_LOG_WARN:
            return "warn";
        case DHUB_LOG_ERROR:
            return "error";
        default:
            return "invalid";
    }
}

class FakeHost {
public:
    static constexpr std::uint64_t DEFAULT_FLEX_CAPACITY = 4096;
    static constexpr std::uint64_t DEFAULT_QUEUE_SLOT_CAPACITY = 4096;
    static constexpr std::size_t MAX_MESSAGE_BYTES = 4096;

    FakeHost(ManualClock& clock, ParamMap params)
        : clock_(clock), params_(std::move(params)), params_json_(params_to_json(params_)) {}
    FakeHost(const FakeHost&) = delete;
    FakeHost& operator=(const FakeHost&) = delete;

    const dhub_host_api* api() const noexcept { return &API; }
    /// The node handle is the host itself: every host call finds its state from it.
    dhub_node* node() noexcept { return reinterpret_cast<dhub_node*>(this); }

    // ---- ports ----------------------------------------------------------------------------------------

    /// The schema id port_schema() reports for a port, as the kernel would from the graph (set it before
    /// create()). A port never set reports "*" if it is port 0, else does not exist (NULL).
    void set_port_schema(Direction direction, std::uint32_t port, std::string schema) {
        const std::lock_guard lock(mutex_);
        port_schemas_[{static_cast<std::uint32_t>(direction), port}] = std::move(schema);
    }

    /// The typed schema document port_schema_document() reports for a port (SDK 1.2), as the kernel would from
    /// the graph (set it before create()). A port never set has none (NULL).
    void set_port_schema_document(Direction direction, std::uint32_t port, std::string document) {
        const std::lock_guard lock(mutex_);
        port_schema_documents_[{static_cast<std::uint32_t>(direction), port}] = std::move(document);
    }

    /// The indices port_range() reports for a named port (SDK 1.2), as the kernel would from the graph's
    /// wiring. A port never set does not exist (DHUB_ERR_INVALID_ARGUMENT).
    void set_port_range(Direction direction, std::string port, std::uint32_t first, std::uint32_t count) {
        const std::lock_guard lock(mutex_);
        port_ranges_[{static_cast<std::uint32_t>(direction), std::move(port)}] = {first, count};
    }

    /// What channel_info() reports for a port (SDK 1.5), as the kernel would from the channel's segment. A port
    /// never set does not exist (DHUB_ERR_INVALID_ARGUMENT); name is copied and kept by the host.
    void set_channel_info(Direction direction, std::uint32_t port, dhub_channel_info info, std::string name) {
        const std::lock_guard lock(mutex_);
        auto& entry = channel_infos_[{static_cast<std::uint32_t>(direction), port}];
        entry.second = std::make_unique<std::string>(std::move(name));
        info.struct_size = sizeof info;
        info.name = entry.second->c_str();
        entry.first = info;
    }
    /// What the component counted with count_upstream_loss() on an output port (SDK 1.5).
    std::uint64_t upstream_lost(std::uint32_t port) const {
        const std::lock_guard lock(mutex_);
        const auto found = upstream_lost_.find(port);
        return found != upstream_lost_.end() ? found->second : 0;
    }

    // ---- stop and time --------------------------------------------------------------------------------

    void request_stop() {
        {
            const std::lock_guard lock(mutex_);
            stop_requested_ = true;
        }
        changed_.notify_all();
    }
    void clear_stop() {
        const std::lock_guard lock(mutex_);
        stop_requested_ = false;
    }
    bool stop_requested() const {
        const std::lock_guard lock(mutex_);
        return stop_requested_;
    }
    ManualClock& clock() noexcept { return clock_; }
    /// Every deadline the component slept until, in order.
    std::vector<std::uint64_t> sleep_deadlines() const {
        const std::lock_guard lock(mutex_);
        return sleep_deadlines_;
    }
    /// Called after each sleep_until() moved the clock (e.g. to request_stop() after N frames).
    void on_sleep(std::function<void(std::uint64_t deadline_ns)> hook) {
        const std::lock_guard lock(mutex_);
        on_sleep_ = std::move(hook);
    }

    // ---- what the component said -----------------------------------------------------------------------

    std::vector<LogLine> logs() const {
        const std::lock_guard lock(mutex_);
        return logs_;
    }
    /// True if a line of that level contains text.
    bool has_log(dhub_log_level level, std::string_view text) const {
        const std::lock_guard lock(mutex_);
        for (const LogLine& line : logs_) {
            if (line.level == level && line.message.find(text) != std::string::npos) return true;
        }
        return false;
    }
    std::size_t log_count(dhub_log_level level) const {
        const std::lock_guard lock(mutex_);
        std::size_t count = 0;
        for (const LogLine& line : logs_)
            count += line.level == level ? 1 : 0;
        return count;
    }
    /// All log lines as "level: message" lines, for assertion messages.
    std::string log_text() const {
        const std::lock_guard lock(mutex_);
        std::string text;
        for (const LogLine& line : logs_)
            text += std::string(to_string(line.level)) + ": " + line.message + "\n";
        return text;
    }
    /// Also print log lines to stderr as they come (debugging a test).
    void echo_logs(bool echo) {
        const std::lock_guard lock(mutex_);
        echo_logs_ = echo;
    }
    std::vector<ErrorReport> errors() const {
        const std::lock_guard lock(mutex_);
        return errors_;
    }
    std::vector<SentMessage> messages() const {
        const std::lock_guard lock(mutex_);
        return messages_;
    }
    /// Host-API contract breaches seen (acquire twice, release without acquire, commit past capacity...).
    std::vector<std::string> violations() const {
        const std::lock_guard lock(mutex_);
        return violations_;
    }
    void add_violation(std::string what) {
        const std::lock_guard lock(mutex_);
        violations_.push_back(std::move(what));
    }

    // ---- parameters ------------------------------------------------------------------------------------

    const ParamMap& params() const noexcept { return params_; }
    const std::string& params_json() const noexcept { return params_json_; }

    // ---- flex zones ------------------------------------------------------------------------------------

    /// Capacity of the flex zone of a port (default DEFAULT_FLEX_CAPACITY; 0 = the channel has none).
    void set_flex_capacity(Direction direction, std::uint32_t port, std::uint64_t capacity) {
        const std::lock_guard lock(mutex_);
        zone(direction, port).capacity = capacity;
    }
    void write_flex(Direction direction, std::uint32_t port, std::span<const std::byte> data) {
        const std::lock_guard lock(mutex_);
        zone(direction, port).bytes.assign(data.begin(), data.end());
    }
    template <typename F>
    void write_flex_value(Direction direction, std::uint32_t port, const F& value) {
        static_assert(std::is_trivially_copyable_v<F>, "flex-zone types are trivially copyable");
        write_flex(direction, port, std::as_bytes(std::span<const F, 1>(&value, 1)));
    }
    std::vector<std::byte> read_flex(Direction direction, std::uint32_t port) const {
        const std::lock_guard lock(mutex_);
        const auto found = zones_.find(zone_key(direction, port));
        return found == zones_.end() ? std::vector<std::byte>{} : found->second.bytes;
    }
    template <typename F>
    std::optional<F> read_flex_value(Direction direction, std::uint32_t port) const {
        static_assert(std::is_trivially_copyable_v<F>, "flex-zone types are trivially copyable");
        const std::vector<std::byte> bytes = read_flex(direction, port);
        if (bytes.size() < sizeof(F)) return std::nullopt;
        F value{};
        std::memcpy(&value, bytes.data(), sizeof(F));
        return value;
    }

    // ---- queue-mode ports ------------------------------------------------------------------------------

    /// Queues a frame on an input port for acquire_read().
    void push_input(std::uint32_t port, Frame frame) {
        {
            const std::lock_guard lock(mutex_);
            inputs_[port].frames.push_back(std::move(frame));
        }
        changed_.notify_all();
    }
    /// After the queued frames, acquire_read() on that port returns DHUB_END_OF_STREAM.
    void close_input(std::uint32_t port) {
        {
            const std::lock_guard lock(mutex_);
            inputs_[port].closed = true;
        }
        changed_.notify_all();
    }
    /// Slot capacity of an input port (default: each frame's own size).
    void set_input_capacity(std::uint32_t port, std::uint64_t capacity) {
        const std::lock_guard lock(mutex_);
        inputs_[port].capacity = capacity;
    }
    void set_output_capacity(std::uint32_t port, std::uint64_t capacity) {
        const std::lock_guard lock(mutex_);
        outputs_[port].capacity = capacity;
    }
    /// Frames committed on an output port, in order.
    std::vector<Frame> outputs(std::uint32_t port) const {
        const std::lock_guard lock(mutex_);
        const auto found = outputs_.find(port);
        return found == outputs_.end() ? std::vector<Frame>{} : found->second.committed;
    }
    /// Waits (real time, bounded) until an output port holds at least count frames; for threaded tests.
    template <typename Duration>
    bool wait_for_outputs(std::uint32_t port, std::size_t count, Duration timeout) {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, timeout, [&] { return outputs_[port].committed.size() >= count; });
    }

private:
    struct FlexZoneState {
        std::uint64_t capacity = DEFAULT_FLEX_CAPACITY;
        std::vector<std::byte> bytes;
    };
    struct InputQueue {
        std::deque<Frame> frames;
        bool closed = false;
        std::uint64_t capacity = 0;
        std::unique_ptr<SlotBuffer> held;
        /// peek_read: copies of frames[0, kept.size()), which stay in place until release_oldest.
        std::deque<std::unique_ptr<SlotBuffer>> kept;
    };
    struct OutputQueue {
        std::uint64_t capacity = DEFAULT_QUEUE_SLOT_CAPACITY;
        std::uint64_t next_sequence = 0;
        std::unique_ptr<SlotBuffer> held;
        std::uint64_t held_sequence = 0;
        std::vector<Frame> committed;
    };

    static std::pair<std::uint32_t, std::uint32_t> zone_key(Direction direction, std::uint32_t port) noexcept {
        return {static_cast<std::uint32_t>(direction), port};
    }
    FlexZoneState& zone(Direction direction, std::uint32_t port) { return zones_[zone_key(direction, port)]; }

    static FakeHost& self(dhub_node* node) noexcept { return *reinterpret_cast<FakeHost*>(node); }

    // ---- the host API functions ------------------------------------------------------------------------

    static void log_line(dhub_node* node, dhub_log_level level, const char* message) {
        FakeHost& host = self(node);
        const std::lock_guard lock(host.mutex_);
        host.logs_.push_back({level, message != nullptr ? message : ""});
        if (host.echo_logs_)
            std::fprintf(stderr, "[harness] %s: %s\n", to_string(level), host.logs_.back().message.c_str());
    }

    static void report_error(dhub_node* node, dhub_status code, const char* message) {
        FakeHost& host = self(node);
        const std::lock_guard lock(host.mutex_);
        host.errors_.push_back({code, message != nullptr ? message : ""});
    }

    static std::uint64_t now_ns() { return detail::active_now_ns(); }

    static int stop_requested_fn(dhub_node* node) { return self(node).stop_requested() ? 1 : 0; }

    static dhub_status sleep_until(dhub_node* node, std::uint64_t deadline_ns) {
        FakeHost& host = self(node);
        std::function<void(std::uint64_t)> hook;
        {
            const std::lock_guard lock(host.mutex_);
            if (host.stop_requested_) return DHUB_STOPPING;
            host.sleep_deadlines_.push_back(deadline_ns);
            hook = host.on_sleep_;
        }
        host.clock_.advance_to_ns(deadline_ns);
        if (hook) hook(deadline_ns);
        // A stop requested while "asleep" ends the sleep early, as in the kernel.
        return host.stop_requested() ? DHUB_STOPPING : DHUB_OK;
    }

    template <ParamValue::Type Wanted>
    static const ParamValue* find_param(dhub_node* node, const char* name) {
        const FakeHost& host = self(node);
        if (name == nullptr) return nullptr;
        const auto found = host.params_.find(std::string_view(name));
        return found != host.params_.end() && found->second.type() == Wanted ? &found->second : nullptr;
    }

    static dhub_status param_number(dhub_node* node, const char* name, double* value) {
        const ParamValue* param = find_param<ParamValue::Type::Number>(node, name);
        if (param == nullptr) return DHUB_ERR_INVALID_ARGUMENT;
        *value = param->number();
        return DHUB_OK;
    }
    static dhub_status param_integer(dhub_node* node, const char* name, std::int64_t* value) {
        const ParamValue* param = find_param<ParamValue::Type::Integer>(node, name);
        if (param == nullptr) return DHUB_ERR_INVALID_ARGUMENT;
        *value = param->integer();
        return DHUB_OK;
    }
    static dhub_status param_bool(dhub_node* node, const char* name, int* value) {
        const ParamValue* param = find_param<ParamValue::Type::Boolean>(node, name);
        if (param == nullptr) return DHUB_ERR_INVALID_ARGUMENT;
        *value = param->boolean() ? 1 : 0;
        return DHUB_OK;
    }
    static dhub_status param_string(dhub_node* node, const char* name, const char** value) {
        const ParamValue* param = find_param<ParamValue::Type::String>(node, name);
        if (param == nullptr) return DHUB_ERR_INVALID_ARGUMENT;
        *value = param->string().c_str();
        return DHUB_OK;
    }
    static const char* params_json_fn(dhub_node* node) { return self(node).params_json_.c_str(); }

    static dhub_status acquire_write(dhub_node* node,
                                     std::uint32_t port,
                                     std::int64_t /*timeout_ns*/,
                                     dhub_slot* slot) {
        FakeHost& host = self(node);
        const std::lock_guard lock(host.mutex_);
        if (host.stop_requested_) return DHUB_STOPPING;
        OutputQueue& queue = host.outputs_[port];
        if (queue.held) {
            host.violations_.push_back("acquire_write on output " + std::to_string(port) + " while a slot is held");
            return DHUB_ERR_INVALID_ARGUMENT;
        }
        queue.held = std::make_unique<SlotBuffer>(queue.capacity);
        queue.held_sequence = queue.next_sequence;
        slot->data = queue.held->data();
        slot->bytes = queue.capacity;
        slot->capacity = queue.capacity;
        slot->sequence = queue.held_sequence;
        slot->timestamp_ns = detail::active_now_ns();
        return DHUB_OK;
    }

    static dhub_status commit(dhub_node* node, std::uint32_t port, std::uint64_t bytes, std::uint64_t timestamp_ns) {
        FakeHost& host = self(node);
        {
            const std::lock_guard lock(host.mutex_);
            OutputQueue& queue = host.outputs_[port];
            if (!queue.held) {
                host.violations_.push_back("commit on output " + std::to_string(port) + " without acquire_write");
                return DHUB_ERR_INVALID_ARGUMENT;
            }
            if (!queue.held->guard_intact()) {
                host.violations_.push_back("wrote past the end of the slot on output " + std::to_string(port));
            }
            if (bytes > queue.capacity) {
                host.violations_.push_back("commit of " + std::to_string(bytes) + " bytes on output " +
                                           std::to_string(port) + " whose slots hold " +
                                           std::to_string(queue.capacity));
                queue.held.reset();
                return DHUB_ERR_INVALID_ARGUMENT;
            }
            const std::byte* data = queue.held->data();
            queue.committed.push_back(
                Frame::from_bytes({data, static_cast<std::size_t>(bytes)}, queue.held_sequence, timestamp_ns));
            queue.held.reset();
            ++queue.next_sequence;
        }
        host.changed_.notify_all();
        return DHUB_OK;
    }

    static dhub_status abort_write(dhub_node* node, std::uint32_t port) {
        FakeHost& host = self(node);
        const std::lock_guard lock(host.mutex_);
        OutputQueue& queue = host.outputs_[port];
        if (!queue.held) {
            host.violations_.push_back("abort_write on output " + std::to_string(port) + " without acquire_write");
            return DHUB_ERR_INVALID_ARGUMENT;
        }
        queue.held.reset();
        return DHUB_OK;
    }

    // DHUB_OK once the queue holds more than `after` frames. Without: DHUB_END_OF_STREAM once closed; with
    // timeout_ns >= 0 the manual clock advances by the timeout and DHUB_TIMEOUT comes back at once (the lock
    // released); timeout_ns < 0 blocks (real time) until the test pushes a frame, closes the port or requests stop.
    dhub_status wait_for_frames(std::unique_lock<std::mutex>& lock,
                                const InputQueue& queue,
                                std::size_t after,
                                std::int64_t timeout_ns) {
        while (true) {
            if (stop_requested_) return DHUB_STOPPING;
            if (queue.frames.size() > after) return DHUB_OK;
            if (queue.closed) return DHUB_END_OF_STREAM;
            if (timeout_ns >= 0) {
                lock.unlock();
                clock_.advance_ns(static_cast<std::uint64_t>(timeout_ns));
                return DHUB_TIMEOUT;
            }
            changed_.wait(lock);
        }
    }

    // Waits as wait_for_frames() says.
    static dhub_status acquire_read(dhub_node* node, std::uint32_t port, std::int64_t timeout_ns, dhub_slot* slot) {
        FakeHost& host = self(node);
        std::unique_lock lock(host.mutex_);
        InputQueue& queue = host.inputs_[port];
        if (queue.held || !queue.kept.empty()) {
            host.violations_.push_back("acquire_read on input " + std::to_string(port) + " while a slot is held");
            return DHUB_ERR_INVALID_ARGUMENT;
        }
        if (const dhub_status waited = host.wait_for_frames(lock, queue, 0, timeout_ns); waited != DHUB_OK) {
            return waited;
        }
        const Frame& frame = queue.frames.front();
        const std::uint64_t capacity = std::max<std::uint64_t>(queue.capacity, frame.bytes.size());
        queue.held = std::make_unique<SlotBuffer>(capacity);
        if (!frame.bytes.empty()) std::memcpy(queue.held->data(), frame.bytes.data(), frame.bytes.size());
        slot->data = queue.held->data();
        slot->bytes = frame.bytes.size();
        slot->capacity = capacity;
        slot->sequence = frame.sequence;
        slot->timestamp_ns = frame.timestamp_ns;
        return DHUB_OK;
    }

    static dhub_status release(dhub_node* node, std::uint32_t port) {
        FakeHost& host = self(node);
        const std::lock_guard lock(host.mutex_);
        InputQueue& queue = host.inputs_[port];
        if (!queue.held) {
            host.violations_.push_back("release on input " + std::to_string(port) + " without acquire_read");
            return DHUB_ERR_INVALID_ARGUMENT;
        }
        queue.held.reset();
        queue.frames.pop_front();
        return DHUB_OK;
    }

    // peek_read (SDK 1.6): the kept slots are the queue's first frames, each in a buffer of its own that stays put
    // until release_oldest; waits as acquire_read does.
    static dhub_status peek_read(dhub_node* node,
                                 std::uint32_t port,
                                 std::int64_t timeout_ns,
                                 std::uint32_t skip,
                                 std::uint32_t max,
                                 dhub_slot* slots,
                                 std::uint32_t* count) {
        FakeHost& host = self(node);
        std::unique_lock lock(host.mutex_);
        InputQueue& queue = host.inputs_[port];
        *count = 0;
        if (queue.held || skip > queue.kept.size() || max == 0) {
            host.violations_.push_back(
                "peek_read on input " + std::to_string(port) +
                (queue.held ? " while a slot of acquire_read is held" : " with a skip beyond the slots kept"));
            return DHUB_ERR_INVALID_ARGUMENT;
        }
        if (const dhub_status waited = host.wait_for_frames(lock, queue, skip, timeout_ns); waited != DHUB_OK) {
            return waited;
        }
        const std::size_t end = std::min<std::size_t>(queue.frames.size(), std::size_t{skip} + max);
        while (queue.kept.size() < end) {
            const Frame& frame = queue.frames[queue.kept.size()];
            const std::uint64_t capacity = std::max<std::uint64_t>(queue.capacity, frame.bytes.size());
            queue.kept.push_back(std::make_unique<SlotBuffer>(capacity));
            if (!frame.bytes.empty()) std::memcpy(queue.kept.back()->data(), frame.bytes.data(), frame.bytes.size());
        }
        for (std::size_t i = skip; i < end; ++i) {
            const Frame& frame = queue.frames[i];
            dhub_slot& slot = slots[i - skip];
            slot.data = queue.kept[i]->data();
            slot.bytes = frame.bytes.size();
            slot.capacity = std::max<std::uint64_t>(queue.capacity, frame.bytes.size());
            slot.sequence = frame.sequence;
            slot.timestamp_ns = frame.timestamp_ns;
        }
        *count = static_cast<std::uint32_t>(end - skip);
        return DHUB_OK;
    }

    static dhub_status release_oldest(dhub_node* node, std::uint32_t port, std::uint32_t count) {
        FakeHost& host = self(node);
        const std::lock_guard lock(host.mutex_);
        InputQueue& queue = host.inputs_[port];
        if (count > queue.kept.size()) {
            host.violations_.push_back("release_oldest of " + std::to_string(count) + " on input " +
                                       std::to_string(port) + ", which keeps " + std::to_string(queue.kept.size()));
            return DHUB_ERR_INVALID_ARGUMENT;
        }
        for (std::uint32_t i = 0; i < count; ++i) {
            queue.kept.pop_front();
            queue.frames.pop_front();
        }
        return DHUB_OK;
    }

    static dhub_status flex_read(dhub_node* node,
                                 std::uint32_t direction,
                                 std::uint32_t port,
                                 void* buffer,
                                 std::uint64_t capacity,
                                 std::uint64_t* bytes) {
        FakeHost& host = self(node);
        const std::lock_guard lock(host.mutex_);
        const FlexZoneState& state = host.zone(static_cast<Direction>(direction), port);
        if (state.capacity == 0) return DHUB_ERR_UNAVAILABLE;
        const std::size_t copied = static_cast<std::size_t>(std::min<std::uint64_t>(capacity, state.bytes.size()));
        if (copied > 0) std::memcpy(buffer, state.bytes.data(), copied);
        *bytes = state.bytes.size();
        return DHUB_OK;
    }

    static dhub_status flex_write(
        dhub_node* node, std::uint32_t direction, std::uint32_t port, const void* data, std::uint64_t bytes) {
        FakeHost& host = self(node);
        const std::lock_guard lock(host.mutex_);
        FlexZoneState& state = host.zone(static_cast<Direction>(direction), port);
        if (state.capacity == 0) return DHUB_ERR_UNAVAILABLE;
        if (bytes > state.capacity) return DHUB_ERR_INVALID_ARGUMENT;
        const auto* first = static_cast<const std::byte*>(data);
        state.bytes.assign(first, first + bytes);
        return DHUB_OK;
    }

    static dhub_status send_message(dhub_node* node, std::uint32_t direction, std::uint32_t port, const char* message) {
        FakeHost& host = self(node);
        if (message == nullptr) return DHUB_ERR_INVALID_ARGUMENT;
        const std::string_view text(message);
        if (text.size() > MAX_MESSAGE_BYTES) return DHUB_ERR_INVALID_ARGUMENT;
        const std::lock_guard lock(host.mutex_);
        host.messages_.push_back({static_cast<Direction>(direction), port, std::string(text)});
        return DHUB_OK;
    }

    static const char* port_schema_document(dhub_node* node, std::uint32_t direction, std::uint32_t port) {
        FakeHost& host = self(node);
        const std::lock_guard lock(host.mutex_);
        const auto found = host.port_schema_documents_.find({direction, port});
        return found != host.port_schema_documents_.end() ? found->second.c_str() : nullptr;
    }

    static const char* port_schema(dhub_node* node, std::uint32_t direction, std::uint32_t port) {
        FakeHost& host = self(node);
        const std::lock_guard lock(host.mutex_);
        const auto found = host.port_schemas_.find({direction, port});
        if (found != host.port_schemas_.end()) return found->second.c_str();
        return port == 0 && direction <= 1 ? "*" : nullptr;
    }

    static dhub_status port_range(
        dhub_node* node, std::uint32_t direction, const char* port, std::uint32_t* first, std::uint32_t* count) {
        FakeHost& host = self(node);
        const std::lock_guard lock(host.mutex_);
        if (port == nullptr || first == nullptr || count == nullptr) return DHUB_ERR_INVALID_ARGUMENT;
        const auto found = host.port_ranges_.find({direction, port});
        if (found == host.port_ranges_.end()) return DHUB_ERR_INVALID_ARGUMENT;
        *first = found->second.first;
        *count = found->second.second;
        return DHUB_OK;
    }

    static dhub_status channel_info(dhub_node* node,
                                    std::uint32_t direction,
                                    std::uint32_t port,
                                    dhub_channel_info* info) {
        FakeHost& host = self(node);
        const std::lock_guard lock(host.mutex_);
        if (info == nullptr || info->struct_size < offsetof(dhub_channel_info, name)) return DHUB_ERR_INVALID_ARGUMENT;
        const auto found = host.channel_infos_.find({direction, port});
        if (found == host.channel_infos_.end()) return DHUB_ERR_INVALID_ARGUMENT;
        const std::uint32_t size = info->struct_size;
        std::memcpy(info, &found->second.first, std::min<std::size_t>(size, sizeof(dhub_channel_info)));
        info->struct_size = size;
        return DHUB_OK;
    }

    static dhub_status count_upstream_loss(dhub_node* node, std::uint32_t port, std::uint64_t count) {
        FakeHost& host = self(node);
        const std::lock_guard lock(host.mutex_);
        host.upstream_lost_[port] += count;
        return DHUB_OK;
    }

    static constexpr dhub_host_api API = {
        sizeof(dhub_host_api),
        DHUB_SDK_VERSION_MAJOR,
        DHUB_SDK_VERSION_MINOR,
        &log_line,
        &report_error,
        &now_ns,
        &stop_requested_fn,
        &sleep_until,
        &param_number,
        &param_integer,
        &param_bool,
        &param_string,
        &params_json_fn,
        &acquire_write,
        &commit,
        &abort_write,
        &acquire_read,
        &release,
        &flex_read,
        &flex_write,
        &send_message,
        &port_schema,
        &port_range,
        &port_schema_document,
        &channel_info,
        &count_upstream_loss,
        &peek_read,
        &release_oldest,
    };

    ManualClock& clock_;
    const ParamMap params_;
    const std::string params_json_;

    mutable std::mutex mutex_;
    std::condition_variable changed_;
    bool stop_requested_ = false;
    std::vector<std::uint64_t> sleep_deadlines_;
    std::function<void(std::uint64_t)> on_sleep_;
    std::vector<LogLine> logs_;
    bool echo_logs_ = false;
    std::vector<ErrorReport> errors_;
    std::vector<SentMessage> messages_;
    std::map<std::pair<std::uint32_t, std::uint32_t>, std::string> port_schemas_;  ///< (direction, port)
    std::map<std::pair<std::uint32_t, std::uint32_t>, std::string> port_schema_documents_;
    std::map<std::pair<std::uint32_t, std::string>, std::pair<std::uint32_t, std::uint32_t>> port_ranges_;
    /// (direction, port) -> the info and the name its `name` points into (a unique_ptr: the text never moves).
    std::map<std::pair<std::uint32_t, std::uint32_t>, std::pair<dhub_channel_info, std::unique_ptr<std::string>>>
        channel_infos_;
    std::map<std::uint32_t, std::uint64_t> upstream_lost_;
    std::vector<std::string> violations_;
    std::map<std::pair<std::uint32_t, std::uint32_t>, FlexZoneState> zones_;
    std::map<std::uint32_t, InputQueue> inputs_;
    std::map<std::uint32_t, OutputQueue> outputs_;
};

}  // namespace dhub::sdk::testing
