// SPDX-License-Identifier: Apache-2.0
// One running node: a component instance, its ports (DataBlock producer / consumers) and its thread. The C
// handle a plugin gets (dhub_node*) is a Node*. The class is one, its parts live apart: life and error
// policy in node.cpp, slot loops in node_loops.cpp, broker inputs in node_remote.cpp, the host side of the
// ABI in node_host_calls.cpp; the error policy's arithmetic is ErrorPolicyTracker, peer messages a
// MessageInbox.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <spdlog/logger.h>
#include <nlohmann/json.hpp>

#include "dhub/base/clock.hpp"
#include "dhub/counters/layout.hpp"
#include "dhub/graph/graph_spec.hpp"
#include "dhub/plugin/component_info.hpp"
#include "dhub/runtime/graph_runner.hpp"
#include "dhub/sdk/abi.h"
#include "dhub/shm/consumer.hpp"
#include "dhub/shm/producer.hpp"
#include "error_policy_tracker.hpp"
#include "graph_node.hpp"
#include "message_inbox.hpp"
#include "node_lifecycle.hpp"
#include "node_swap.hpp"
#include "source_pacer.hpp"
#include "stage_chain.hpp"

namespace dhub::runtime {

class ChannelGate;

/// The host API table every node receives (the functions find their Node through the dhub_node*).
const dhub_host_api& host_api() noexcept;

/// The ABI's now_ns() takes no node handle, so the clock it reads is the calling thread's: a node's thread
/// sets its graph's clock for as long as this lives (threads that never set one read CLOCK_MONOTONIC).
class ThreadClock {
public:
    explicit ThreadClock(const PluginClock& clock) noexcept;
    ~ThreadClock();
    ThreadClock(const ThreadClock&) = delete;
    ThreadClock& operator=(const ThreadClock&) = delete;

private:
    const PluginClock* previous_;
};

class alignas(64) Node final : public GraphNode {
public:
    struct Output {
        std::string channel;
        shm::Producer* producer = nullptr;  ///< owned by the runner's channel table
        /// The channel's validators (owned by the runner), which judge every slot before it is published. Beside
        /// producer: the per-slot path reads both.
        ChannelGate* gate = nullptr;
        std::optional<shm::WriteSlot> pending;  ///< queue mode: acquired, not yet committed
        std::string schema;                     ///< the channel's schema id, as port_schema() gives it
        std::string schema_document;            ///< its typed schema (port_schema_document()); "" if none
    };
    struct Input {
        std::string channel;                    ///< as the graph names it ("broker:<name>" for a remote one)
        std::optional<shm::Consumer> consumer;  ///< always set for a local channel; a remote one once attached
        std::optional<shm::ReadSlot> held;      ///< queue mode: acquired, not yet released
        bool remote = false;
        std::string remote_name;                          ///< the broker's name of a remote channel
        std::uint64_t losses_seen = 0;                    ///< BrokerLink::losses() when it attached
        std::string schema;                               ///< the channel's schema id, as port_schema() gives it
        shm::Delivery delivery = shm::Delivery::Channel;  ///< a remote input attaches with it
        /// A remote input: the document of `schema` when the graph declares it (null otherwise), for the
        /// evolution rule against what the producer registered.
        nlohmann::json expected_schema{};
        std::string schema_document{};  ///< the typed schema of `schema` (port_schema_document()); "" if none
        // The node thread's pace of input_gap events: at most one a second, with the slots missed since the last.
        std::uint64_t gap_event_ns = 0;
        std::uint64_t gaps_unreported = 0;
        /// Queue mode, peek_read (SDK 1.6): the slots the component keeps, oldest first; release_oldest hands back
        /// the front, peek_read grows it.
        std::optional<shm::ReadBurst> window{};
    };

    /// Where a node counts: its record in the kernel's counters page, and its inputs' records (one per input,
    /// in the graph's order). Null: in memory of its own (a channel validator's host, a node in a test).
    struct CounterRecords {
        counters::NodeRecord* node;
        counters::InputRecord* inputs;
    };

