// SPDX-License-Identifier: Apache-2.0
// The kernel's side of the host API calls a plugin makes on its node (host_api.cpp forwards them here):
// logging, parameters, sleeping, queue-mode slots, flex zones, peer messages, port schemas.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstring>

#include "dhub/base/clock.hpp"
#include "node.hpp"
#include "node_internals.hpp"

namespace dhub::runtime {

using namespace detail;

void Node::log(dhub_log_level level, const char* message) const {
    const char* text = message != nullptr ? message : "";
    std::string prefix;
    {
        // Any thread may log: the prefix is read under the lock a swap rewrites it under.
        const std::lock_guard lock(identity_mutex_);
        prefix = log_prefix_;
        if (capturing_ && (level == DHUB_LOG_WARN || level == DHUB_LOG_ERROR)) captured_ = text;
    }
    logger_->log(to_spdlog(level), "{}{}", prefix, text);
}

void Node::report_error(dhub_status code, const char* message) {
    if (message != nullptr) {
        const std::lock_guard lock(identity_mutex_);
        if (capturing_) captured_ = message;
    }
    count_error(code, message != nullptr ? message : "error reported by the plugin");
}

void Node::sleep_for(std::chrono::nanoseconds span) {
    std::unique_lock lock(sleep_mutex_);
    sleep_wakeup_.wait_for(lock, span, [this] { return stop_requested(); });
}

dhub_status Node::sleep_until(std::uint64_t deadline_ns) {
    // A source pacing itself may sleep as long as it likes: the watchdog of an isolated node counts it as alive.
    sleeping_.store(true, std::memory_order_relaxed);
    {
        std::unique_lock lock(sleep_mutex_);
        runner_.clock().wait_until(deadline_ns, lock, sleep_wakeup_, [this] { return stop_requested(); });
    }
    sleeping_.store(false, std::memory_order_relaxed);
    counters::bump(counts_.progress);
    return stop_requested() ? DHUB_STOPPING : DHUB_OK;
}

const nlohmann::json* Node::param(const char* name) const noexcept {
    if (name == nullptr) return nullptr;
    const auto found = params_.find(name);
    return found == params_.end() ? nullptr : &*found;
}

const char* Node::param_string(const char* name) {
    const nlohmann::json* value = param(name);
    if (value == nullptr || !value->is_string()) return nullptr;
    // Keyed by name and value: a live change gives a new entry, and the pointer handed out for the old value stays
    // valid as long as the node (abi.h), as it must.
    const std::string& text = value->get_ref<const std::string&>();
    auto [stored, inserted] = string_params_.try_emplace(std::string(name) + '\0' + text, text);
    return stored->second.c_str();
}

template <typename Attempt>
dhub_status Node::wait_in_slices(std::int64_t timeout_ns, Attempt&& attempt) {
    const bool forever = timeout_ns < 0;
    const std::uint64_t deadline = forever ? ~0ULL : monotonic_ns() + static_cast<std::uint64_t>(timeout_ns);
    for (;;) {
        // "Forever" waits slice by slice too. (Its remaining time does not fit a signed duration: it once
        // became negative, a poll, and a pull with no timeout spun without ever seeing its input close.)
        const std::uint64_t now = monotonic_ns();
        const auto remaining =
            forever ? WAIT_SLICE
                    : std::chrono::nanoseconds(static_cast<std::int64_t>(deadline > now ? deadline - now : 0));
        counters::bump(counts_.progress);  // a queue-mode component waiting in the host is alive, for the watchdog
        const shm::Status status = attempt(node_wait(runner_, std::min(remaining, WAIT_SLICE)));
        if (status != shm::Status::Timeout) return to_abi(status);
        if (stop_requested()) return DHUB_STOPPING;
        if (!forever && monotonic_ns() >= deadline) return DHUB_TIMEOUT;
    }
}

dhub_status Node::acquire_write(std::uint32_t port, std::int64_t timeout_ns, dhub_slot* slot) {
    if (port >= outputs_.size() || slot == nullptr) return DHUB_ERR_INVALID_ARGUMENT;
    Output& output = outputs_[port];
    if (output.pending) return DHUB_ERR_INVALID_ARGUMENT;  // commit or abort the previous one first
    return wait_in_slices(timeout_ns, [&](const shm::WaitOptions& wait) {
        shm::WriteSlot acquired = output.producer->acquire_write(wait);
        if (acquired) {
            const auto buffer = acquired.payload();
            *slot = make_slot(buffer.data(), buffer.size(), buffer.size(), acquired.sequence(), 0);
            output.pending.emplace(std::move(acquired));
            return shm::Status::Ok;
        }
        return acquired.status();
    });
}

dhub_status Node::commit(std::uint32_t port, std::uint64_t bytes, std::uint64_t timestamp_ns) {
    if (port >= outputs_.size() || !outputs_[port].pending) return DHUB_ERR_INVALID_ARGUMENT;
    Output& output = outputs_[port];
    // The commit's time, read once: the stamp of a slot given 0, and the heartbeat.
    const std::uint64_t now = monotonic_ns();
    if (output.gate != nullptr) {
        const auto payload = output.pending->payload();
        // Refused before it is judged: the plugin keeps the slot and commits it again, judged once then.
        if (bytes > payload.size()) return to_abi(shm::Status::TooLarge);
        dhub_slot judged = make_slot(payload.data(), bytes, payload.size(), output.pending->sequence(), timestamp_ns);
        if (!pass_gate(*output.gate, judged, now)) {
            // Handled: the channel, not the plugin, refused it (counted and logged by the gate).
            output.pending.reset();
            return DHUB_OK;
        }
    }
    const shm::Status committed = output.pending->commit(bytes, timestamp_ns != 0 ? timestamp_ns : now, now);
    if (committed == shm::Status::Ok) {
        output.pending.reset();
        count_published(1, bytes);
    }
    return to_abi(committed);
}

dhub_status Node::abort_write(std::uint32_t port) {
    if (port >= outputs_.size() || !outputs_[port].pending) return DHUB_ERR_INVALID_ARGUMENT;
    outputs_[port].pending.reset();
    return DHUB_OK;
}

dhub_status Node::acquire_read(std::uint32_t port, std::int64_t timeout_ns, dhub_slot* slot) {
    // During process_ports the kernel holds the inputs (abi.h): a slot taken here would never be offered.
    if (port >= inputs_.size() || slot == nullptr || in_port_handler_) return DHUB_ERR_INVALID_ARGUMENT;
    Input& input = inputs_[port];
    if (input.held || input.window) return DHUB_ERR_INVALID_ARGUMENT;  // release the previous one(s) first
    if (!input.consumer) return DHUB_ERR_UNAVAILABLE;
    return wait_in_slices(timeout_ns, [&](const shm::WaitOptions& wait) {
        shm::ReadSlot acquired = input.consumer->acquire_read(wait);
        if (acquired) {
            const auto payload = acquired.payload();
            *slot =
                make_slot(const_cast<std::byte*>(payload.data()), payload.size(),
                          input.consumer->view().slot_payload_bytes(), acquired.sequence(), acquired.timestamp_ns());
            if (input.consumer->latest_only()) note_read(port, acquired.sequence());
            input.held.emplace(std::move(acquired));
            return shm::Status::Ok;
        }
        if (acquired.status() == shm::Status::ChecksumMismatch) {
            counts_.checksum_failures.fetch_add(1, std::memory_order_relaxed);
        }
        return acquired.status();
    });
}

dhub_status Node::release(std::uint32_t port) {
    if (port >= inputs_.size() || !inputs_[port].held || in_port_handler_) return DHUB_ERR_INVALID_ARGUMENT;
    const std::uint64_t sequence = inputs_[port].held->sequence();
    // Counted with the slot, when it is handed back (as slots_in): a slot still held at the end is in neither.
    counters::add(counts_.bytes_in, inputs_[port].held->payload().size());
    const shm::Status released = inputs_[port].held->release();
    inputs_[port].held.reset();
    if (released == shm::Status::Overwritten) on_overwritten(sequence);
    counters::bump(counts_.slots_in);
    return released == shm::Status::Overwritten ? DHUB_ERR_UNAVAILABLE : DHUB_OK;
}

dhub_status Node::peek_read(std::uint32_t port,
                            std::int64_t timeout_ns,
                            std::uint32_t skip,
                            std::uint32_t max,
                            dhub_slot* slots,
                            std::uint32_t* count) {
    if (port >= inputs_.size() || slots == nullptr || count == nullptr || max == 0 || in_port_handler_) {
        return DHUB_ERR_INVALID_ARGUMENT;
    }
    *count = 0;
    Input& input = inputs_[port];
    if (input.held) return DHUB_ERR_INVALID_ARGUMENT;  // a slot of acquire_read is not part of a window
    if (!input.consumer) return DHUB_ERR_UNAVAILABLE;
    // A latest-only reader's slots are not its to keep: the producer reuses them.
    if (input.consumer->latest_only()) return DHUB_ERR_INVALID_ARGUMENT;
    const std::size_t kept = input.window ? input.window->size() : 0;
    if (skip > kept) return DHUB_ERR_INVALID_ARGUMENT;  // the component cannot have seen slots it does not keep
    // Kept slots it has not seen yet come first, without waiting; new ones fill what room is left.
    const std::size_t unseen = kept - skip;
    if (unseen < max) {
        const dhub_status grown = wait_in_slices(unseen > 0 ? 0 : timeout_ns, [&](const shm::WaitOptions& wait) {
            if (!input.window) {
                shm::ReadBurst burst = input.consumer->acquire_burst(max, wait);
                const shm::Status status = burst.status();  // before the burst moves into the window
                if (burst) {
                    input.window.emplace(std::move(burst));
                } else if (status == shm::Status::ChecksumMismatch) {
                    counts_.checksum_failures.fetch_add(1, std::memory_order_relaxed);  // skipped and counted
                }
                return status;
            }
            // A new slot that fails its checksum right after the kept ones is skipped (and counted) once it leads.
            return input.consumer->extend_burst(*input.window, max - unseen, wait);
        });
        if (grown != DHUB_OK && unseen == 0) return grown;
    }
    const shm::ReadBurst& window = *input.window;
    const std::size_t end = std::min<std::size_t>(window.size(), std::size_t{skip} + max);
    const std::size_t slot_capacity = input.consumer->view().slot_payload_bytes();
    for (std::size_t i = skip; i < end; ++i) {
        const auto payload = window.payload(i);
        slots[i - skip] = make_slot(const_cast<std::byte*>(payload.data()), payload.size(), slot_capacity,
                                    window.sequence(i), window.timestamp_ns(i));
    }
    *count = static_cast<std::uint32_t>(end - skip);
    return DHUB_OK;
}

dhub_status Node::release_oldest(std::uint32_t port, std::uint32_t count) {
    if (port >= inputs_.size() || in_port_handler_) return DHUB_ERR_INVALID_ARGUMENT;
    Input& input = inputs_[port];
    if (count == 0) return DHUB_OK;
    if (!input.window || count > input.window->size()) return DHUB_ERR_INVALID_ARGUMENT;  // more than is kept
    std::uint64_t bytes = 0;
    for (std::size_t i = 0; i < count; ++i)
        bytes += input.window->payload(i).size();
    (void)input.window->release_front(count);
    if (!*input.window) input.window.reset();
    counters::add(counts_.bytes_in, bytes);
    counters::add(counts_.slots_in, count);
    return DHUB_OK;
}

shm::FlexZone Node::flex_of(std::uint32_t direction, std::uint32_t port) const {
    if (direction == 0) return inputs_[port].consumer->flex_zone();
    return outputs_[port].producer->flex_zone();
}

dhub_status Node::flex_read(
    std::uint32_t direction, std::uint32_t port, void* buffer, std::uint64_t capacity, std::uint64_t* bytes) {
    if (direction > 1 || port >= (direction == 0 ? inputs_.size() : outputs_.size()) || buffer == nullptr) {
        return DHUB_ERR_INVALID_ARGUMENT;
    }
    if (direction == 0 && !inputs_[port].consumer) return DHUB_ERR_UNAVAILABLE;  // a remote input not attached yet
    std::size_t used = 0;
    const shm::Status status =
        flex_of(direction, port).read({static_cast<std::byte*>(buffer), static_cast<std::size_t>(capacity)}, used);
    if (bytes != nullptr) *bytes = used;
    return to_abi(status);
}

dhub_status Node::flex_write(std::uint32_t direction, std::uint32_t port, const void* data, std::uint64_t bytes) {
    if (direction > 1 || port >= (direction == 0 ? inputs_.size() : outputs_.size()) || data == nullptr) {
        return DHUB_ERR_INVALID_ARGUMENT;
    }
    if (direction == 0 && !inputs_[port].consumer) return DHUB_ERR_UNAVAILABLE;
    return to_abi(
        flex_of(direction, port).write({static_cast<const std::byte*>(data), static_cast<std::size_t>(bytes)}));
}

const char* Node::port_schema(std::uint32_t direction, std::uint32_t port) const noexcept {
    if (direction == 0) return port < inputs_.size() ? inputs_[port].schema.c_str() : nullptr;
    if (direction == 1) return port < outputs_.size() ? outputs_[port].schema.c_str() : nullptr;
    return nullptr;
}

const char* Node::port_schema_document(std::uint32_t direction, std::uint32_t port) const noexcept {
    const std::string* document = direction == 0 && port < inputs_.size()    ? &inputs_[port].schema_document
                                  : direction == 1 && port < outputs_.size() ? &outputs_[port].schema_document
                                                                             : nullptr;
    return document != nullptr && !document->empty() ? document->c_str() : nullptr;
}

dhub_status Node::port_range(std::uint32_t direction,
                             const char* port,
                             std::uint32_t* first,
                             std::uint32_t* count) const {
    if (direction > 1 || port == nullptr || first == nullptr || count == nullptr) return DHUB_ERR_INVALID_ARGUMENT;
    const auto wanted = direction == 0 ? plugin::PortDirection::Input : plugin::PortDirection::Output;
    for (const PortRange& range : port_ranges_) {
        if (range.direction == wanted && range.name == port) {
            *first = range.first;
            *count = range.count;
            return DHUB_OK;
        }
    }
    return DHUB_ERR_INVALID_ARGUMENT;
}

dhub_status Node::send_message(std::uint32_t direction, std::uint32_t port, const char* message) {
    if (direction > 1 || port >= (direction == 0 ? inputs_.size() : outputs_.size()) || message == nullptr ||
        std::strlen(message) > MESSAGE_BYTES_LIMIT) {
        return DHUB_ERR_INVALID_ARGUMENT;
    }
    runner_.broadcast(*this, direction == 0 ? inputs_[port].channel : outputs_[port].channel, message);
    return DHUB_OK;
}

dhub_status Node::channel_info(std::uint32_t direction, std::uint32_t port, dhub_channel_info* info) const noexcept {
    if (info == nullptr || info->struct_size < offsetof(dhub_channel_info, name)) return DHUB_ERR_INVALID_ARGUMENT;
    const shm::ChannelView* view = nullptr;
    const std::string* name = nullptr;
    bool latest_reader = false;
    if (direction == 0 && port < inputs_.size()) {
        const Input& input = inputs_[port];
        if (!input.consumer) return DHUB_ERR_UNAVAILABLE;  // a remote input not attached yet, or a guarded channel
        view = &input.consumer->view();
        name = input.remote ? &input.remote_name : &input.channel;
        latest_reader = input.consumer->latest_only();
    } else if (direction == 1 && port < outputs_.size() && outputs_[port].producer != nullptr) {
        view = &outputs_[port].producer->view();
        name = &outputs_[port].channel;
    } else {
        return DHUB_ERR_INVALID_ARGUMENT;
    }
    // Filled into a full-sized copy, then as much of it as the caller's struct holds: an older plugin's smaller
    // struct never gets a field it does not have.
    dhub_channel_info full{};
    full.struct_size = info->struct_size;
    full.slot_count = view->slot_count();
    full.slot_bytes = view->slot_payload_bytes();
    full.flex_bytes = view->header().flex_zone_bytes;
    full.sync = static_cast<std::uint32_t>(view->sync());
    full.latest_reader = latest_reader ? 1 : 0;
    full.name = name->c_str();
    std::memcpy(full.schema_hash, view->header().schema_hash, sizeof full.schema_hash);
    std::memcpy(info, &full, std::min<std::size_t>(info->struct_size, sizeof full));
    return DHUB_OK;
}

dhub_status Node::count_upstream_loss(std::uint32_t port, std::uint64_t count) noexcept {
    if (port >= outputs_.size() || outputs_[port].producer == nullptr) return DHUB_ERR_INVALID_ARGUMENT;
    if (count == 0) return DHUB_OK;
    outputs_[port].producer->count_upstream_loss(count);
    counts_.upstream_lost.fetch_add(count, std::memory_order_relaxed);  // any thread may count (abi.h)
    return DHUB_OK;
}

}  // namespace dhub::runtime
