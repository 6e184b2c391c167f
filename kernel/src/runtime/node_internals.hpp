// SPDX-License-Identifier: Apache-2.0
// What the parts of a Node share (node.cpp, node_loops.cpp, node_remote.cpp, node_host_calls.cpp): wait
// slices, limits, and the conversions between the DataBlock's types and the plugin ABI's.
#pragma once

#include <spdlog/common.h>

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "dhub/runtime/graph_runner.hpp"
#include "dhub/sdk/abi.h"
#include "dhub/shm/channel_config.hpp"
#include "dhub/shm/status.hpp"

namespace dhub::runtime::detail {

using namespace std::chrono_literals;

/// Node threads wait in slices so that they notice a stop request within one slice.
constexpr std::chrono::nanoseconds WAIT_SLICE = 100ms;
/// A node thread's wait for a slot or for room, `timeout` long (one slice): spinning first, busily or yielding, as
/// its runner decided for the graph.
inline shm::WaitOptions node_wait(const GraphRunner& runner, std::chrono::nanoseconds timeout) noexcept {
    return shm::WaitOptions{timeout, runner.node_spin(), runner.node_spin_yields()};
}
inline shm::WaitOptions slice_wait(const GraphRunner& runner) noexcept {
    return node_wait(runner, WAIT_SLICE);
}
/// A fused stage's own thread that let go of the stage while its driver tried to run it waits this long for the
/// driver to come back before it runs what the driver committed meanwhile itself (StageChain::pending).
constexpr std::chrono::nanoseconds PENDING_GRACE = 1ms;
/// One look, no spin, no sleep: a fused stage on its driver's thread, which must not wait for the stage.
inline constexpr shm::WaitOptions NO_WAIT{std::chrono::nanoseconds(0), std::chrono::nanoseconds(0), false};
/// A stage's burst whose output ran out of room before it could take what it needs: how long it lets the
/// readers downstream catch up before it is offered the same input again.
constexpr std::chrono::microseconds OUTPUT_ROOM_PAUSE{50};
constexpr std::size_t MESSAGE_BYTES_LIMIT = 4096;
constexpr std::uint64_t VALIDATION_LOG_FIRST = 10;
constexpr std::uint64_t VALIDATION_LOG_EVERY = 1000;
/// node_error events: the first ones of a node, then one in this many (the count is in each).
constexpr std::uint64_t ERROR_EVENTS_FIRST = 10;
constexpr std::uint64_t ERROR_EVENTS_EVERY = 1000;
/// input_gap events: at most one per input in this long.
constexpr std::uint64_t GAP_EVENT_PERIOD_NS = 1'000'000'000;
/// A remote input looks for its channel in parked DISCOVERs of this length (stop is noticed in between).
constexpr std::chrono::milliseconds REMOTE_DISCOVER_SLICE = 500ms;
constexpr std::chrono::milliseconds REMOTE_RETRY = 200ms;
/// The longest wait between two attempts to receive a channel of another host that keep failing.
constexpr std::chrono::milliseconds IMPORT_RETRY_MAX = 10'000ms;

inline spdlog::level::level_enum to_spdlog(dhub_log_level level) {
    switch (level) {
        case DHUB_LOG_TRACE:
            return spdlog::level::trace;
        case DHUB_LOG_DEBUG:
            return spdlog::level::debug;
        case DHUB_LOG_WARN:
            return spdlog::level::warn;
        case DHUB_LOG_ERROR:
            return spdlog::level::err;
        default:
            return spdlog::level::info;
    }
}

/// shm statuses as the plugin ABI spells them.
inline dhub_status to_abi(shm::Status status) {
    switch (status) {
        case shm::Status::Ok:
            return DHUB_OK;
        case shm::Status::Timeout:
            return DHUB_TIMEOUT;
        case shm::Status::Closed:
            return DHUB_END_OF_STREAM;
        case shm::Status::ChecksumMismatch:
            return DHUB_ERR_CHECKSUM;
        case shm::Status::TooLarge:
            return DHUB_ERR_INVALID_ARGUMENT;
        case shm::Status::Overwritten:
            return DHUB_ERR_UNAVAILABLE;
        case shm::Status::NotOwner:
            return DHUB_ERR_UNAVAILABLE;
        case shm::Status::Invalid:
            return DHUB_ERR_INVALID_ARGUMENT;
    }
    return DHUB_ERR_INTERNAL;
}

inline dhub_slot make_slot(
    void* data, std::uint64_t bytes, std::uint64_t capacity, std::uint64_t sequence, std::uint64_t timestamp_ns) {
    dhub_slot slot{};
    slot.struct_size = sizeof slot;
    slot.data = data;
    slot.bytes = bytes;
    slot.capacity = capacity;
    slot.sequence = sequence;
    slot.timestamp_ns = timestamp_ns;
    return slot;
}

}  // namespace dhub::runtime::detail