    Node(GraphRunner& runner,
         const graph::ValidatedNode& validated,
         const dhub_component_descriptor& descriptor,
         std::shared_ptr<spdlog::logger> logger,
         CounterRecords records = {nullptr, nullptr});
    ~Node() override;

    /// Calls the component's create(); the error names the node and the plugin file.
    VoidResult instantiate(const std::string& plugin_file);
    /// schema: the channel's schema id as the graph resolved it ("*" when nothing names one); schema_document
    /// its typed schema's JSON ("" for an opaque id); gate: the channel's validators, if it has any.
    void add_output(std::string channel,
                    shm::Producer* producer,
                    std::string schema,
                    std::string schema_document,
                    ChannelGate* gate) {
        outputs_.push_back({std::move(channel), producer, gate, {}, std::move(schema), std::move(schema_document)});
    }
    void add_input(std::string channel, shm::Consumer consumer, std::string schema, std::string schema_document) {
        Input& input = inputs_.emplace_back();
        input.channel = std::move(channel);
        input.consumer.emplace(std::move(consumer));
        input.schema = std::move(schema);
        input.schema_document = std::move(schema_document);
    }
    /// A channel validator's host: the channel it guards, as its input port 0, with no seat (it judges slots
    /// its producer hands it, before they are published); only port_schema and port_schema_document use it.
    void add_guarded_channel(std::string channel, std::string schema, std::string schema_document) {
        Input& input = inputs_.emplace_back();
        input.channel = std::move(channel);
        input.schema = std::move(schema);
        input.schema_document = std::move(schema_document);
    }
    /// An input another kernel produces: attached by the node's thread once the broker knows the channel.
    /// Its schema is what the component expects ("*" for any: the broker carries only the schema's hash).
    void add_remote_input(std::string channel,
                          std::string remote_name,
                          std::string schema,
                          shm::Delivery delivery,
                          nlohmann::json expected_schema) {
        inputs_.push_back({std::move(channel),
                           std::nullopt,
                           {},
                           true,
                           std::move(remote_name),
                           0,
                           std::move(schema),
                           delivery,
                           expected_schema,
                           expected_schema.is_null() ? std::string() : expected_schema.dump()});
    }

    void start_thread() override;
    void request_stop() noexcept override;
    void request_removal() noexcept override;
    /// It joins a running graph (dhub-ctl add): if its start fails, the add is refused and its error policy is
    /// not applied. Before start_thread().
    void mark_added() noexcept { added_ = true; }
    void join() override;
    bool finished() const noexcept override { return finished_.load(std::memory_order_acquire); }
    /// Its thread is attaching its broker: inputs, which may wait for their producers (and, for one on another
    /// host, for the edit lock an add of this node holds).
    bool connecting_remote() const noexcept { return connecting_remote_.load(std::memory_order_acquire); }
    bool has_inputs() const noexcept { return !inputs_.empty(); }
    bool is_graph_source() const noexcept override {
        return inputs_.empty() ||
               std::any_of(inputs_.begin(), inputs_.end(), [](const Input& input) { return input.remote; });
    }
    NodeReport report() const override;
    /// Grows while the node's thread moves (per loop step, per wait slice, per host wait): what an isolated
    /// node's watchdog watches. Any thread.
    std::uint64_t progress() const noexcept { return counters::read(counts_.progress); }
    /// Whether the thread is in sleep_until, where a source waits as long as it likes.
    bool sleeping() const noexcept { return sleeping_.load(std::memory_order_relaxed); }
    /// Moves progress(): the node's thread waits on the node's behalf elsewhere (its channels' quarantine).
    void mark_alive() const noexcept { counters::bump(counts_.progress); }

