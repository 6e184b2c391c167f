// SPDX-License-Identifier: Apache-2.0
// What a handler can ask of the kernel: its parameters, a logger, the stop signal, time, the flex zones,
// messages to the channel's peers and, in queue mode, the slots of its ports.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

#include "dhub/sdk/abi.h"
#include "dhub/sdk/slots.hpp"

namespace dhub::sdk {

/// Thrown (inside the plugin only) when a host call fails; the trampoline turns it into its status.
class HostError : public std::runtime_error {
public:
    HostError(dhub_status status, const std::string& what) : std::runtime_error(what), status_(status) {}
    dhub_status status() const noexcept { return status_; }

private:
    dhub_status status_;
};

/// The node's parameters, already validated and defaulted by the kernel against params_schema.
class Params {
public:
    Params(const dhub_host_api* host, dhub_node* node) noexcept : host_(host), node_(node) {}

    double number(const char* name) const { return get<double>(host_->param_number, name, "number"); }
    std::int64_t integer(const char* name) const { return get<std::int64_t>(host_->param_integer, name, "integer"); }
    bool boolean(const char* name) const { return get<int>(host_->param_bool, name, "boolean") != 0; }
    std::string_view string(const char* name) const { return get<const char*>(host_->param_string, name, "string"); }
    /// All parameters as JSON text.
    std::string_view json() const { return host_->params_json(node_); }

private:
    template <typename T, typename Getter>
    T get(Getter getter, const char* name, const char* type) const {
        T value{};
        if (const dhub_status status = getter(node_, name, &value); status != DHUB_OK) {
            throw HostError(status, std::string("parameter '") + name + "' is not a declared " + type +
                                        " parameter of this component (" + dhub_status_name(status) + ")");
        }
        return value;
    }
    const dhub_host_api* host_;
    dhub_node* node_;
};

/// Log lines go to the kernel, which prefixes them with the node and routes them to its log.
class Logger {
public:
    Logger(const dhub_host_api* host, dhub_node* node) noexcept : host_(host), node_(node) {}
    void trace(const std::string& message) const { write(DHUB_LOG_TRACE, message); }
    void debug(const std::string& message) const { write(DHUB_LOG_DEBUG, message); }
    void info(const std::string& message) const { write(DHUB_LOG_INFO, message); }
    void warn(const std::string& message) const { write(DHUB_LOG_WARN, message); }
    void error(const std::string& message) const { write(DHUB_LOG_ERROR, message); }

private:
    void write(dhub_log_level level, const std::string& message) const { host_->log(node_, level, message.c_str()); }
    const dhub_host_api* host_;
    dhub_node* node_;
};

enum class Direction : std::uint32_t { Input = 0, Output = 1 };

/// The channel on one of a node's ports as its segment describes it (SDK 1.5, dhub_channel_info).
struct ChannelInfo {
    std::string name;
    std::uint32_t slot_count = 0;
    std::uint64_t slot_bytes = 0;
    std::uint64_t flex_bytes = 0;
    std::uint32_t sync = 0;                      ///< DHUB_SYNC_*
    bool latest_reader = false;                  ///< an input this node reads latest-only
    std::array<std::uint8_t, 32> schema_hash{};  ///< all zero: the channel's schema is unchecked
    bool lossless() const noexcept { return sync != DHUB_SYNC_LATEST_ONLY; }
};

/// A flex zone seen as struct F (consistent snapshots; the kernel copies under a seqlock).
template <typename F>
class FlexZone {
    static_assert(std::is_trivially_copyable_v<F>, "flex-zone types must be trivially copyable");

public:
    FlexZone(const dhub_host_api* host, dhub_node* node, Direction direction, std::uint32_t port) noexcept
        : host_(host), node_(node), direction_(static_cast<std::uint32_t>(direction)), port_(port) {}

    /// Reads a snapshot; false if the zone is empty, smaller than F or held by a writer too long.
    bool read(F& value) const noexcept {
        std::uint64_t bytes = 0;
        return host_->flex_read(node_, direction_, port_, &value, sizeof(F), &bytes) == DHUB_OK && bytes >= sizeof(F);
    }
    dhub_status write(const F& value) const noexcept {
        return host_->flex_write(node_, direction_, port_, &value, sizeof(F));
    }

private:
    const dhub_host_api* host_;
    dhub_node* node_;
    std::uint32_t direction_;
    std::uint32_t port_;
};

/// Queue mode: a port the plugin drives itself.
template <typename T>
class OutputPort {
public:
    OutputPort(const dhub_host_api* host, dhub_node* node, std::uint32_t port) noexcept
        : host_(host), node_(node), port_(port) {}

