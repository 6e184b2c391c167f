// SPDX-License-Identifier: Apache-2.0
// A real-time node's loops: one handler call per slot, or per burst for sources and sinks with a burst
// handler; what a read or write failure means; how a handler's status is counted.
#include <algorithm>

#include "broker_link.hpp"
#include "channel_gate.hpp"
#include "dhub/base/clock.hpp"
#include "dhub/shm/checksum.hpp"
#include "node.hpp"
#include "node_internals.hpp"

namespace dhub::runtime {

using namespace detail;

void Node::run_realtime() {
    prepare_frame();
    while (!stop_requested()) {
        counters::bump(counts_.progress);
        if (inbox_.pending()) drain_messages();
        if (!attend_requests()) break;  // woken from a pause by a stop: not one more slot
        const bool sampled = sample_this_step();
        if (sampled) step_started_ns_ = monotonic_ns();
        const Step step = !bursts_           ? realtime_step()
                          : inputs_.empty()  ? source_burst_step()
                          : outputs_.empty() ? sink_burst_step()
                                             : stage_burst_step();
        if (sampled) record_sample();
        if (step == Step::Finished) return;
        if (!driven_.empty()) drive_stages();
    }
    finish(EndReason::Stopped, "stopped on request");
}

bool Node::uses_bursts() const noexcept {
    // A paced source is called once per tick, one slot per call.
    if (descriptor_.process_burst == nullptr || burst_ <= 1 || pacer_) return false;
    switch (component_.kind) {
        case plugin::ComponentKind::Source:
            return inputs_.empty() && outputs_.size() == 1;
        case plugin::ComponentKind::Sink:
            return inputs_.size() == 1 && outputs_.empty();
        case plugin::ComponentKind::Stage:
            // A 1.1 plugin may have set process_burst on a stage, which a 1.1 kernel never called: it would not
            // know about outputs or consumed.
            return component_.abi_minor >= 2 && inputs_.size() == 1 && outputs_.size() == 1 && !component_.multi_port();
        default:
            return false;
    }
}

void Node::prepare_frame() {
    frame_.input.struct_size = sizeof frame_.input;
    frame_.output.struct_size = sizeof frame_.output;
    frame_.args.struct_size = sizeof frame_.args;
    bursts_ = uses_bursts();
    declined_ = 0;  // a new instance is offered the slots an old one left afresh
    if (!inputs_.empty()) {
        frame_.input.capacity = inputs_[0].consumer->view().slot_payload_bytes();
        frame_.args.input = &frame_.input;
        track_gaps_ = inputs_[0].consumer->latest_only();
    }
    if (!outputs_.empty()) {
        frame_.output.capacity = outputs_[0].producer->view().slot_payload_bytes();
        frame_.args.output = &frame_.output;
    }
    if (bursts_) {
        // burst_slots_: the outputs of a source or stage, the inputs of a sink; burst_inputs_: a stage's inputs.
        dhub_slot blank{};
        blank.struct_size = sizeof blank;
        blank.capacity = !outputs_.empty() ? frame_.output.capacity : frame_.input.capacity;
        burst_slots_.assign(burst_, blank);
        burst_args_.struct_size = sizeof burst_args_;
        burst_args_.inputs = inputs_.empty() ? nullptr : burst_slots_.data();
        burst_args_.outputs = inputs_.empty() ? burst_slots_.data() : nullptr;
        if (!inputs_.empty() && !outputs_.empty()) {
            blank.capacity = frame_.input.capacity;
            burst_inputs_.assign(burst_, blank);
            burst_args_.inputs = burst_inputs_.data();
            burst_args_.outputs = burst_slots_.data();
        }
    }
}

// The per-slot path. Between acquiring an output slot and committing it the thread's stores queue behind
// the slot's pending cache-line transfers, so this path keeps its own stores few: the handler's arguments
// are built once (prepare_frame), slot handles are never moved, and counters are plain stores.
Node::Step Node::realtime_step() {
    if (inputs_.empty()) {
        // Asked to stop (the loop ends), or to swap or pause (the loop attends to it, then waits again).
        if (pacer_ && !wait_for_tick()) return Step::Continue;
        return handle_slot();
    }
    shm::ReadSlot read = inputs_[0].consumer->acquire_read(slice_wait(runner_));
    if (read.status() != shm::Status::Ok) return on_read_failure(read.status(), read.sequence());
    const auto payload = read.payload();
    frame_.input.data = const_cast<std::byte*>(payload.data());
    frame_.input.bytes = payload.size();
    frame_.input.sequence = read.sequence();
    frame_.input.timestamp_ns = read.timestamp_ns();
    counters::add(counts_.bytes_in, payload.size());
    if (track_gaps_) note_read(0, read.sequence());
    const Step step = handle_slot();
    if (read.release() == shm::Status::Overwritten) on_overwritten(frame_.input.sequence);
    counters::bump(counts_.slots_in);
    return step;
}

bool Node::wait_for_tick() {
    const PluginClock& clock = runner_.clock();
    if (!pacer_->anchored()) pacer_->anchor(clock.now_ns());
    if (clock.now_ns() < pacer_->deadline_ns()) {
        // As sleep_until, but a request (swap, parameter, pause) wakes it too: a slow source reaches its fence now.
        sleeping_.store(true, std::memory_order_relaxed);
        {
            std::unique_lock lock(sleep_mutex_);
            clock.wait_until(pacer_->deadline_ns(), lock, sleep_wakeup_,
                             [this] { return stop_requested() || attention_.load(std::memory_order_relaxed); });
        }
        sleeping_.store(false, std::memory_order_relaxed);
        counters::bump(counts_.progress);
        if (clock.now_ns() < pacer_->deadline_ns()) return false;
    }
    pacer_->on_call(clock.now_ns());
    return true;
}

Node::Step Node::handle_slot() {
    if (outputs_.empty()) return account(call_handler());
    shm::WriteSlot write = acquire_output();
    if (write.status() != shm::Status::Ok) return on_write_failure(write.status());
    frame_.output.data = write.payload().data();
    frame_.output.bytes = frame_.output.capacity;
    frame_.output.sequence = write.sequence();
    // Timestamp 0 = "stamp it at commit" (abi.h): one clock read per slot, taken at publication.
    frame_.output.timestamp_ns = 0;
    const dhub_status status = call_handler();
    if (status == DHUB_OK) {
        const std::uint64_t bytes = std::min(frame_.output.bytes, frame_.output.capacity);
        if (outputs_[0].gate != nullptr) {
            frame_.output.bytes = bytes;
            const std::uint64_t now = monotonic_ns();  // the commit's time, read once
            if (!pass_gate(*outputs_[0].gate, frame_.output, now)) {
                write.abort();  // handled; the channel's validators refused the slot (the gate counted it)
                return account(status);
            }
            if (write.commit(bytes, frame_.output.timestamp_ns, now) == shm::Status::Ok) count_published(1, bytes);
            return account(status);
        }
        const shm::Status committed =
            frame_.output.timestamp_ns == 0 ? write.commit(bytes) : write.commit(bytes, frame_.output.timestamp_ns);
        if (committed == shm::Status::Ok) count_published(1, bytes);
    } else {
        write.abort();
    }
    return account(status);
}

shm::WriteSlot Node::acquire_output() {
    for (;;) {
        shm::WriteSlot slot = outputs_[0].producer->acquire_write(slice_wait(runner_));
        if (slot.status() != shm::Status::Timeout || stop_requested()) return slot;
        counters::bump(counts_.progress);  // held back by slow readers is not hung (an isolated node's watchdog)
    }
}

// The burst paths: per slot only the fields that change are stored (see realtime_step), and the DataBlock
// publishes or releases the whole burst with one store.
Node::Step Node::source_burst_step() {
    shm::WriteBurst burst = acquire_output_burst(burst_);
    if (burst.status() != shm::Status::Ok) return on_write_failure(burst.status());
    const std::size_t offered = burst.size();
    const std::uint64_t capacity = frame_.output.capacity;
    // Every field the plugin may have changed in the previous call is set again: nothing it wrote there
    // carries over.
    for (std::size_t i = 0; i < offered; ++i) {
        dhub_slot& slot = burst_slots_[i];
        slot.data = burst.payload(i).data();
        slot.bytes = capacity;
        slot.capacity = capacity;
        slot.sequence = burst.sequence(i);
        slot.timestamp_ns = 0;  // 0 = stamped at commit
    }
    burst_args_.inputs = nullptr;
    burst_args_.outputs = burst_slots_.data();
    burst_args_.count = static_cast<std::uint32_t>(offered);
    burst_args_.filled = 0;
    const dhub_status status = timed_handler([&] { return descriptor_.process_burst(instance_, &burst_args_); });
    counters::bump(counts_.burst_calls);
    // What the plugin filled is complete whatever it returns: published, never silently dropped (only the
    // channel's validators may refuse a slot, and they count what they refuse).
    const std::size_t filled = std::min<std::size_t>(burst_args_.filled, offered);
    ChannelGate* gate = outputs_[0].gate;
    const std::uint64_t now = gate != nullptr && filled != 0 ? monotonic_ns() : 0;  // 0: the commit reads it
    const std::size_t published = gate != nullptr ? pass_gate(*gate, burst, filled, now) : filled;
    std::uint64_t bytes = 0;
    for (std::size_t i = 0; i < published; ++i) {
        const dhub_slot& slot = burst_slots_[i];
        const std::uint64_t slot_bytes = std::min(slot.bytes, capacity);
        (void)burst.stamp(i, slot_bytes, slot.timestamp_ns);
        bytes += slot_bytes;
    }
    if (burst.commit(published, now) == shm::Status::Ok) count_published(published, bytes);
    if (status != DHUB_OK && filled != 0) {
        counters::add(counts_.handled, filled);
    }
    // Nothing filled and no complaint: nothing was due (a paced source), counted like DHUB_SKIP.
    return account(status == DHUB_OK && filled == 0 ? DHUB_SKIP : status, filled);
}

Node::Step Node::sink_burst_step() {
    shm::ReadBurst burst = inputs_[0].consumer->acquire_burst(burst_, slice_wait(runner_));
    if (burst.status() != shm::Status::Ok) return on_read_failure(burst.status(), burst.sequence(0));
    const std::size_t count = burst.size();
    const std::uint64_t first = burst.sequence(0);
    if (track_gaps_) note_read(0, first, burst.sequence(count - 1));
    std::uint64_t bytes = 0;
    for (std::size_t i = 0; i < count; ++i) {
        dhub_slot& slot = burst_slots_[i];
        const auto payload = burst.payload(i);
        slot.data = const_cast<std::byte*>(payload.data());
        slot.bytes = payload.size();
        bytes += payload.size();
        slot.capacity = frame_.input.capacity;
        slot.sequence = burst.sequence(i);
        slot.timestamp_ns = burst.timestamp_ns(i);
    }
    burst_args_.inputs = burst_slots_.data();
    burst_args_.outputs = nullptr;
    burst_args_.count = static_cast<std::uint32_t>(count);
    const dhub_status status = timed_handler([&] { return descriptor_.process_burst(instance_, &burst_args_); });
    counters::bump(counts_.burst_calls);
    if (burst.release() == shm::Status::Overwritten) on_overwritten(first);
    counters::add(counts_.slots_in, count);
    counters::add(counts_.bytes_in, bytes);
    return account(status, count);
}

shm::WriteBurst Node::acquire_output_burst(std::size_t most) {
    shm::WriteBurst burst = outputs_[0].producer->acquire_burst(most, slice_wait(runner_));
    while (burst.status() == shm::Status::Timeout && !stop_requested()) {
        counters::bump(counts_.progress);  // held back by slow readers is not hung (an isolated node's watchdog)
        burst = outputs_[0].producer->acquire_burst(most, slice_wait(runner_));
    }
    return burst;
}

// A stage's burst: the committed input slots up to burst_, as many free output slots, one call; the filled
// outputs published with one store, the consumed inputs released with one store.
Node::Step Node::stage_burst_step() {
    Input& input = inputs_[0];
    bool last_offer = false;
    if (declined_ > 0) {
        // The last call left inputs it had seen: offering them again is only worth it with more.
        const shm::Status more = input.consumer->wait_for_backlog_above(declined_, slice_wait(runner_));
        if (more == shm::Status::Timeout) return on_read_failure(more, 0);
        last_offer = more != shm::Status::Ok;  // closed: nothing more will come, they are offered a last time
    }
    shm::ReadBurst in = input.consumer->acquire_burst(burst_, slice_wait(runner_));
    if (in.status() != shm::Status::Ok) return on_read_failure(in.status(), in.sequence(0));
    // On its driver's thread (a fused stage) it never waits for room: its own thread, which may, takes over.
    shm::WriteBurst out =
        driven_now_ ? outputs_[0].producer->acquire_burst(in.size(), NO_WAIT) : acquire_output_burst(in.size());
    if (out.status() != shm::Status::Ok) {
        (void)in.release(0);  // not handled: read again once there is room
        if (driven_now_ && out.status() == shm::Status::Timeout) return Step::MustWait;
        return on_write_failure(out.status());
    }
    // Read now: committing and releasing empty the bursts.
    const std::size_t offered_in = in.size();
    const std::size_t offered_out = out.size();
    const std::size_t count = std::min(offered_in, offered_out);
    const std::uint64_t out_capacity = frame_.output.capacity;
    const std::uint64_t first = in.sequence(0);
    for (std::size_t i = 0; i < count; ++i) {
        dhub_slot& reading = burst_inputs_[i];
        const auto payload = in.payload(i);
        reading.data = const_cast<std::byte*>(payload.data());
        reading.bytes = payload.size();
        reading.capacity = frame_.input.capacity;
        reading.sequence = in.sequence(i);
        reading.timestamp_ns = in.timestamp_ns(i);
        dhub_slot& writing = burst_slots_[i];
        writing.data = out.payload(i).data();
        writing.bytes = out_capacity;
        writing.capacity = out_capacity;
        writing.sequence = out.sequence(i);
        writing.timestamp_ns = 0;  // 0 = stamped at commit
    }
    burst_args_.count = static_cast<std::uint32_t>(count);
    burst_args_.filled = 0;
    burst_args_.consumed = static_cast<std::uint32_t>(count);
    const dhub_status status = timed_handler([&] { return descriptor_.process_burst(instance_, &burst_args_); });
    counters::bump(counts_.burst_calls);
    const std::size_t filled = std::min<std::size_t>(burst_args_.filled, count);
    std::size_t consumed = std::min<std::size_t>(burst_args_.consumed, count);
    ChannelGate* gate = outputs_[0].gate;
    const std::uint64_t now = gate != nullptr && filled != 0 ? monotonic_ns() : 0;  // 0: the commit reads it
    const std::size_t published = gate != nullptr ? pass_gate(*gate, out, filled, now) : filled;
    std::uint64_t bytes_out = 0;
    for (std::size_t i = 0; i < published; ++i) {
        const dhub_slot& slot = burst_slots_[i];
        const std::uint64_t slot_bytes = std::min(slot.bytes, out_capacity);
        (void)out.stamp(i, slot_bytes, slot.timestamp_ns);
        bytes_out += slot_bytes;
    }
    if (out.commit(published, now) == shm::Status::Ok) count_published(published, bytes_out);
    const bool ended = status != DHUB_OK && status != DHUB_SKIP;  // an error, the end of stream, a stop
    // A latest-only slot cannot be kept (the next read is the newest), and an input that closed sends nothing
    // more to join what the stage left: both are done.
    if (last_offer || input.consumer->latest_only()) consumed = count;
    bool wedged = false;
    bool output_bound = false;
    if (consumed == 0 && !ended) {
        // Waiting for more input is worth it only if the next offer can be bigger. When the output cut this
        // one short, more output space will do: the same slots are offered again once the readers downstream
        // made room, without waiting for input. Otherwise the offer must be below the burst and the ring; and
        // with checksums verified a slot that fails ends a burst early, so if more is committed than was
        // offered, the next offer may be the same. If it cannot grow, it would be offered the same forever.
        output_bound = offered_out < offered_in;
        const bool truncated_by_checksum =
            input.consumer->view().checksum() == shm::ChecksumPolicy::Verify && input.consumer->backlog() > offered_in;
        wedged = !output_bound &&
                 (offered_in >= burst_ || offered_in >= input.consumer->view().slot_count() || truncated_by_checksum);
        if (wedged) consumed = count;
    }
    // Only slots it saw and left wait for more input; after an error or an end the rest were never looked at,
    // and slots left for lack of output space wait for that space (below), not for more input.
    declined_ = ended || output_bound ? 0 : count - consumed;
    if (consumed > 0 && track_gaps_) note_read(0, first, first + consumed - 1);
    std::uint64_t bytes_in = 0;
    for (std::size_t i = 0; i < consumed; ++i)
        bytes_in += in.payload(i).size();  // the ring's, not the field the plugin may have changed
    if (in.release(consumed) == shm::Status::Overwritten) on_overwritten(first);
    counters::add(counts_.slots_in, consumed);
    counters::add(counts_.bytes_in, bytes_in);
    // Counted per slot, as one call per slot would: consumed slots that published nothing were skipped,
    // except the one whose status ended the call (an error counts as an error, an end as the end).
    const std::size_t unpublished = consumed - std::min(consumed, filled) - (ended && consumed > filled ? 1 : 0);
    if (unpublished > 0 && !wedged) {
        counters::add(counts_.skipped, unpublished);
    }
    if (ended && filled != 0) counters::add(counts_.handled, filled);
    if (output_bound) {
        // The readers downstream are behind: let them make room (on the driver's thread, the stage's own waits).
        if (driven_now_) {
            const Step step = account(status == DHUB_SKIP ? DHUB_OK : status, filled);
            return step == Step::Continue ? Step::MustWait : step;
        }
        sleep_for(OUTPUT_ROOM_PAUSE);
    }
    if (wedged) {
        count_error(DHUB_ERR_INVALID_ARGUMENT, "process_burst consumed none of the " + std::to_string(count) +
                                                   " input slots it was offered, and no bigger offer can come (the "
                                                   "node's burst, the ring or the output is the limit); they are "
                                                   "released without output");
        return stop_requested() ? Step::Finished : Step::Continue;
    }
    return account(status == DHUB_SKIP ? DHUB_OK : status, filled);
}

bool Node::pass_gate(ChannelGate& gate, dhub_slot& slot, std::uint64_t now_ns) {
    if (slot.timestamp_ns == 0) slot.timestamp_ns = now_ns;  // what the commit would stamp
    return gate.admit(slot);
}

std::size_t Node::pass_gate(ChannelGate& gate, const shm::WriteBurst& burst, std::size_t filled, std::uint64_t now) {
    if (filled == 0) return 0;
    const std::uint64_t capacity = frame_.output.capacity;
    for (std::size_t i = 0; i < filled; ++i) {
        dhub_slot& slot = burst_slots_[i];
        // What is published is the ring slot, so that is what is judged and moved, not where the plugin pointed.
        slot.data = burst.payload(i).data();
        slot.bytes = std::min(slot.bytes, capacity);
        if (slot.timestamp_ns == 0) slot.timestamp_ns = now;
    }
    return gate.filter(std::span<dhub_slot>(burst_slots_.data(), filled));
}

dhub_status Node::call_handler() {
    return timed_handler([this] { return call_handler_untimed(); });
}

dhub_status Node::call_handler_untimed() {
    if (descriptor_.validate == nullptr) return descriptor_.process(instance_, &frame_.args);
    char reason[512] = {};
    char kind[48] = {};
    dhub_validation verdict{sizeof(dhub_validation), 1, reason, sizeof reason, kind, sizeof kind};
    const dhub_status status = descriptor_.validate(instance_, &frame_.input, &verdict);
    if (status == DHUB_OK && verdict.valid == 0) {
        const std::uint64_t rejected = counts_.rejected.fetch_add(1, std::memory_order_relaxed) + 1;
        if (rejected <= VALIDATION_LOG_FIRST || rejected % VALIDATION_LOG_EVERY == 0) {
            logger_->warn("{}slot {} on '{}' rejected ({} so far): {}", log_prefix_, frame_.input.sequence,
                          inputs_[0].channel, rejected, reason);
        }
    }
    return status;
}

Node::Step Node::on_read_failure(shm::Status status, std::uint64_t sequence) {
    Input& input = inputs_[0];
    switch (status) {
        case shm::Status::Timeout:
            // Only on a timeout, so the busy path never looks: did the broker report the producer lost?
            if (input.remote && runner_.broker_link()->losses(input.remote_name) != input.losses_seen) {
                return on_remote_lost(input, "producer_lost", "the broker reports its producer lost");
            }
            return Step::Continue;
        case shm::Status::Closed:
            if (input.remote) return on_remote_lost(input, "closed", "its producer closed it");
            finish(EndReason::InputClosed, "input closed and drained");
            return Step::Finished;
        case shm::Status::ChecksumMismatch:
            counts_.checksum_failures.fetch_add(1, std::memory_order_relaxed);
            if (track_gaps_) note_read(0, sequence);  // read and refused: counted as a checksum failure, not a gap
            logger_->warn("{}input slot {} on '{}' failed its checksum and was skipped", log_prefix_, sequence,
                          inputs_[0].channel);
            return Step::Continue;
        default:
            count_error(to_abi(status), std::string("reading '") + inputs_[0].channel + "': " + shm::to_string(status));
            return Step::Continue;
    }
}

Node::Step Node::on_write_failure(shm::Status status) {
    if (status == shm::Status::Timeout) {  // acquire_output gives up on timeouts only when asked to stop
        finish(EndReason::Stopped, "stopped on request");
        return Step::Finished;
    }
    count_error(to_abi(status), std::string("writing '") + outputs_[0].channel + "': " + shm::to_string(status));
    return Step::Continue;
}

Node::Step Node::account(dhub_status status, std::uint64_t slots) {
    switch (status) {
        case DHUB_OK:
            counters::add(counts_.handled, slots);
            count_success();
            return Step::Continue;
        case DHUB_SKIP:
            counters::bump(counts_.skipped);
            count_success();
            return Step::Continue;
        case DHUB_END_OF_STREAM:
            finish(EndReason::EndOfStream, "the source reached the end of its stream");
            return Step::Finished;
        case DHUB_STOPPING:
            finish(EndReason::Stopped, "stopped on request");
            return Step::Finished;
        default:
            count_error(status, "handler failed");
            return stop_requested() ? Step::Finished : Step::Continue;
    }
}

}  // namespace dhub::runtime