    const std::string& id() const noexcept override { return id_; }
    /// The component instance create() made (a channel validator's, for its gate to call).
    void* instance() const noexcept { return instance_; }
    const dhub_component_descriptor& descriptor() const noexcept { return descriptor_; }
    const std::vector<Output>& outputs() const noexcept { return outputs_; }
    const std::vector<Input>& inputs() const noexcept { return inputs_; }
    void deliver_message(const std::string& channel, const std::string& message) override;
    void on_graph_stopping() override;
    VoidResult pause() override;
    VoidResult resume() override;
    /// Before start_thread: the node starts paused (a dhub-node-host whose kernel restarted it while paused).
    void pause_before_start() {
        const std::lock_guard lock(sleep_mutex_);
        paused_.store(true, std::memory_order_relaxed);
        update_attention();
    }
    /// Replaces the node's component with plan's at its next step boundary (node_swap.cpp): the old instance
    /// finishes the step it is in, the new one takes the next slot. Any thread; returns when it is done. The
    /// error says why nothing changed (the old instance runs on).
    Result<SwapOutcome> swap(SwapPlan plan);
    // ---- fused stages (stage_chain.hpp, node_fused.cpp); all before start_thread ----------------------------
    /// Whether it may run the steps of the stages that read what it writes: its thread runs the real-time loop
    /// (neither queue mode nor process_ports) in bursts, so not paced by the kernel (a node kept on its tick is not
    /// given other nodes' work, and a stage driven slot by slot would lose its bursts).
    bool can_drive_stages() const noexcept { return runs_realtime_loop() && !outputs_.empty() && uses_bursts(); }
    /// Whether it may run on its upstream node's thread: a burst stage ("burst" > 1, SDK 1.2) with one input in
    /// this process that holds its producer back anyway (not latest-only), no validators on its output (their
    /// quarantine may wait), no "cpu" pin, and "fuse" not false.
    bool fusable() const noexcept;
    /// Makes it a fused stage: its thread starts it and then mostly sleeps, while its driver runs its steps.
    std::shared_ptr<StageChain> fuse() {
        chain_ = std::make_shared<StageChain>(*this);
        return chain_;
    }
    /// This node runs chain's stage after each of its own steps.
    void drive(std::shared_ptr<StageChain> chain) { driven_.push_back(std::move(chain)); }
    /// It was made a fused stage and has not taken its thread back (its driver ended, or a swap brought a component
    /// that cannot be fused). Under the runner's topology lock, as the next.
    bool fused_stage() const noexcept { return chain_ != nullptr && !took_thread_back_; }
    /// It runs on its own thread for good (GraphRunner::stage_took_its_thread_back, under the topology lock).
    void mark_thread_taken_back() noexcept { took_thread_back_ = true; }

    /// Whether swap() can replace this node's component at all: it runs the per-slot loop (not queue mode,
    /// not several ports), in the kernel's process.
    bool swappable() const noexcept { return runs_per_slot(component_, descriptor_); }
    static bool runs_per_slot(const plugin::ComponentInfo& component, const dhub_component_descriptor& descriptor);
    /// {"node", "component", "params": the values it runs with now, "live": the names set_param may change}.
    /// Any thread.
    nlohmann::json params_view() const;
    /// Changes a live parameter (declared "live": true) between two steps on the node's thread, where the
    /// component's on_param hears of it (node_params.cpp). Any thread; returns when it is done. The error says
    /// why not: unknown or not live, a value its declaration refuses, on_param refused it (the old value stays).
    Result<nlohmann::json> set_param(const std::string& name, const nlohmann::json& value);

