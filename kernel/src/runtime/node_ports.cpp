// SPDX-License-Identifier: Apache-2.0
// The loop of a real-time component with several ports (abi.h, process_ports): the kernel keeps, per input,
// the oldest unread slot in hand, calls the handler whenever an input gets a slot or closes (and every
// WAIT_SLICE while slots are kept and nothing arrives), and releases what the handler let go. The handler
// writes its outputs itself through the host's acquire_write/commit.
#include <algorithm>

#include "broker_link.hpp"
#include "dhub/base/clock.hpp"
#include "dhub/shm/wait_any.hpp"
#include "node.hpp"
#include "node_internals.hpp"

namespace dhub::runtime {

using namespace detail;

namespace {

/// Every slot in hand is released after the call unless the handler says otherwise this time (abi.h): a slot
/// kept last time is not kept again without being asked.
void arm_release(std::vector<dhub_port_input>& states) noexcept {
    for (dhub_port_input& state : states)
        state.release = state.state == DHUB_INPUT_READY ? state.count : 0;
}

bool any_kept(const std::vector<dhub_port_input>& states) noexcept {
    return std::any_of(states.begin(), states.end(),
                       [](const dhub_port_input& state) { return state.state == DHUB_INPUT_READY; });
}

}  // namespace

void Node::run_ports() {
    std::vector<dhub_port_input> states(inputs_.size());
    port_slots_.assign(inputs_.size(), dhub_slot{});
    for (std::size_t index = 0; index < states.size(); ++index) {
        states[index].struct_size = sizeof(dhub_port_input);
        port_slots_[index].struct_size = sizeof(dhub_slot);
        states[index].slots = &port_slots_[index];
    }
    dhub_port_args args{sizeof args, static_cast<std::uint32_t>(states.size()), states.data(),
                        static_cast<std::uint32_t>(outputs_.size()), 0};
    // A sampled step here is one call: the time waiting for a partner slot is not in it.
    const auto call = [&] {
        const bool sampled = sample_this_step();
        if (sampled) step_started_ns_ = monotonic_ns();
        arm_release(states);
        in_port_handler_ = true;
        const dhub_status status = timed_handler([&] { return descriptor_.process_ports(instance_, &args); });
        in_port_handler_ = false;
        settle_ports(states);
        if (sampled) record_sample();
        return account(status);
    };
    while (!stop_requested()) {
        counters::bump(counts_.progress);
        if (inbox_.pending()) drain_messages();
        if (!attend_requests()) break;  // woken from a pause by a stop: not one more call
        if (inputs_.empty()) {
            if (call() == Step::Finished) return;
            continue;
        }
        if (take_arrivals(states)) {
            if (call() == Step::Finished) return;
            continue;
        }
        if (std::all_of(states.begin(), states.end(),
                        [](const dhub_port_input& state) { return state.state == DHUB_INPUT_CLOSED; })) {
            // The call that saw the last input close was the component's last one.
            finish(EndReason::InputClosed, "every input closed and drained");
            return;
        }
        const Step waited = wait_for_arrivals(states);
        if (waited == Step::Finished) return;
        // Nothing arrived for a slice while slots are kept: the component may stop waiting for a partner.
        if (waited == Step::TimedOut && any_kept(states) && call() == Step::Finished) return;
    }
    finish(EndReason::Stopped, "stopped on request");
}

bool Node::take_arrivals(std::vector<dhub_port_input>& states) {
    bool changed = false;
    for (std::size_t index = 0; index < inputs_.size(); ++index) {
        Input& input = inputs_[index];
        dhub_port_input& state = states[index];
        // Looked at first: a poll of an idle channel would count a read timeout on its seat.
        if (state.state != DHUB_INPUT_EMPTY || input.held || !input.consumer || !shm::readable_now(*input.consumer)) {
            continue;
        }
        shm::ReadSlot read = input.consumer->acquire_read(shm::WaitOptions{std::chrono::nanoseconds(0), {}});
        // A poll never looks at the closed flag (only a sleeping reader does): a closed channel with nothing
        // left to read is Closed here. The producer closes after its last commit, so nothing can follow; the
        // backlog is looked at again after the flag, for a last commit that landed between the two reads.
        const bool drained_and_closed = read.status() == shm::Status::Timeout && input.consumer->backlog() == 0 &&
                                        input.consumer->view().header().closed.load(std::memory_order_acquire) != 0 &&
                                        input.consumer->backlog() == 0;
        switch (drained_and_closed ? shm::Status::Closed : read.status()) {
            case shm::Status::Ok: {
                const auto payload = read.payload();
                port_slots_[index] =
                    make_slot(const_cast<std::byte*>(payload.data()), payload.size(),
                              input.consumer->view().slot_payload_bytes(), read.sequence(), read.timestamp_ns());
                state.state = DHUB_INPUT_READY;
                state.count = 1;
                if (input.consumer->latest_only()) note_read(index, read.sequence());
                input.held.emplace(std::move(read));
                changed = true;
                break;
            }
            case shm::Status::Closed:
                if (input.remote) {
                    if (on_remote_lost(input, "closed", "its producer closed it") == Step::Finished) {
                        request_stop();
                        return false;
                    }
                    break;
                }
                state.state = DHUB_INPUT_CLOSED;
                changed = true;
                break;
            case shm::Status::Timeout:
                break;
            case shm::Status::ChecksumMismatch:
                counts_.checksum_failures.fetch_add(1, std::memory_order_relaxed);
                logger_->warn("{}input slot {} on '{}' failed its checksum and was skipped", log_prefix_,
                              read.sequence(), input.channel);
                break;
            default:
                count_error(to_abi(read.status()),
                            std::string("reading '") + input.channel + "': " + shm::to_string(read.status()));
                break;
        }
    }
    return changed;
}

Node::Step Node::wait_for_arrivals(std::vector<dhub_port_input>& states) {
    std::vector<shm::Consumer*>& empty = waiting_on_;  // reused: a wait allocates nothing once warm
    empty.clear();
    for (std::size_t index = 0; index < inputs_.size(); ++index) {
        Input& input = inputs_[index];
        if (states[index].state == DHUB_INPUT_EMPTY && input.consumer) empty.push_back(&*input.consumer);
    }
    Step step = Step::Continue;
    if (empty.empty()) {
        if (stop_requested()) {
            finish(EndReason::Stopped, "stopped on request");
            return Step::Finished;
        }
        // Every input holds a slot (or is closed) and the last call released none: nothing can ever change.
        count_error(DHUB_ERR_INVALID_ARGUMENT,
                    "process_ports kept the slot of every input that has one and nothing else can arrive; it must "
                    "release at least one (the kernel releases them all now)");
        for (dhub_port_input& state : states)
            state.release = state.state == DHUB_INPUT_READY ? state.count : 0;
        settle_ports(states);
    } else if (shm::wait_any(empty, slice_wait(runner_)) == shm::Status::Timeout) {
        step = Step::TimedOut;
    }
    // Whatever the wait returned (a busy sibling input must not hide it): did the broker report the producer of
    // a remote input lost? Looked at once per slice at most.
    const std::uint64_t now = monotonic_ns();
    if (now - remote_checked_ns_ >= static_cast<std::uint64_t>(WAIT_SLICE.count())) {
        remote_checked_ns_ = now;
        for (std::size_t index = 0; index < inputs_.size(); ++index) {
            Input& input = inputs_[index];
            if (!input.remote || !input.consumer || states[index].state != DHUB_INPUT_EMPTY ||
                runner_.broker_link()->losses(input.remote_name) == input.losses_seen) {
                continue;
            }
            if (on_remote_lost(input, "producer_lost", "the broker reports its producer lost") == Step::Finished) {
                return Step::Finished;
            }
        }
    }
    return step;
}

void Node::settle_ports(std::vector<dhub_port_input>& states) {
    for (std::size_t index = 0; index < inputs_.size(); ++index) {
        dhub_port_input& state = states[index];
        // The kernel offers one slot per input: any release count releases it.
        if (state.state != DHUB_INPUT_READY || state.release == 0) continue;
        (void)release(static_cast<std::uint32_t>(index));
        state.state = DHUB_INPUT_EMPTY;
        state.count = 0;
        port_slots_[index].data = nullptr;
    }
    for (Output& output : outputs_) {
        if (!output.pending) continue;
        output.pending.reset();
        count_error(DHUB_ERR_INVALID_ARGUMENT, "process_ports returned with output '" + output.channel +
                                                   "' acquired but neither committed nor aborted; it was aborted");
    }
}

}  // namespace dhub::runtime
