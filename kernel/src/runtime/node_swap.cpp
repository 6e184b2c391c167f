// SPDX-License-Identifier: Apache-2.0
// Swapping a node's component while it runs (docs/control.md, "swap"). The node keeps its seats, its producer
// and its counters; only the instance behind its handler changes, on the node's own thread, between two steps.
// A step ends with its slots released or published, so the old instance has handled every slot before the
// fence and the new one reads the next: on a lossless input nothing is lost or seen twice, on a latest-only
// one the slots that pass meanwhile are gaps in its ledger like any others.
#include <chrono>

#include "dhub/base/clock.hpp"
#include "dhub/counters/counters_page.hpp"
#include "dhub/events/event_log.hpp"
#include "node.hpp"
#include "node_ask.hpp"
#include "node_internals.hpp"

namespace dhub::runtime {
namespace {

/// What a node holds of its component, set aside while a new one is tried.
struct Identity {
    plugin::ComponentInfo component;
    dhub_component_descriptor descriptor;
    nlohmann::json params;
    std::map<std::string, std::string> string_params;
    void* instance;
};

/// A sequence for JSON: null when there is none (a source has no input, a sink no output).
nlohmann::json sequence_json(std::uint64_t sequence) {
    return sequence == SwapOutcome::NO_SEQUENCE ? nlohmann::json(nullptr) : nlohmann::json(sequence);
}

}  // namespace

nlohmann::json to_json(const SwapOutcome& outcome) {
    return {{"from", outcome.replaced},
            {"input_sequence", sequence_json(outcome.input_sequence)},
            {"output_sequence", sequence_json(outcome.output_sequence)},
            {"waited_ns", outcome.waited_ns},
            {"pause_ns", outcome.pause_ns}};
}

bool Node::runs_per_slot(const plugin::ComponentInfo& component, const dhub_component_descriptor& descriptor) {
    // Queue mode owns its loop, and process_ports may hold input slots from one call to the next: neither has a
    // step boundary where the kernel holds nothing.
    if (descriptor.run != nullptr) return false;
    if (descriptor.process_ports != nullptr && (component.multi_port() || descriptor.process == nullptr)) return false;
    return descriptor.process != nullptr || descriptor.validate != nullptr;
}

Result<SwapOutcome> Node::swap(SwapPlan plan) {
    const std::lock_guard one_at_a_time(swap_mutex_);
    if (!runs_per_slot(plan.component, plan.descriptor)) {
        return Error{ErrorCode::InvalidArgument,
                     "component " + plan.component.id + " from " + plan.plugin_file +
                         " runs its own loop (queue mode) or several ports: only a component with a per-slot "
                         "handler (process, or validate) can be swapped in"};
    }
    if (!swappable()) {
        return Error{ErrorCode::InvalidArgument, "node '" + id_ + "' (" + component_.id +
                                                     ") runs its own loop (queue mode) or several ports: the kernel "
                                                     "has no step boundary to swap it at"};
    }
    SwapRequest request;
    request.plan = std::move(plan);
    request.asked_ns = monotonic_ns();
    return ask_node_thread<SwapRequest, SwapOutcome>(swap_request_, request);
}

void Node::refuse_pending_swap(const std::string& why) {
    SwapRequest* swap = nullptr;
    ParamRequest* param = nullptr;
    {
        const std::lock_guard lock(sleep_mutex_);
        requests_closed_ = true;  // from now on an asker is answered at once
        swap = std::exchange(swap_request_, nullptr);
        param = std::exchange(param_request_, nullptr);
        update_attention();
    }
    const Error refused{ErrorCode::InvalidArgument, "node '" + id_ + "' " + why + ": nothing was changed"};
    if (swap != nullptr) swap->done.set_value(refused);
    if (param != nullptr) param->done.set_value(refused);
}

void Node::perform_swap(SwapRequest& request) {
    const ThreadClock clock(runner_.clock());
    // What other nodes sent before the fence is the old instance's.
    if (inbox_.pending()) drain_messages();
    const std::uint64_t fence_ns = monotonic_ns();
    SwapOutcome outcome;
    outcome.waited_ns = fence_ns - request.asked_ns;
    if (!inputs_.empty() && inputs_[0].consumer) outcome.input_sequence = inputs_[0].consumer->next_sequence();
    if (!outputs_.empty()) outcome.output_sequence = outputs_[0].producer->next_sequence();

    // What other threads read (the log prefix, the component, the params: report, params_view) changes under the
    // identity lock.
    const auto set_identity = [this](plugin::ComponentInfo component, nlohmann::json params) {
        const std::lock_guard lock(identity_mutex_);
        component_ = std::move(component);
        params_ = std::move(params);
        params_texts_.push_back(params_.dump());
        log_prefix_ = "[" + std::string(plugin::to_string(component_.kind)) + ":" + component_.id + ":" + id_ + "] ";
    };
    const auto capture = [this](bool on) {
        const std::lock_guard lock(identity_mutex_);
        capturing_ = on;
        if (on) captured_.clear();
    };
    const auto captured = [this] {
        const std::lock_guard lock(identity_mutex_);
        return captured_.empty() ? std::string("the plugin logged nothing") : "the plugin said: " + captured_;
    };

    Identity old{component_, descriptor_, params_, std::move(string_params_), instance_};
    const auto restore = [&] {
        descriptor_ = old.descriptor;
        string_params_ = std::move(old.string_params);
        instance_ = old.instance;
        set_identity(old.component, std::move(old.params));
    };
    SwapPlan& plan = request.plan;
    const std::string replaced = old.component.id;
    descriptor_ = plan.descriptor;
    string_params_.clear();
    instance_ = nullptr;
    set_identity(plan.component, plan.params);

    // Created while the old instance still runs (it is started): if the new one cannot be, nothing changes.
    capture(true);
    const dhub_status created = descriptor_.create(&host_api(), reinterpret_cast<dhub_node*>(this), &instance_);
    if (created != DHUB_OK || instance_ == nullptr) {
        const std::string why = captured();
        capture(false);
        restore();
        request.done.set_value(Error{ErrorCode::Io, "component " + plan.component.id + " from " + plan.plugin_file +
                                                        ": create failed with " + dhub_status_name(created) + " (" +
                                                        why + "); node '" + id_ + "' runs on with " + replaced});
        return;
    }
    // The old one stops before the new one starts: a device is never driven by both.
    if (old.descriptor.stop != nullptr) old.descriptor.stop(old.instance);
    if (descriptor_.start != nullptr) {
        if (const dhub_status started = descriptor_.start(instance_); started != DHUB_OK) {
            const std::string why = captured();
            capture(false);
            if (descriptor_.stop != nullptr) descriptor_.stop(instance_);
            descriptor_.destroy(instance_);
            restore();
            std::string runs_on = "node '" + id_ + "' runs on with " + replaced;
            if (descriptor_.start != nullptr && descriptor_.start(instance_) != DHUB_OK) {
                // Neither instance will run: the node ends as a node whose start failed.
                finish(EndReason::StartFailed, "start() failed again after a swap to " + plan.component.id + " failed");
                stop_.store(true, std::memory_order_release);
                runner_.notify_state_change();
                runs_on = "node '" + id_ + "' could not restart " + replaced + " either and ends";
            }
            request.done.set_value(Error{ErrorCode::Io, "component " + plan.component.id + " from " + plan.plugin_file +
                                                            ": start failed with " + dhub_status_name(started) + " (" +
                                                            why + "); " + runs_on});
            return;
        }
    }
    capture(false);
    old.descriptor.destroy(old.instance);
    takes_messages_.store(descriptor_.on_message != nullptr, std::memory_order_relaxed);
    // The ports keep their channels (the runner checked the bindings); their names are the new component's.
    for (PortRange& range : port_ranges_) {
        const auto port = static_cast<std::size_t>(&range - port_ranges_.data());
        if (port < component_.ports.size()) range.name = component_.ports[port].name;
    }
    // The new component may take bursts where the old one did not. (A remote input between two producers has no
    // consumer: the frame is prepared when it attaches again.)
    if (inputs_.empty() || inputs_[0].consumer) prepare_frame();
    const std::uint64_t pause_ns = monotonic_ns() - fence_ns;
    outcome.pause_ns = pause_ns;
    outcome.replaced = replaced;
    counters::bump(counts_.swaps);
    counts_.last_swap_pause_ns.store(pause_ns, std::memory_order_relaxed);
    if (pause_ns > counters::read(counts_.max_swap_pause_ns))
        counts_.max_swap_pause_ns.store(pause_ns, std::memory_order_relaxed);
    counters::CountersPage::set_component(counts_, component_.id);
    const nlohmann::json fence = to_json(outcome);
    logger_->info("{}swapped in for {} at input sequence {}, output sequence {}; paused {} us", log_prefix_, replaced,
                  fence["input_sequence"].dump(), fence["output_sequence"].dump(), pause_ns / 1000);
    try {
        nlohmann::json event = fence;
        event["node"] = id_;
        event["to"] = component_.id;
        runner_.events().emit("node_swapped", event);
    } catch (...) {
        // The swap is done; an event that cannot be written does not undo it.
    }
    request.done.set_value(std::move(outcome));
}

}  // namespace dhub::runtime