    // ---- the host API, called from the plugin through host_api() ------------------------------------
    void log(dhub_log_level level, const char* message) const;
    void report_error(dhub_status code, const char* message);
    bool stop_requested() const noexcept override { return stop_.load(std::memory_order_acquire); }
    dhub_status sleep_until(std::uint64_t deadline_ns);
    const nlohmann::json* param(const char* name) const noexcept;
    const char* param_string(const char* name);
    const char* params_json() const noexcept { return params_texts_.back().c_str(); }
    dhub_status acquire_write(std::uint32_t port, std::int64_t timeout_ns, dhub_slot* slot);
    dhub_status commit(std::uint32_t port, std::uint64_t bytes, std::uint64_t timestamp_ns);
    dhub_status abort_write(std::uint32_t port);
    dhub_status acquire_read(std::uint32_t port, std::int64_t timeout_ns, dhub_slot* slot);
    dhub_status release(std::uint32_t port);
    dhub_status peek_read(std::uint32_t port,
                          std::int64_t timeout_ns,
                          std::uint32_t skip,
                          std::uint32_t max,
                          dhub_slot* slots,
                          std::uint32_t* count);
    dhub_status release_oldest(std::uint32_t port, std::uint32_t count);
    dhub_status flex_read(
        std::uint32_t direction, std::uint32_t port, void* buffer, std::uint64_t capacity, std::uint64_t* bytes);
    dhub_status flex_write(std::uint32_t direction, std::uint32_t port, const void* data, std::uint64_t bytes);
    dhub_status send_message(std::uint32_t direction, std::uint32_t port, const char* message);
    const char* port_schema(std::uint32_t direction, std::uint32_t port) const noexcept;
    const char* port_schema_document(std::uint32_t direction, std::uint32_t port) const noexcept;
    dhub_status port_range(std::uint32_t direction, const char* port, std::uint32_t* first, std::uint32_t* count) const;
    dhub_status channel_info(std::uint32_t direction, std::uint32_t port, dhub_channel_info* info) const noexcept;
    dhub_status count_upstream_loss(std::uint32_t port, std::uint64_t count) noexcept;

private:
    /// MustWait: a fused stage on its driver's thread needs output room, which only its own thread waits for.
    enum class Step { Continue, Finished, TimedOut, MustWait };