    /// Waits for a free slot, lets fill(OutputSlot<T>&) write it, commits. fill returning false aborts.
    /// Returns DHUB_OK, DHUB_TIMEOUT, DHUB_STOPPING or an error.
    template <typename Fill>
    dhub_status push(Fill&& fill, std::int64_t timeout_ns = -1) const {
        dhub_slot slot{};
        slot.struct_size = sizeof slot;
        if (const dhub_status status = host_->acquire_write(node_, port_, timeout_ns, &slot); status != DHUB_OK) {
            return status;
        }
        OutputSlot<T> view(slot);
        bool keep = false;
        try {
            keep = fill(view);
        } catch (...) {
            host_->abort_write(node_, port_);
            throw;
        }
        if (!keep) return host_->abort_write(node_, port_);
        return host_->commit(node_, port_, slot.bytes, slot.timestamp_ns);
    }

private:
    const dhub_host_api* host_;
    dhub_node* node_;
    std::uint32_t port_;
};

template <typename T>
class InputPort {
public:
    InputPort(const dhub_host_api* host, dhub_node* node, std::uint32_t port) noexcept
        : host_(host), node_(node), port_(port) {}

    /// Waits for the next slot and hands it to use(const InputSlot<T>&), then releases it.
    /// Returns DHUB_OK, DHUB_TIMEOUT, DHUB_STOPPING, DHUB_END_OF_STREAM or an error.
    template <typename Use>
    dhub_status pull(Use&& use, std::int64_t timeout_ns = -1) const {
        dhub_slot slot{};
        slot.struct_size = sizeof slot;
        if (const dhub_status status = host_->acquire_read(node_, port_, timeout_ns, &slot); status != DHUB_OK) {
            return status;
        }
        try {
            use(InputSlot<T>(slot));
        } catch (...) {
            host_->release(node_, port_);
            throw;
        }
        return host_->release(node_, port_);
    }

    /// Whether the kernel offers peek() and release_oldest() (SDK 1.6).
    bool can_peek() const noexcept {
        return host_->struct_size >= offsetof(dhub_host_api, release_oldest) + sizeof host_->release_oldest &&
               host_->peek_read != nullptr && host_->release_oldest != nullptr;
    }
    /// Lossless inputs (SDK 1.6, abi.h peek_read): slots the component keeps past one call, to hand to another
    /// library without copying them. Fills out[0, count) with the committed slots after the `skip` oldest
    /// unreleased ones (which the component has seen), releasing none: each stays valid and unchanged until
    /// release_oldest() hands it back. Waits up to timeout_ns for one past skip. DHUB_ERR_ABI_MISMATCH on an
    /// older kernel (can_peek()).
    dhub_status peek(std::uint32_t skip,
                     std::span<dhub_slot> out,
                     std::uint32_t& count,
                     std::int64_t timeout_ns = -1) const noexcept {
        count = 0;
        if (!can_peek()) return DHUB_ERR_ABI_MISMATCH;
        for (dhub_slot& slot : out)
            slot.struct_size = sizeof slot;
        return host_->peek_read(node_, port_, timeout_ns, skip, static_cast<std::uint32_t>(out.size()), out.data(),
                                &count);
    }
    /// Hands back the `count` oldest slots kept by peek(), counted as read.
    dhub_status release_oldest(std::uint32_t count) const noexcept {
        if (!can_peek()) return DHUB_ERR_ABI_MISMATCH;
        return host_->release_oldest(node_, port_, count);
    }

private:
    const dhub_host_api* host_;
    dhub_node* node_;
    std::uint32_t port_;
};

class NodeContext {
public:
    NodeContext(const dhub_host_api* host, dhub_node* node) noexcept : host_(host), node_(node) {}

    Params params() const noexcept { return {host_, node_}; }
    Logger log() const noexcept { return {host_, node_}; }
    bool stop_requested() const noexcept { return host_->stop_requested(node_) != 0; }
    std::uint64_t now_ns() const noexcept { return host_->now_ns(); }
    /// Sleeps until the CLOCK_MONOTONIC deadline; DHUB_STOPPING if the node is asked to stop first.
    dhub_status sleep_until(std::uint64_t deadline_ns) const noexcept { return host_->sleep_until(node_, deadline_ns); }
    /// Reports a runtime error: counted by the kernel, which applies the node's error policy.
    void report_error(dhub_status code, const std::string& message) const noexcept {
        host_->report_error(node_, code, message.c_str());
    }
    /// Sends a short text to the other nodes on the channel of that port.
    dhub_status send_message(Direction direction, std::uint32_t port, const std::string& message) const noexcept {
        return host_->send_message(node_, static_cast<std::uint32_t>(direction), port, message.c_str());
    }

    /// The schema id of the channel on a port as the graph resolved it ("dhub.waveform.f64@1"); "*" when
    /// nothing names one, and also from a kernel older than SDK 1.2, which cannot say. Empty for a port the
    /// node does not have. What a component that takes any schema records or forwards.
    std::string_view schema(Direction direction, std::uint32_t port = 0) const noexcept {
        // A 1.1 kernel's table ends before port_schema: its struct_size says so.
        if (host_->struct_size < offsetof(dhub_host_api, port_schema) + sizeof host_->port_schema ||
            host_->port_schema == nullptr) {
            return "*";
        }
        const char* schema = host_->port_schema(node_, static_cast<std::uint32_t>(direction), port);
        return schema != nullptr ? std::string_view(schema) : std::string_view();
    }

