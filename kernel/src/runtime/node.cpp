// SPDX-License-Identifier: Apache-2.0
// A node's life: construction, its thread (start, run, stop, close its outputs), why it ended, its error
// policy and its peer messages. The slot loops are in node_loops.cpp, broker inputs in node_remote.cpp, the
// host side of the plugin ABI in node_host_calls.cpp.
#include "node.hpp"

#include <pthread.h>
#include <sched.h>
#include <sys/prctl.h>

#include "broker_link.hpp"
#include "channel_gate.hpp"
#include "dhub/counters/counters_page.hpp"
#include "dhub/events/event_log.hpp"
#include "node_internals.hpp"

namespace dhub::runtime {

using namespace detail;

Node::Node(GraphRunner& runner,
           const graph::ValidatedNode& validated,
           const dhub_component_descriptor& descriptor,
           std::shared_ptr<spdlog::logger> logger,
           CounterRecords records)
    : runner_(runner),
      id_(validated.spec->id),
      component_(validated.component),
      descriptor_(descriptor),
      error_policy_(validated.spec->on_error),
      cpu_(validated.spec->cpu),
      burst_(validated.spec->burst),
      pacer_(nullptr),
      params_(validated.params),
      params_texts_{validated.params.dump()},
      logger_(std::move(logger)),
      log_prefix_("[" + std::string(plugin::to_string(component_.kind)) + ":" + component_.id + ":" + id_ + "] "),
      queue_mode_(descriptor.run != nullptr),
      takes_messages_(descriptor.on_message != nullptr),
      fuse_allowed_(validated.spec->fuse),
      own_counts_(records.node == nullptr ? std::make_unique<counters::NodeRecord>() : nullptr),
      own_input_counts_(
          records.inputs == nullptr ? std::make_unique<counters::InputRecord[]>(validated.inputs.size() + 1) : nullptr),
      counts_(records.node != nullptr ? *records.node : *own_counts_),
      input_counts_(records.inputs != nullptr ? records.inputs : own_input_counts_.get()),
      lifecycle_(id_, counts_, runner.events()) {
    if (validated.spec->pacing) pacer_ = std::make_unique<SourcePacer>(*validated.spec->pacing, &counts_.pacing);
    // validated.inputs / outputs are in port order already: each port's channels are one run of them.
    for (std::size_t port = 0; port < component_.ports.size(); ++port) {
        const plugin::PortInfo& info = component_.ports[port];
        const auto& bound = info.direction == plugin::PortDirection::Input ? validated.inputs : validated.outputs;
        PortRange range{info.name, info.direction, 0, 0};
        std::size_t index = 0;
        while (index < bound.size() && bound[index].port < port)
            ++index;
        range.first = static_cast<std::uint32_t>(index);
        while (index < bound.size() && bound[index].port == port) {
            ++index;
            ++range.count;
        }
        port_ranges_.push_back(std::move(range));
    }
}

Node::~Node() {
    request_stop();
    join();
    if (instance_ != nullptr) descriptor_.destroy(instance_);
}

VoidResult Node::instantiate(const std::string& plugin_file) {
    const ThreadClock clock(runner_.clock());  // a constructor may read the time too
    const dhub_status created = descriptor_.create(&host_api(), reinterpret_cast<dhub_node*>(this), &instance_);
    if (created != DHUB_OK || instance_ == nullptr) {
        instance_ = nullptr;
        return Error{ErrorCode::Io, "node '" + id_ + "' (component " + component_.id + " from " + plugin_file +
                                        "): create failed with " + dhub_status_name(created) + " (" +
                                        std::to_string(created) + "); the plugin's log lines above say why"};
    }
    return Ok{};
}

void Node::start_thread() {
    thread_ = std::thread([this] { thread_main(); });
}

void Node::request_stop() noexcept {
    stop_.store(true, std::memory_order_release);
    const std::lock_guard lock(sleep_mutex_);
    sleep_wakeup_.notify_all();
}

void Node::request_removal() noexcept {
    try {
        finish(EndReason::Removed, "removed from the running graph");
    } catch (...) {
        // Out of memory for the words: it still stops, its end reason "stopped".
    }
    request_stop();
}

void Node::join() {
    if (thread_.joinable()) thread_.join();
}

NodeReport Node::report() const {
    std::string component;
    {
        const std::lock_guard lock(identity_mutex_);
        component = component_.id;
    }
    const std::lock_guard lock(end_reason_mutex_);
    // A queue-mode component pulls and pushes through the host API: no handler call to count.
    using counters::read;
    const std::uint64_t handled = !queue_mode_      ? read(counts_.handled)
                                  : inputs_.empty() ? read(counts_.slots_out)
                                                    : read(counts_.slots_in);
    NodeReport report{id_,
                      std::move(component),
                      handled,
                      read(counts_.slots_in),
                      read(counts_.slots_out),
                      read(counts_.skipped),
                      read(counts_.errors),
                      read(counts_.rejected),
                      read(counts_.checksum_failures),
                      read(counts_.burst_calls),
                      read(counts_.overwritten),
                      read(counts_.latest_skipped),
                      end_reason_,
                      end_detail_};
    if (pacer_) report.pacing = pacer_->report();
    report.bytes_in = read(counts_.bytes_in);
    report.bytes_out = read(counts_.bytes_out);
    report.upstream_lost = read(counts_.upstream_lost);
    return report;
}

void Node::drop_consumer(Input& input) noexcept {
    if (input.consumer && input.consumer->latest_only()) latest_skipped_seen_ += input.consumer->skipped();
    input.consumer.reset();
}

void Node::on_overwritten(std::uint64_t sequence) {
    // Cannot happen while the producer honours the readers' holds (docs/shm-layout.md): if it does, the
    // handler may have acted on a torn slot, and that must never pass silently.
    counters::bump(counts_.overwritten);
    logger_->error("{}latest-only input slot {} was rewritten while the handler held it", log_prefix_, sequence);
}

void Node::note_gap(std::size_t input, std::uint64_t first_missed, std::uint64_t missed) noexcept {
    counters::InputRecord& ledger = input_counts_[input];
    const std::uint64_t now = monotonic_ns();
    counters::add(ledger.gaps, missed);
    counters::bump(ledger.gap_events);
    if (counters::read(ledger.first_gap_ns) == 0) ledger.first_gap_ns.store(now, std::memory_order_relaxed);
    ledger.last_gap_ns.store(now, std::memory_order_relaxed);
    ledger.last_gap_sequence.store(first_missed, std::memory_order_relaxed);
    // The event stream hears of gaps at most once a second per input (a slow latest-only reader may miss slots
    // on every read); the ledger above is exact.
    Input& where = inputs_[input];
    where.gaps_unreported += missed;
    if (where.gap_event_ns != 0 && now - where.gap_event_ns < GAP_EVENT_PERIOD_NS) return;
    try {
        runner_.events().emit("input_gap", {{"node", id_},
                                            {"input", where.channel},
                                            {"missed", where.gaps_unreported},
                                            {"first_missed_sequence", first_missed},
                                            {"gaps", counters::read(ledger.gaps)}});
    } catch (...) {
        return;  // an event that cannot be written is not worth a slot
    }
    where.gap_event_ns = now;
    where.gaps_unreported = 0;
}

void Node::on_graph_stopping() {
    {
        // A node that already knows why it ends (its error policy stopped it) is not draining: it is ending.
        const std::lock_guard lock(end_reason_mutex_);
        if (end_reason_ != EndReason::Running) return;
    }
    if (!lifecycle_.move(NodeLifecycle::State::Draining, "graph_stopping",
                         {NodeLifecycle::State::Running, NodeLifecycle::State::Paused})) {
        return;
    }
    const std::lock_guard lock(sleep_mutex_);
    paused_.store(false, std::memory_order_relaxed);  // a paused node drains too
    update_attention();
    sleep_wakeup_.notify_all();
}

VoidResult Node::pause() {
    const std::lock_guard lock(sleep_mutex_);  // before component_: a swap on the node's thread may rewrite it
    if (queue_mode_) {
        return Error{ErrorCode::InvalidArgument, "node '" + id_ + "' (" + component_.id +
                                                     ") runs its own loop (queue mode): the kernel cannot pause it"};
    }
    if (!lifecycle_.move(NodeLifecycle::State::Paused, "pause_requested", {NodeLifecycle::State::Running})) {
        return Error{ErrorCode::InvalidArgument,
                     "node '" + id_ + "' is " + to_string(lifecycle_.state()) + ": only a running node can be paused"};
    }
    paused_.store(true, std::memory_order_relaxed);
    update_attention();
    if (chain_) sleep_wakeup_.notify_all();  // a fused stage's own thread sleeps until it is needed: it is now
    return Ok{};
}

VoidResult Node::resume() {
    const std::lock_guard lock(sleep_mutex_);
    if (!lifecycle_.move(NodeLifecycle::State::Running, "resume_requested", {NodeLifecycle::State::Paused})) {
        return Error{ErrorCode::InvalidArgument,
                     "node '" + id_ + "' is " + to_string(lifecycle_.state()) + ", not paused"};
    }
    paused_.store(false, std::memory_order_relaxed);
    update_attention();
    sleep_wakeup_.notify_all();
    return Ok{};
}

bool Node::attend() {
    bool slept = false;
    std::unique_lock lock(sleep_mutex_);
    for (;;) {
        if (swap_request_ != nullptr) {
            SwapRequest* request = std::exchange(swap_request_, nullptr);
            update_attention();
            lock.unlock();
            perform_swap(*request);  // answers it: the asker may return, and `request` be gone, from here on
            lock.lock();
            continue;
        }
        if (param_request_ != nullptr) {
            ParamRequest* request = std::exchange(param_request_, nullptr);
            update_attention();
            lock.unlock();
            perform_param(*request);  // answers it, as above
            lock.lock();
            continue;
        }
        if (!paused_.load(std::memory_order_relaxed) || stop_requested()) break;
        // Asleep as far as an isolated node's watchdog is concerned: a paused node is not a hung one.
        sleeping_.store(true, std::memory_order_relaxed);
        slept = true;
        sleep_wakeup_.wait(lock);
    }
    lock.unlock();
    sleeping_.store(false, std::memory_order_relaxed);
    // Stopped meanwhile (a swap whose old instance could not start again ends the node): not one more step.
    if (stop_requested()) return false;
    if (!slept) return true;
    counters::bump(counts_.progress);
    // A paced source resumes on a new grid of ticks: the ones due while it was paused are not made up.
    if (pacer_) pacer_->anchor(runner_.clock().now_ns());
    return true;
}

void Node::record_sample() noexcept {
    const std::uint64_t step_ns = monotonic_ns() - step_started_ns_;
    step_started_ns_ = 0;
    counters::bump(counts_.sampled_steps);
    counters::add(counts_.sampled_step_ns, step_ns);
    if (!handler_timed_) return;
    handler_timed_ = false;
    counters::add(counts_.sampled_handler_ns, handler_ns_);
    counters::bump(counts_.handler_histogram[counters::histogram_bucket(handler_ns_)]);
}

void Node::finish(EndReason reason, std::string detail) {
    const std::lock_guard lock(end_reason_mutex_);
    if (end_reason_ != EndReason::Running) return;  // the first reason is the one that ended the node
    end_reason_ = reason;
    end_detail_ = std::move(detail);
}

void Node::thread_main() {
    const ThreadClock clock(runner_.clock());  // what the host API's now_ns() reads on this thread
    // Named after the node, so top -H, perf and gdb tell the node threads apart (Linux keeps 15 bytes).
    ::pthread_setname_np(::pthread_self(), id_.substr(0, 15).c_str());
    // Sources pace themselves with sleep_until: the default 50 us timer slack would blur every deadline.
    ::prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
    if (cpu_) {
        cpu_set_t cpus;
        CPU_ZERO(&cpus);
        CPU_SET(*cpu_, &cpus);
        if (::pthread_setaffinity_np(::pthread_self(), sizeof cpus, &cpus) != 0) {
            logger_->warn("{}cannot pin the node thread to cpu {} (graph \"cpu\"); it runs unpinned", log_prefix_,
                          *cpu_);
        }
    }
    lifecycle_.move(NodeLifecycle::State::Starting, "thread_started", {NodeLifecycle::State::Created});
    bool started = connect_remote_inputs();
    if (started && descriptor_.start != nullptr) {
        if (const dhub_status status = descriptor_.start(instance_); status != DHUB_OK) {
            count_error(status, "start failed", /*apply_policy=*/!added_);
            finish(EndReason::StartFailed, "start() failed");
            started = false;
        }
    }
    // The validators of the channels it writes run on this thread too: they start after the component did.
    for (Output& output : outputs_) {
        if (!started || output.gate == nullptr) continue;
        if (auto gate_started = output.gate->start(); !gate_started) {
            count_error(DHUB_ERR_IO, gate_started.error().message);
            finish(EndReason::StartFailed, gate_started.error().message);
            started = false;
        }
    }
    if (started) {
        lifecycle_.move(NodeLifecycle::State::Running, "started", {NodeLifecycle::State::Starting});
        if (paused_.load(std::memory_order_relaxed)) {
            lifecycle_.move(NodeLifecycle::State::Paused, "restarted_paused", {NodeLifecycle::State::Running});
        }
        if (descriptor_.run != nullptr) {
            const dhub_status ran = descriptor_.run(instance_);
            if (dhub_status_is_error(ran)) count_error(ran, "run ended with an error");
            if (ran == DHUB_END_OF_STREAM) {
                finish(EndReason::EndOfStream, "run() reached the end of its stream");
            } else if (dhub_status_is_error(ran)) {
                finish(EndReason::RunFailed, std::string("run() returned ") + dhub_status_name(ran));
            } else if (stop_requested()) {
                finish(EndReason::Stopped, "stopped on request");
            } else {
                finish(EndReason::RunReturned, "run() returned");
            }
        } else if (!runs_realtime_loop()) {
            run_ports();
        } else if (chain_) {
            run_fused();
        } else {
            run_realtime();
        }
    }
    // A fused stage whose start failed never ran its fused loop: its driver must forget it all the same.
    leave_chain();
    refuse_pending_swap("it ended (" + report().end_detail + ") before it reached a step boundary");
    if (descriptor_.stop != nullptr) descriptor_.stop(instance_);
    // Held slots go back, and closing the outputs lets downstream nodes drain and see the end.
    for (Input& input : inputs_) {
        input.held.reset();
        input.window.reset();
        BrokerLink* link = runner_.broker_link();
        if (input.remote && input.consumer && link->client().connected()) {
            (void)link->client().deregister_consumer(input.remote_name, link->self_tag(id_));
        }
    }
    for (Output& output : outputs_) {
        output.pending.reset();
        if (output.gate != nullptr) {
            output.gate->stop();
            output.gate->close();  // its quarantine channels end with it
        }
        output.producer->close();
    }
    // After the close: a stage it drove, now on its own thread, drains what is left and sees the end.
    release_driven_stages();
    // The seats go back now, not when the graph ends: a node that stopped early (its error policy, a lost
    // producer) must not hold a lossless channel's producer, and every other reader of it, back for the rest
    // of the run. Host calls that read an input check for a missing consumer.
    for (Input& input : inputs_)
        drop_consumer(input);
    counts_.latest_skipped.store(latest_skipped_seen_, std::memory_order_relaxed);
    const NodeReport ended = report();
    lifecycle_.end(ended.end_reason, ended.end_detail);
    runner_.events().emit(
        "node_finished",
        {{"node", id_}, {"end_reason", to_string(ended.end_reason)}, {"end_detail", ended.end_detail}});
    finished_.store(true, std::memory_order_release);
    logger_->debug("{}finished: {}", log_prefix_, report().end_detail);
    runner_.notify_state_change();
}

void Node::count_error(dhub_status code, const std::string& what, bool apply_policy) {
    // report_error may come from a plugin's own thread.
    const std::uint64_t errors = counts_.errors.fetch_add(1, std::memory_order_relaxed) + 1;
    logger_->error("{}{}: {} ({})", prefix(), what, dhub_status_name(code), code);
    // Errors may come with every slot: the event stream hears of the first ten, then of every thousandth.
    if (errors <= ERROR_EVENTS_FIRST || errors % ERROR_EVENTS_EVERY == 0) {
        runner_.events().emit("node_error",
                              {{"node", id_}, {"status", dhub_status_name(code)}, {"what", what}, {"errors", errors}});
    }
    if (!apply_policy) return;
    const auto [verdict, consecutive] = error_policy_.on_failure();
    switch (verdict) {
        case ErrorPolicyTracker::Verdict::Continue:
            return;
        case ErrorPolicyTracker::Verdict::LimitContinuing:
            logger_->warn("{}{} consecutive errors; on_error is 'continue', so the node keeps running", prefix(),
                          consecutive);
            return;
        case ErrorPolicyTracker::Verdict::StopNode:
            logger_->error(
                "{}{} consecutive errors: stopping this node (on_error: stop_node); the rest of the "
                "graph keeps running",
                prefix(), consecutive);
            finish(EndReason::ErrorPolicyNode,
                   "error policy: node stopped after " + std::to_string(consecutive) + " consecutive errors");
            stop_.store(true, std::memory_order_release);
            runner_.notify_state_change();  // a stopped source starts the drain deadline
            return;
        case ErrorPolicyTracker::Verdict::StopGraph:
            finish(EndReason::ErrorPolicyGraph,
                   "error policy: graph stopped after " + std::to_string(consecutive) + " consecutive errors");
            stop_.store(true, std::memory_order_release);
            runner_.fail("node '" + id_ + "' failed " + std::to_string(consecutive) +
                         " times in a row (on_error: stop_graph)");
            return;
    }
}

void Node::deliver_message(const std::string& channel, const std::string& message) {
    // Another node's thread: it reads the flag, never descriptor_, which a swap rewrites.
    if (takes_messages_.load(std::memory_order_relaxed)) inbox_.deliver(channel, message);
}

void Node::drain_messages() {
    // A component swapped in without on_message drops what was queued for the one before (which got what came
    // before the fence: the swap drains the inbox first).
    if (descriptor_.on_message == nullptr) {
        inbox_.drain([](const std::string&, const std::string&) {});
        return;
    }
    inbox_.drain([this](const std::string& channel, const std::string& message) {
        descriptor_.on_message(instance_, channel.c_str(), message.c_str());
    });
}

}  // namespace dhub::runtime