    void thread_main();
    /// Neither queue mode (run) nor several ports (process_ports): thread_main runs run_realtime.
    bool runs_realtime_loop() const noexcept;
    void run_realtime();
    /// A fused stage's own thread: sleeps while its driver runs its steps, wakes to attend to requests, to run
    /// what its driver could not, and to take the stage over (run_realtime) when its driver ends.
    void run_fused();
    /// Burst steps while its input holds slots it has not been offered, until `most` slots were taken, each followed
    /// by the steps of the stages this node drives. on_driver: called by the driver's thread, which leaves a
    /// request to the node's own and returns MustWait rather than wait for output room.
    Step run_fused_steps(bool on_driver, std::uint64_t most = ~std::uint64_t{0});
    /// The driver's thread, after each of its steps: runs the steps of the stages it drives that are free.
    void drive_stages();
    /// The driver's thread, ending: its stages run on their own threads from now on.
    void release_driven_stages() noexcept;
    /// Hands a fused stage to its own thread (from its driver's, under the chain's step).
    void wake_fused() noexcept;
    /// Wakes a fused stage's own thread to look at StageChain::pending (from its driver's, under chain.life).
    void nudge_fused() noexcept;
    /// A fused stage's own thread, leaving its fused loop or ending: its driver runs none of its steps any more.
    void leave_chain();
    /// A component with several ports (process_ports): node_ports.cpp.
    void run_ports();
    /// Takes the next slot of every input that holds none (without waiting); true if any arrived or closed.
    bool take_arrivals(std::vector<dhub_port_input>& states);
    /// Nothing arrived: waits for any input that holds no slot. TimedOut when a slice passed with nothing;
    /// Finished when a stop or a remote input's loss ends the node.
    Step wait_for_arrivals(std::vector<dhub_port_input>& states);
    /// After a process_ports call: releases what the handler let go, aborts outputs it left acquired.
    void settle_ports(std::vector<dhub_port_input>& states);
    void prepare_frame();
    /// Remote inputs: waits (until stop) for the broker to know the channel, checks its schema, attaches
    /// with the attach secret and registers as its consumer. False when the node must end.
    bool connect_remote_inputs();
    bool connect_remote(Input& input);
    /// A remote input whose producer was lost: detach, then wait for it again or end, by the graph's policy.
    /// cause: "closed" or "producer_lost", the input_lost event's field; what: the same in words.
    Step on_remote_lost(Input& input, const char* cause, const char* what);
    /// Sleeps for span, or until the node is asked to stop.
    void sleep_for(std::chrono::nanoseconds span);
    /// The loops' check, once per step: one relaxed load unless the node was asked to pause or to swap. False
    /// when a stop ended a pause: the loop ends without another step.
    bool attend_requests() { return !attention_.load(std::memory_order_relaxed) || attend(); }
    /// Swaps the component if asked, then sleeps while paused (until resume, a graph stop or a stop; a swap
    /// asked meanwhile is done meanwhile); false if it was a stop.
    bool attend();
    /// Under sleep_mutex_: whether the loops must look (a pause or a swap is asked).
    void update_attention() noexcept {
        attention_.store(
            paused_.load(std::memory_order_relaxed) || swap_request_ != nullptr || param_request_ != nullptr,
            std::memory_order_relaxed);
    }
    /// Hands request to the node's thread through slot (swap_request_ or param_request_) and waits for its answer;
    /// one the thread does not take within the fence timeout is withdrawn, and the error says so.
    template <typename Request, typename Value>
    Result<Value> ask_node_thread(Request*& slot, Request& request);
    /// The node's thread, at a step boundary: changes the parameter asked and answers (node_params.cpp).
    void perform_param(ParamRequest& request);
    /// The node's thread, at a step boundary: does the swap asked and answers it (node_swap.cpp).
    void perform_swap(SwapRequest& request);
    /// The node's thread, ending: a swap asked and not done is answered with why.
    void refuse_pending_swap(const std::string& why);
    /// The log prefix, for threads other than the node's (a swap rewrites it).
    std::string prefix() const {
        const std::lock_guard lock(identity_mutex_);
        return log_prefix_;
    }
    Step realtime_step();
    /// A paced source ("pacing"): sleeps until its next tick is due. False when the node is asked to stop first.
    bool wait_for_tick();
    /// Whether the node moves its slots in bursts: a source, sink or one-in-one-out stage with a burst handler
    /// and "burst" > 1.
    bool uses_bursts() const noexcept;
    /// A source's burst: acquires up to burst_ output slots, one process_burst call, one publication.
    Step source_burst_step();
    /// A sink's burst: every committed input slot up to burst_, one process_burst call, one release.
    Step sink_burst_step();
    /// A stage's burst (SDK 1.2): input burst, as many output slots, one process_burst call.
    Step stage_burst_step();
    shm::WriteBurst acquire_output_burst(std::size_t most);
    /// With an output: acquires its slot, calls the handler, commits or aborts. Without: calls the handler.
    Step handle_slot();
    /// Acquires a slot on output 0, retrying timeouts until the node is asked to stop.
    shm::WriteSlot acquire_output();
    /// The real-time handler (or the validator's validate), timed on a sampled step.
    dhub_status call_handler();
    dhub_status call_handler_untimed();
    /// A slot the handler filled for an output with validators: its timestamp resolved (0 = now_ns, the time the
    /// commit is then given), then judged. False: the slot must not be published.
    bool pass_gate(ChannelGate& gate, dhub_slot& slot, std::uint64_t now_ns);
    /// A burst's filled output slots judged by output 0's validators, unstamped ones stamped now_ns: the accepted
    /// ones lead; returns their count. Each slot's data is the burst's own (whatever the plugin left there).
    std::size_t pass_gate(ChannelGate& gate, const shm::WriteBurst& burst, std::size_t filled, std::uint64_t now_ns);
    Step on_read_failure(shm::Status status, std::uint64_t sequence);
    Step on_write_failure(shm::Status status);
    /// Counts a handler's status (slots: how many the call handled) and says whether the node goes on.
    Step account(dhub_status status, std::uint64_t slots = 1);
    /// Applies the error policy after a failed handler call or a reported error.
    /// apply_policy false: counted and reported, but not held against its on_error (an added node's failed start,
    /// which the add refuses, must not stop the graph it never joined).
    void count_error(dhub_status code, const std::string& what, bool apply_policy = true);
    void count_success() noexcept { error_policy_.on_success(); }
    /// A latest-only input's slots first..last were read: a jump past the one expected is a gap in its ledger.
    void note_read(std::size_t input, std::uint64_t first, std::uint64_t last) noexcept {
        counters::InputRecord& ledger = input_counts_[input];
        const std::uint64_t expected = counters::read(ledger.next_sequence);
        if (first > expected && expected != 0) note_gap(input, expected, first - expected);
        ledger.next_sequence.store(last + 1, std::memory_order_relaxed);
    }
    void note_read(std::size_t input, std::uint64_t sequence) noexcept { note_read(input, sequence, sequence); }
    /// Output slots published (committed).
    void count_published(std::uint64_t slots, std::uint64_t bytes) noexcept {
        counters::add(counts_.slots_out, slots);
        counters::add(counts_.bytes_out, bytes);
    }
    void note_gap(std::size_t input, std::uint64_t first_missed, std::uint64_t missed) noexcept;
    /// Whether this step is one of the timed ones (one in counters::TIMING_SAMPLE_EVERY).
    bool sample_this_step() noexcept {
        if (--steps_to_sample_ != 0) return false;
        steps_to_sample_ = counters::TIMING_SAMPLE_EVERY;
        return true;
    }
    /// Calls the handler through call (one call, or a burst); on a sampled step, times it.
    template <typename Call>
    dhub_status timed_handler(Call&& call) {
        if (step_started_ns_ == 0) return call();
        const std::uint64_t began = monotonic_ns();
        const dhub_status status = call();
        handler_ns_ = monotonic_ns() - began;
        handler_timed_ = true;
        return status;
    }
    /// A sampled step ended: its whole time, and its handler's if it called one, go into the node's record.
    void record_sample() noexcept;
    /// Gives the input's seat back, keeping what its latest-only consumer skipped for the report.
    void drop_consumer(Input& input) noexcept;
    /// A latest-only input slot was rewritten while the handler held it: counted, logged as an error.
    void on_overwritten(std::uint64_t sequence);
    void drain_messages();
    /// Records why the node ended; the first call wins.
    void finish(EndReason reason, std::string detail);
    shm::FlexZone flex_of(std::uint32_t direction, std::uint32_t port) const;
    /// Queue mode: repeats attempt(wait) in slices of WAIT_SLICE until it returns something other than
    /// Timeout, the node is asked to stop (DHUB_STOPPING) or timeout_ns passes (< 0: no limit).
    template <typename Attempt>
    dhub_status wait_in_slices(std::int64_t timeout_ns, Attempt&& attempt);