    /// The typed schema of the channel on a port as a JSON document (docs/schemas.md): fields, dtypes, shapes,
    /// size. Empty when the channel's schema is an opaque id or "*", for a port the node does not have, and
    /// from a kernel older than SDK 1.2. A channel validator's input port 0 is the channel it guards.
    std::string_view schema_document(Direction direction, std::uint32_t port = 0) const noexcept {
        if (host_->struct_size < offsetof(dhub_host_api, port_schema_document) + sizeof host_->port_schema_document ||
            host_->port_schema_document == nullptr) {
            return {};
        }
        const char* document = host_->port_schema_document(node_, static_cast<std::uint32_t>(direction), port);
        return document != nullptr ? std::string_view(document) : std::string_view();
    }

    /// The indices of the channels bound to a declared port (SDK 1.2): [first, first + count); count 0 for
    /// an optional port the graph left unwired. Throws HostError for a port the component does not declare.
    struct PortIndices {
        std::uint32_t first = 0;
        std::uint32_t count = 0;
    };
    PortIndices port(Direction direction, const char* name) const {
        PortIndices indices;
        const bool known = host_->struct_size >= offsetof(dhub_host_api, port_range) + sizeof host_->port_range &&
                           host_->port_range != nullptr;
        const dhub_status status = known ? host_->port_range(node_, static_cast<std::uint32_t>(direction), name,
                                                             &indices.first, &indices.count)
                                         : DHUB_ERR_ABI_MISMATCH;
        if (status != DHUB_OK) {
            throw HostError(status, std::string("port '") + name + "' is not a declared " +
                                        (direction == Direction::Input ? "input" : "output") +
                                        " port of this component (" + dhub_status_name(status) + ")");
        }
        return indices;
    }

    /// The channel on a port (SDK 1.5): name, geometry, sync policy, schema hash. Throws HostError for a port the
    /// node does not have, an input from another kernel not attached yet (DHUB_ERR_UNAVAILABLE), and on a kernel
    /// older than SDK 1.5 (DHUB_ERR_ABI_MISMATCH).
    ChannelInfo channel(Direction direction, std::uint32_t port = 0) const {
        dhub_channel_info info{};
        info.struct_size = sizeof info;
        const bool known = host_->struct_size >= offsetof(dhub_host_api, channel_info) + sizeof host_->channel_info &&
                           host_->channel_info != nullptr;
        const dhub_status status = known
                                       ? host_->channel_info(node_, static_cast<std::uint32_t>(direction), port, &info)
                                       : DHUB_ERR_ABI_MISMATCH;
        if (status != DHUB_OK) {
            throw HostError(status, std::string("no channel on ") +
                                        (direction == Direction::Input ? "input" : "output") + " port " +
                                        std::to_string(port) + " (" + dhub_status_name(status) + ")");
        }
        ChannelInfo channel;
        channel.name = info.name != nullptr ? info.name : "";
        channel.slot_count = info.slot_count;
        channel.slot_bytes = info.slot_bytes;
        channel.flex_bytes = info.flex_bytes;
        channel.sync = info.sync;
        channel.latest_reader = info.latest_reader != 0;
        std::memcpy(channel.schema_hash.data(), info.schema_hash, channel.schema_hash.size());
        return channel;
    }

    /// Counts slots lost before they reached the channel on an output port (SDK 1.5): a transport's receiver
    /// counts the sequence numbers its far producer committed that never arrived. Shown as upstream_lost by
    /// --report and dhub-shm inspect. A no-op on a kernel older than SDK 1.5.
    void count_upstream_loss(std::uint32_t port, std::uint64_t count) const noexcept {
        if (count == 0 ||
            host_->struct_size < offsetof(dhub_host_api, count_upstream_loss) + sizeof host_->count_upstream_loss ||
            host_->count_upstream_loss == nullptr) {
            return;
        }
        (void)host_->count_upstream_loss(node_, port, count);
    }

    template <typename F>
    FlexZone<F> flex(Direction direction, std::uint32_t port = 0) const noexcept {
        return {host_, node_, direction, port};
    }
    template <typename T>
    OutputPort<T> output(std::uint32_t port = 0) const noexcept {
        return {host_, node_, port};
    }
    template <typename T>
    InputPort<T> input(std::uint32_t port = 0) const noexcept {
        return {host_, node_, port};
    }

    const dhub_host_api* host() const noexcept { return host_; }
    dhub_node* node() const noexcept { return node_; }

private:
    const dhub_host_api* host_;
    dhub_node* node_;
};

}  // namespace dhub::sdk