    GraphRunner& runner_;
    std::string id_;
    plugin::ComponentInfo component_;
    dhub_component_descriptor descriptor_;
    ErrorPolicyTracker error_policy_;
    std::optional<std::uint32_t> cpu_;
    std::uint32_t burst_;
    std::unique_ptr<SourcePacer> pacer_;  ///< a source with "pacing": the kernel calls it once per tick
    nlohmann::json params_;
    /// params_ as JSON text, what params_json() hands out: a change appends (never replaces), so that a pointer a
    /// plugin holds stays valid as long as the node.
    std::deque<std::string> params_texts_;
    std::map<std::string, std::string> string_params_;  ///< storage behind param_string pointers
    std::shared_ptr<spdlog::logger> logger_;
    /// "[stage:scale:gain] ". Written by the node's thread only (a swap), under identity_mutex_; other threads
    /// read it with prefix(). component_.id too: report() reads it under the same lock.
    std::string log_prefix_;
    mutable std::mutex identity_mutex_;
    /// A queue-mode component (run()): none can be swapped in or out, so this never changes.
    const bool queue_mode_;
    /// The component has on_message: what other nodes' threads look at before queueing a message (a swap sets it).
    std::atomic<bool> takes_messages_;
    bool added_ = false;       ///< mark_added()
    const bool fuse_allowed_;  ///< the graph's "fuse"

    std::vector<Output> outputs_;
    std::vector<Input> inputs_;
    /// Each declared port's indices in inputs_ / outputs_ (port_range()).
    struct PortRange {
        std::string name;
        plugin::PortDirection direction;
        std::uint32_t first = 0;
        std::uint32_t count = 0;
    };
    std::vector<PortRange> port_ranges_;
    std::vector<shm::Consumer*> waiting_on_;  ///< run_ports: the inputs it waits for (scratch)
    std::vector<dhub_slot> port_slots_;       ///< run_ports: the slot in hand per input
    std::uint64_t remote_checked_ns_ = 0;     ///< run_ports: when remote inputs' losses were last looked at
    bool in_port_handler_ = false;            ///< process_ports is running: the kernel holds the inputs
    void* instance_ = nullptr;
    std::thread thread_;

    std::atomic<bool> stop_{false};
    std::atomic<bool> connecting_remote_{false};
    std::atomic<bool> finished_{false};
    std::mutex sleep_mutex_;
    std::condition_variable sleep_wakeup_;

    MessageInbox inbox_;

    // The counts: in the kernel's counters page (docs/counters.md), written by the node's thread with plain
    // relaxed loads and stores (counters::bump), read by anyone. own_counts_ holds them when there is no page.
    std::unique_ptr<counters::NodeRecord> own_counts_;
    std::unique_ptr<counters::InputRecord[]> own_input_counts_;
    counters::NodeRecord& counts_;
    counters::InputRecord* input_counts_;
    std::atomic<bool> sleeping_{false};
    std::uint64_t latest_skipped_seen_ = 0;  ///< node thread: skips of the consumers it has dropped
    std::uint32_t steps_to_sample_ = counters::TIMING_SAMPLE_EVERY;
    std::uint64_t step_started_ns_ = 0;  ///< a sampled step's start; 0 on the others
    std::uint64_t handler_ns_ = 0;       ///< the sampled step's handler time
    bool handler_timed_ = false;         ///< the sampled step called the handler
    bool track_gaps_ = false;            ///< input 0 is latest-only: its reads are checked for gaps
    NodeLifecycle lifecycle_;            ///< its state, in counts_ and the event stream
    std::atomic<bool> paused_{false};    ///< set by pause(), cleared by resume() and a graph stop
    /// paused_ or a swap asked: what the loops check once per step (update_attention).
    std::atomic<bool> attention_{false};
    SwapRequest* swap_request_ = nullptr;    ///< a swap asked and not taken yet; guarded by sleep_mutex_
    ParamRequest* param_request_ = nullptr;  ///< a parameter change asked and not taken yet; the same
    std::mutex swap_mutex_;                  ///< one swap at a time
    bool bursts_ = false;                    ///< the loop moves slots in bursts (uses_bursts, set by prepare_frame)
    /// The node's thread is ending: requests are answered at once, not queued (guarded by sleep_mutex_).
    bool requests_closed_ = false;
    /// During a swap's create and start: the plugin's last warning or error line, for the answer's why. Guarded
    /// by identity_mutex_ (log() comes from any thread).
    bool capturing_ = false;
    mutable std::string captured_;
    EndReason end_reason_ = EndReason::Running;  ///< guarded by end_reason_mutex_, as end_detail_
    std::string end_detail_;
    mutable std::mutex end_reason_mutex_;

    /// What a real-time handler call receives, built once by prepare_frame; each slot fills in only the
    /// fields that change. Written per slot by the node's thread only.
    struct HandlerFrame {
        dhub_slot input{};
        dhub_slot output{};
        dhub_process_args args{};
    };
    alignas(64) HandlerFrame frame_;
    /// The slots of a burst call (burst_ of them, struct_size and capacity set once) and its arguments.
    std::vector<dhub_slot> burst_slots_;
    std::vector<dhub_slot> burst_inputs_;  ///< a stage's burst: its input slots (burst_slots_ are its outputs)
    std::size_t declined_ = 0;             ///< a stage's burst: input slots the last call saw and left
    dhub_burst_args burst_args_{};

    /// A fused stage's chain (set before its thread starts, then never changed).
    std::shared_ptr<StageChain> chain_;
    /// The stages this node's thread drives (this node's thread only, after start).
    std::vector<std::shared_ptr<StageChain>> driven_;
    bool wake_fused_ = false;  ///< guarded by sleep_mutex_: its driver handed it to its own thread
    /// Guarded by the runner's topology lock (GraphRunner::stage_took_its_thread_back): a fused stage that runs on
    /// its own thread for good, no longer counted as fused.
    bool took_thread_back_ = false;
    bool driven_finished_ = false;  ///< guarded by chain_->step: a step on the driver's thread ended the node
    bool driven_now_ = false;       ///< guarded by chain_->step: the step runs on the driver's thread (no waits)
};

}  // namespace dhub::runtime
