// SPDX-License-Identifier: Apache-2.0
// Runs a validated graph: creates its channels (the kernel owns every segment), instantiates the nodes
// from their plugins, runs one thread per node, and shuts down in order: producers stop first, lossless
// channels drain, consumers finish when their input closes, then plugins are destroyed and segments
// removed.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "dhub/base/exit_code.hpp"
#include "dhub/base/result.hpp"
#include "dhub/graph/graph_spec.hpp"
#include "dhub/plugin/plugin_loader.hpp"
#include "dhub/runtime/plugin_clock.hpp"
#include "dhub/shm/consumer.hpp"

namespace spdlog {
class logger;
}

namespace dhub::broker {
struct ChannelRegistration;
}

namespace dhub::events {
class EventLog;
}
namespace dhub::control {
class ControlServer;
struct Request;
struct Answer;
}  // namespace dhub::control
namespace dhub::metrics {
class MetricsServer;
}
namespace dhub::counters {
class CountersPage;
struct NodeRecord;
struct InputRecord;
}  // namespace dhub::counters

namespace dhub::runtime {

class Node;
class GraphNode;
struct SwapPlan;
class HostLink;
class BrokerLink;
using events::EventLog;

struct RunnerOptions {
    /// Segment names are "<prefix>.<channel>"; default "<graph name>-<pid>", unique per kernel process, plus
    /// 64 random bits when the graph has a broker (other users' processes must not be able to guess them).
    std::string segment_prefix;
    /// After a graceful stop request, how long lossless channels may take to drain before every node is
    /// stopped outright.
    std::chrono::milliseconds drain_timeout{10'000};
    /// Publish the run's counters in a shared-memory page, "/dev/shm/dhubctr1.<segment prefix>", that any process
    /// of the kernel's user reads (dhub-ctl, docs/counters.md). Off: the nodes count in private memory (the
    /// report is the same); dhub-kernel --no-counters, for measuring what the page costs.
    bool counters_page = true;
    /// Take commands on a control endpoint (docs/control.md): a ROUTER on control_socket, or when that is empty on
    /// /tmp/dhub-<uid>/<segment prefix>.ctl; the counters page names it. dhub-kernel turns it on (--no-control:
    /// off); a program embedding the runner chooses.
    bool control = false;
    std::string control_socket;
    /// The control endpoint on TCP too (docs/control.md, "Over TCP"): only with CurveZMQ, for the clients of an
    /// allowlist, each an admin or a monitor. Empty endpoint: local only.
    struct ControlTcp {
        std::string endpoint;         ///< "tcp://HOST:PORT" (port 0: any free one; control_listening names it)
        std::string secret_key_file;  ///< the kernel's CURVE secret key (dhub-keygen); clients name its public key
        std::string allowlist_file;   ///< {"clients": [{"public_key", "name", "role": "admin" | "monitor"}]}
    } control_tcp;
    /// Serve the counters for Prometheus at this "tcp://HOST:PORT" (docs/metrics.md); empty: no metrics endpoint.
    std::string metrics;
    /// Where the event stream goes, one JSON object per line (docs/kernel.md, "Events"); empty: nowhere.
    std::filesystem::path events_file;
    /// The time plugins see (now_ns, sleep_until); none: MonotonicClock. A ManualClock runs the graph in
    /// virtual time (tests, simulations). Plugins' own threads and the timestamps a plugin leaves to the
    /// kernel stay on CLOCK_MONOTONIC.
    std::shared_ptr<const PluginClock> clock;
    /// What a node with "isolation": "process" needs to run in a dhub-node-host of its own (which reads the
    /// graph's text as the kernel read it, GraphSpec::source_text): where to find plugins and the host.
    struct Isolation {
        std::vector<std::filesystem::path> plugin_path;  ///< the kernel's --plugin-path
        std::string log_level = "info";
        /// The dhub-node-host executable; empty: $DHUB_NODE_HOST, else the one beside the running executable.
        std::filesystem::path node_host;
    } isolation;
    /// How long a node thread spins for a slot or for room before it sleeps (dhub-kernel --spin-us). None: the
    /// kernel decides, 20 us busily while every node can have a CPU of its own, 20 us yielding its CPU between
    /// looks once the nodes outnumber the CPUs (docs/kernel.md, "Waiting"); a node in a process of its own waits
    /// as its kernel decided when it started.
    std::optional<std::chrono::nanoseconds> node_spin;
    /// With node_spin: whether that spin yields the CPU between looks (dhub-node-host --spin-yield).
    bool node_spin_yields = false;
};

/// The one node a dhub-node-host runs for its kernel (GraphRunner::create_hosted).
struct HostedNode {
    std::string node_id;
    /// The seat the kernel keeps for each input channel of the node, which the host reads through.
    std::map<std::string, std::uint32_t> seats;
    std::uint64_t seat_owner = 0;  ///< the kernel's ProcessIdentity token, owner of those seats
    /// The attach secret of each input channel (a graph with a broker gives its channels one).
    std::map<std::string, std::string> attach_secrets{};
    /// The node starts paused: its kernel restarted it while it was paused (it takes no slot until resumed).
    bool start_paused = false;
};

/// Why a node ended: what supervisors and tests branch on. The report spells it as to_string() gives it;
/// docs/kernel.md lists the values. The text beside it (NodeReport::end_detail) is for people.
enum class EndReason {
    Running,           ///< "running": not finished (yet)
    EndOfStream,       ///< "end_of_stream": the source had no more data (e.g. a replay reached its end)
    InputClosed,       ///< "input_closed": the node's input was closed and drained
    Stopped,           ///< "stopped": the node was asked to stop (signal, --duration, drain timeout)
    RunReturned,       ///< "run_returned": a queue-mode run() returned on its own without an error
    StartFailed,       ///< "start_failed": the component's start() failed
    RunFailed,         ///< "run_failed": a queue-mode run() returned an error
    SchemaMismatch,    ///< "schema_mismatch": a broker input carries another schema than the graph expects
    ProducerLost,      ///< "producer_lost": a broker input's producer died and on_producer_lost is stop_node
    ErrorPolicyNode,   ///< "error_policy_node": on_error stop_node after consecutive errors
    ErrorPolicyGraph,  ///< "error_policy_graph": on_error stop_graph after consecutive errors
    Crashed,           ///< "crashed": an isolated node's process died (signal or failing exit), not restarted
    Hung,              ///< "watchdog": an isolated node showed no progress for watchdog_ms, was killed, not restarted
    Removed,           ///< "removed": taken out of the running graph (dhub-ctl remove)
};
const char* to_string(EndReason reason) noexcept;
/// to_string's inverse; Running for anything else.
EndReason end_reason_from_string(std::string_view text) noexcept;
/// Whether a node that ended for this reason failed (its state becomes "failed", not "stopped"): its start, its
/// run(), its schema, its producer, its error policy, its process (crash, watchdog).
bool is_failure(EndReason reason) noexcept;

/// What a paced source's ticks were like ("pacing", docs/graph.md); rate_hz 0 for a node without pacing.
struct PacingReport {
    double rate_hz = 0;
    std::uint64_t ticks = 0;              ///< calls made on a tick
    std::uint64_t late_ticks = 0;         ///< of those, calls a period or more after their tick
    std::uint64_t skipped_ticks = 0;      ///< ticks dropped by "late": "skip"
    std::uint64_t max_lateness_ns = 0;    ///< the latest a call came after its tick: the jitter's worst
    std::uint64_t total_lateness_ns = 0;  ///< summed over the ticks (with ticks, the mean lateness)
};

/// What one node did, for the end-of-run summary and tests.
struct NodeReport {
    std::string id;
    std::string component;
    /// Slots handled successfully: per handler call its slots (realtime); a queue-mode component has no
    /// per-slot call, so its input slots (or, for a source, its output slots).
    std::uint64_t handled = 0;
    std::uint64_t slots_in = 0;   ///< input slots the node took and handed back
    std::uint64_t slots_out = 0;  ///< output slots the node published
    std::uint64_t skipped = 0;    ///< DHUB_SKIP
    std::uint64_t errors = 0;     ///< failed handler calls and reported errors
    std::uint64_t rejected = 0;   ///< validator rejections
    std::uint64_t checksum_failures = 0;
    std::uint64_t burst_calls = 0;  ///< process_burst calls (0: the node moved one slot per call)
    /// Latest-only input slots found rewritten when the node handed them back, each logged as an error. The
    /// producer never rewrites a slot a reader holds, so this stays 0: it is the tripwire.
    std::uint64_t overwritten = 0;
    /// Slots its latest-only inputs never saw because a newer one was read instead (counted when the node ends).
    std::uint64_t latest_skipped = 0;
    EndReason end_reason = EndReason::Running;
    std::string end_detail;            ///< the reason in words, with what and where ("input 'cam0' closed")
    std::string isolation = "thread";  ///< "thread" or "process"
    /// An isolated node: each restart's cause, in order ("killed by SIGSEGV (signal 11)", "watchdog: ...").
    std::vector<std::string> restarts{};
    PacingReport pacing{};
    std::uint64_t bytes_in = 0;   ///< payload bytes of the input slots it took
    std::uint64_t bytes_out = 0;  ///< payload bytes of the output slots it published
    /// Slots lost before they reached the node's outputs: a transport receiver's count of the sequence numbers
    /// its far producer committed that never arrived (count_upstream_loss).
    std::uint64_t upstream_lost = 0;
};

/// A channel validator's work in a run (docs/graph.md, "validators").
struct ValidatorReport {
    std::string channel;
    std::string validator;       ///< its name on the channel
    std::string on_reject;       ///< drop / quarantine / stop_graph
    std::string quarantine;      ///< the quarantine channel; "" unless on_reject is quarantine
    std::uint64_t judged = 0;    ///< slots it was asked about (a slot an earlier validator rejected is not)
    std::uint64_t rejected = 0;  ///< slots it rejected, never published
    std::map<std::string, std::uint64_t> reasons;  ///< rejected by kind ("out_of_range": 3)
};

/// A node's report as --report writes it (and dhub-node-host sends it to its kernel).
/// A paced node's ticks as the report's "pacing" object (with mean_lateness_ns); null for a node without pacing.
nlohmann::json to_json(const PacingReport& pacing);
nlohmann::json to_json(const NodeReport& report);
nlohmann::json to_json(const std::vector<ValidatorReport>& reports);
/// Reads what to_json wrote; fields missing or of the wrong type read as 0 / empty (a report is statistics).
NodeReport node_report_from_json(const nlohmann::json& value);
std::vector<ValidatorReport> validator_reports_from_json(const nlohmann::json& value);

/// Which step of setting a graph up failed. dhub-kernel's exit code follows from it, never from the text.
enum class SetupStep {
    Broker,    ///< the control-plane link (keys, embedded broker, endpoint)
    Channel,   ///< creating a channel's segment
    Plugin,    ///< loading a node's plugin, or finding its component in it
    Node,      ///< the component's create() refused
    Input,     ///< attaching a node to a local input channel
    Events,    ///< creating the --events file
    Counters,  ///< creating the counters page
    Control,   ///< binding the control endpoint
    Metrics,   ///< binding the metrics endpoint
};
struct SetupError {
    SetupStep step;
    Error error;  ///< names the node or channel and what to do
};
/// PluginError for Plugin and Node, RuntimeError for the rest.
ExitCode exit_code_of(SetupStep step) noexcept;

class GraphRunner {
public:
    /// Creates channels and nodes (nothing runs yet). Errors name the node or channel and the file. The loader
    /// must outlive the runner (its plugins' code runs until the runner is gone; swap_node loads through it).
    static Result<std::unique_ptr<GraphRunner>, SetupError> create(const graph::ValidatedGraph& graph,
                                                                   plugin::PluginLoader& loader,
                                                                   RunnerOptions options = {});
    /// dhub-node-host's runner: the one node `hosted.node_id` of a graph its kernel runs, on the kernel's
    /// segments (options.segment_prefix): it adopts the channels the node writes (the kernel handed them over),
    /// reads its inputs through the kernel's seats, runs its outputs' validators, and reports through link.
    static Result<std::unique_ptr<GraphRunner>, SetupError> create_hosted(const graph::ValidatedGraph& graph,
                                                                          plugin::PluginLoader& loader,
                                                                          const HostedNode& hosted,
                                                                          RunnerOptions options,
                                                                          const HostLink& link);
    ~GraphRunner();
    GraphRunner(const GraphRunner&) = delete;
    GraphRunner& operator=(const GraphRunner&) = delete;

    /// Starts the node threads, consumers before producers.
    void start();
    /// Asks for a graceful stop (sources stop, channels drain). Safe from any thread, idempotent. The first
    /// request emits `stop_requested` with its cause (docs/kernel.md lists them: "SIGINT", "duration", ...).
    void request_stop(std::string_view cause = "caller");
    /// Waits until every node has finished (after request_stop, or when all finished on their own, e.g.
    /// a replay reached its end), then destroys the nodes. Returns the exit code of the run.
    ExitCode wait();
    /// start(), then wait(); after duration a graceful stop is requested (as on SIGINT) unless the graph
    /// ended before. What `dhub-kernel --duration` runs.
    ExitCode run_for(std::chrono::nanoseconds duration);

    /// Pauses a running node (it takes no slot until resumed: a lossless channel it reads fills and holds its
    /// producer back, a latest-only one's slots pass it by, a source makes none) and resumes it. The error names
    /// the node and why not: unknown, not running (or not paused), queue mode. A node in its own process is paused
    /// by its host. Any thread.
    VoidResult pause_node(std::string_view id);
    VoidResult resume_node(std::string_view id);
    /// What to swap in for a running node (dhub-ctl swap): a plugin as a graph names it, its component ("": the
    /// plugin's only one) and parameters (null: the node's own).
    struct SwapSpec {
        std::string plugin;
        std::string component;
        nlohmann::json params;
    };
    /// Replaces a running node's component at a sequence fence (docs/control.md, "swap"): the graph with the new
    /// component must validate and keep every channel's schema and binding, its plugin must load, and the new
    /// instance must create and start; otherwise the error says why and the old instance runs on. The answer:
    /// the fence (input and output sequences), how long it waited for it and how long the node paused. Any thread;
    /// one swap at a time.
    Result<nlohmann::json> swap_node(std::string_view id, const SwapSpec& swap);
    /// A node's parameters as it runs with them and the names of its live-tunable ones (docs/control.md, "Live
    /// parameters"); a node in its own process: those the graph gives it, none live. Any thread.
    Result<nlohmann::json> node_params(std::string_view id);
    /// Changes a live-tunable parameter of a running node: checked against its declaration, set between two steps
    /// on the node's thread, where the component's on_param hears of it. Answer: {"node", "name", "from", "to"}.
    Result<nlohmann::json> set_node_param(std::string_view id, const std::string& name, const nlohmann::json& value);
    /// Adds a node (a sink or stage, typically) to the running graph (docs/control.md, "add"): `spec` is the node as a
    /// graph's "nodes" lists it, `channels` (an array, or null) the new channels it writes, as "channels" lists them.
    /// The graph with them must validate; the node runs in a thread of the kernel, reads its inputs from the slot after
    /// the newest one written when it attached, and the answer comes once it runs (or why it could not: then nothing of
    /// it stays). Any thread; one change of the graph at a time.
    Result<nlohmann::json> add_node(const nlohmann::json& spec, const nlohmann::json& channels);
    /// Stops a node for good and takes it out of the running graph with the channels it writes, which
    /// nothing else may read any more (docs/control.md, "remove"). Its seats go back: a lossless channel stops
    /// waiting for it. The answer holds its final report, which the run's report keeps too. Any thread.
    Result<nlohmann::json> remove_node(std::string_view id);

    /// Where a "broker:<name>" input of a producer on another host is read locally (docs/transports.md, "Across
    /// hosts through the broker"): a channel "import.<name>" of the remote geometry and schema, written by a
    /// zmq_receive node "import-<name>" this kernel adds, connected to the endpoint the producer's kernel
    /// registered. Every input of this kernel that reads the remote channel shares it; one made for another
    /// endpoint, geometry or schema, or whose receiver ended, is replaced. A node thread calls it; cancelled()
    /// ends a wait for another change of the graph. The receivers stop once every other node has ended.
    struct ImportedChannel {
        std::string channel;  ///< the local channel's name in this graph
        std::string segment;
        std::string attach_secret;
        std::string endpoint;  ///< where its receiver connects
    };
    Result<ImportedChannel> import_channel(const broker::ChannelRegistration& remote,
                                           const std::function<bool()>& cancelled);

    std::vector<NodeReport> reports() const;
    /// Every channel validator's counts, channels in graph order, validators in their channel's order.
    std::vector<ValidatorReport> validator_reports() const;
    const std::string& segment_prefix() const noexcept { return options_.segment_prefix; }

    /// Called by nodes (their thread) when their error policy, or a channel validator's stop_graph, says stop the
    /// whole graph; cause goes into the stop_requested event.
    void fail(const std::string& why, std::string_view cause = "error_policy_graph");
    /// An isolated node whose process could not create it the first time: the graph stops, and the kernel exits
    /// as it does when a component in a thread refuses to start (ExitCode::PluginError), whatever on_error says.
    void fail_start(const std::string& why);
    /// Delivers a peer message to every other node on the channel.
    void broadcast(const GraphNode& sender, const std::string& channel, const std::string& message);
    /// dhub-node-host: a peer message from the kernel for the hosted node.
    void deliver_to_hosted(const std::string& channel, const std::string& message);
    /// dhub-node-host: the hosted node's counts, progress (Node::progress) and whether it sleeps in the host.
    NodeReport hosted_report(std::uint64_t* progress, bool* sleeping) const;
    const PluginClock& clock() const noexcept { return *options_.clock; }
    /// How long node threads spin before they sleep, as decided for the graph's nodes now (RunnerOptions::node_spin).
    /// Read by every node thread at every wait: a graph that grows beyond its CPUs starts yielding at once.
    std::chrono::nanoseconds node_spin() const noexcept {
        return std::chrono::nanoseconds(node_spin_ns_.load(std::memory_order_relaxed));
    }
    /// Whether that spin yields the CPU between looks (shm::WaitOptions::yield). Read apart from node_spin(): a
    /// wait that reads one before a change and the other after still waits in a way the kernel could have chosen.
    bool node_spin_yields() const noexcept { return node_spin_yields_.load(std::memory_order_relaxed); }
    /// The event stream (a no-op without RunnerOptions::events_file). Any thread.
    EventLog& events() noexcept { return *events_; }
    /// The control-plane link when the graph has a "broker" section, else nullptr.
    BrokerLink* broker_link() const noexcept { return broker_link_.get(); }
    /// Wakes wait(): a node finished or was asked to stop. Any thread. wait() sleeps until this (or the
    /// drain deadline) instead of polling, so a running graph costs the kernel's main thread no wake-ups on
    /// cores that pinned node threads spin on.
    void notify_state_change();
    /// A fused stage's own thread took the stage back for good (docs/kernel.md, "Fused stages"): it is no longer
    /// counted as fused, and after a swap to a component that cannot be fused, which makes it one more thread that
    /// waits, the spin is decided again. Emits stage_unfused. From the stage's own thread.
    void stage_took_its_thread_back(Node& stage, bool driver_ended);

private:
    GraphRunner() = default;
    struct Channel;
    static constexpr std::uint64_t NEVER = ~0ULL;
    /// Decides node_spin() for a graph of `nodes` node threads (fused stages' threads sleep, and do not count): logs
    /// and emits node_wait when it changes. With topology_mutex_ held: shared by start(), which ends before any edit
    /// can begin, exclusive by the edits. Never throws (it runs while the graph's shape changes).
    void update_node_spin(std::size_t nodes) noexcept;
    /// wait(), requesting a graceful stop at stop_at (CLOCK_MONOTONIC ns; NEVER: only on request).
    ExitCode wait_and_stop_at(std::uint64_t stop_at);
    /// The validators of channel `index` (graph order), if it has any: their instances and the channel's gate.
    /// channels[i] is the graph's channel i (its quarantine channels are looked up there too).
    VoidResult create_gate(const graph::ValidatedGraph& graph,
                           std::size_t index,
                           const std::vector<Channel*>& channels,
                           plugin::PluginLoader& loader,
                           const std::shared_ptr<spdlog::logger>& logger);
    /// channels_ as create_gate takes them.
    std::vector<Channel*> channel_pointers() const;
    /// Runs the plugin's init once per run, before its first node is created; the error names the plugin.
    VoidResult initialise(const plugin::LoadedPlugin& plugin, const std::string& node_id);
    /// Loads the node's plugin and component, builds its Node with its outputs (inputs are the caller's); it
    /// counts into node_counts and input_counts (its records in the counters page), or memory of its own.
    Result<std::unique_ptr<Node>, SetupError> build_node(const graph::ValidatedGraph& graph,
                                                         const graph::ValidatedNode& validated,
                                                         plugin::PluginLoader& loader,
                                                         const std::shared_ptr<spdlog::logger>& logger,
                                                         counters::NodeRecord* node_counts = nullptr,
                                                         counters::InputRecord* input_counts = nullptr);
    /// An isolated node's supervisor: its inputs' seats taken here, its channels handed to its hosts.
    Result<std::unique_ptr<GraphNode>, SetupError> build_isolated(const graph::ValidatedGraph& graph,
                                                                  std::size_t node_index,
                                                                  const std::shared_ptr<spdlog::logger>& logger);
    std::size_t channel_index(const std::string& name) const;
    /// A channel's segment (and its broker registration, with a broker), as the graph declares it.
    Result<std::unique_ptr<Channel>, SetupError> make_channel(const graph::ValidatedChannel& validated);
    /// Attaches node to its inputs: seats on local channels (it joins their members), broker inputs to connect.
    VoidResult attach_inputs(const graph::ValidatedGraph& graph, const graph::ValidatedNode& validated, Node& node);
    /// add_node and remove_node's checks, with edit_mutex_ held: the graph runs and is not stopping.
    VoidResult check_editable(std::string_view what) const;
    /// The channels nodes_[index] writes: its outputs and their validators' quarantine channels. With edit_mutex_.
    std::vector<std::string> written_by(std::size_t index) const;
    /// Takes nodes_[index] (and the channels only it writes) out of the graph's structures, stops it and waits for
    /// it to end; its report, which the run's report keeps if keep_report. Refused once wait() saw the graph end.
    /// With edit_mutex_ held.
    Result<NodeReport> take_out(std::size_t index, bool keep_report);
    /// swap_node's checks: the running graph with node `id` given `swap` validates, binds the node's channels as
    /// they are bound and keeps every channel's schema. The plan for the node, or why not.
    Result<SwapPlan> plan_swap(std::size_t node_index, const SwapSpec& swap);
    /// GET /metrics (docs/metrics.md), on the metrics endpoint's thread: the counters page and the channels' rings.
    std::string render_metrics() const;
    /// A control request (docs/control.md), on the control endpoint's thread.
    control::Answer answer(const control::Request& request);
    /// A local input's seat for node validated (the node's name in the consumer table).
    Result<shm::Consumer, SetupError> attach_input(const graph::ValidatedGraph& graph,
                                                   const graph::ValidatedNode& validated,
                                                   const graph::BoundChannel& input);

    RunnerOptions options_;
    // Declared before nodes_: node threads notify until they end, and nodes_ is destroyed (joining them)
    // before these are.
    std::mutex state_mutex_;
    std::condition_variable state_changed_;
    std::uint64_t state_generation_ = 0;       ///< guarded by state_mutex_; +1 per notify_state_change
    std::unique_ptr<EventLog> events_;         ///< declared first: the link and the nodes emit until they are gone
    std::unique_ptr<BrokerLink> broker_link_;  ///< declared before channels_ and nodes_: destroyed after them
    /// The nodes count into it (declared before nodes_: destroyed after them); nullptr in a dhub-node-host.
    std::unique_ptr<counters::CountersPage> counters_;
    /// Guards the shape of channels_ and nodes_ (and each channel's members) while add and remove change it
    /// (exclusive) and node threads, the endpoints' threads and wait() walk it (shared).
    mutable std::shared_mutex topology_mutex_;
    std::vector<std::unique_ptr<Channel>> channels_;
    std::vector<std::unique_ptr<GraphNode>> nodes_;
    /// The final reports of nodes removed while the graph ran, and the counts of the validators of the channels
    /// that went with them (guarded by topology_mutex_): the run's report keeps them.
    std::vector<NodeReport> removed_reports_;
    std::vector<ValidatorReport> removed_validator_reports_;
    /// Nodes taken out of nodes_ that have not ended yet (guarded by topology_mutex_): wait() waits for them too.
    std::size_t pending_removals_ = 0;
    /// wait() saw every node end: the graph takes no new node (guarded by topology_mutex_).
    bool closed_ = false;
    /// dhub-node-host: the link to the kernel, and the one node it runs (nullptr in a kernel).
    const HostLink* host_link_ = nullptr;
    Node* hosted_ = nullptr;
    int graph_fd_ = -1;  ///< a memfd holding the graph's text, for isolated nodes' hosts (-1: none yet)
    /// Plugins whose init (SDK 1.2) ran, in that order: their shutdown runs after nodes_ is gone, last first.
    std::vector<const plugin::LoadedPlugin*> initialised_;
    std::vector<std::size_t> start_order_;
    std::atomic<bool> started_{false};
    std::atomic<std::int64_t> node_spin_ns_{0};  ///< node_spin(); set by update_node_spin
    std::atomic<bool> node_spin_yields_{false};  ///< node_spin_yields(); set by update_node_spin
    bool node_spin_announced_ = false;           ///< guarded by topology_mutex_ (update_node_spin)
    /// The nodes in nodes_ that start() made fused stages (stage_fusion.hpp); guarded by topology_mutex_.
    std::size_t fused_stages_ = 0;
    bool waited_ = false;
    std::atomic<bool> failed_{false};
    std::atomic<bool> start_failed_{false};    ///< fail_start(): exit PluginError rather than RuntimeError
    std::atomic<bool> stop_announced_{false};  ///< stop_requested is emitted once, with the first cause
    std::string graph_name_;
    /// Its thread calls into the nodes until it is gone: the destructor's first step resets it.
    std::unique_ptr<control::ControlServer> control_;
    /// Reads the counters page and the channels' segments until it is gone: reset first too.
    std::unique_ptr<metrics::MetricsServer> metrics_;
    // What a swap or an add checks against (a kernel's runner only): the graph as it runs now (a swap rewrites its
    // node, add and remove add and take out nodes and channels), each node's channels as bound, each channel's
    // schema id, each node's and channel's record in the counters page. Parallel to nodes_ and channels_.
    plugin::PluginLoader* loader_ = nullptr;
    std::mutex edit_mutex_;  ///< one change of the graph at a time (swap, set_param, add, remove); guards these
    std::unique_ptr<graph::GraphSpec> running_spec_;
    struct Binding {
        std::vector<graph::BoundChannel> inputs;
        std::vector<graph::BoundChannel> outputs;
    };
    std::vector<Binding> bindings_;
    std::vector<plugin::ComponentInfo> running_components_;  ///< each node's component as it runs now
    std::vector<std::string> channel_schemas_;
    std::vector<std::uint32_t> node_records_;
    std::vector<std::uint32_t> channel_records_;
    /// Channels this kernel does not publish to the broker, whatever its broker section says: imports from other
    /// hosts, which their producer publishes (guarded by edit_mutex_).
    std::set<std::string> unpublished_channels_;
    /// The receivers of import_channel, by remote channel name (guarded by imports_mutex_), and their node ids
    /// (guarded by topology_mutex_: wait() stops them once every other node has ended).
    struct Import {
        std::string node;
        nlohmann::json transport;
        std::uint64_t slot_bytes = 0;
        std::uint64_t slot_count = 0;
        std::string schema_hash;
        std::uint64_t producer_pid = 0;  ///< the producer process whose registration it was made for
        std::uint64_t producer_start_ticks = 0;
    };
    std::mutex imports_mutex_;
    std::map<std::string, Import> imports_;
    std::set<std::string> import_nodes_;

    /// add_node and remove_node with edit_mutex_ held.
    Result<nlohmann::json> add_locked(const nlohmann::json& spec, const nlohmann::json& channels);
    Result<nlohmann::json> remove_locked(std::string_view id);
    /// Whether node id is in the graph and neither ended nor asked to stop.
    bool node_alive(const std::string& id) const;
    /// base, or base with "-2", "-3", ... appended if the graph has a node of that id.
    std::string unused_node_id(const std::string& base) const;
    /// The local channel's segment and attach secret, under the topology lock.
    Result<ImportedChannel> locate_import(const std::string& channel, const std::string& endpoint) const;
    /// wait(): once every node but the import receivers has ended, nothing reads what they receive.
    void stop_idle_imports();
    /// wait(): an export sender that failed or was removed serves nobody; its channel's registration drops the
    /// transport, so that other hosts are told it is unreachable instead of connecting to nothing.
    void withdraw_failed_exports();
    /// The node id ended (or was removed) with report: if it is an export sender that will not serve again, its
    /// channel is registered again without the transport. The caller holds topology_mutex_ exclusively.
    void export_sender_ended(const std::string& id, const NodeReport& report);
    /// add_node: the channels an add made, served to other hosts as the graph's "export" serves its own (when it
    /// names no "channels"): a sender node each, and their registrations name it. What it served, for the answer:
    /// [{"channel", "node", "endpoint"}]. The caller holds edit_mutex_.
    nlohmann::json export_added_channels(const nlohmann::json& channels);
    /// Whether node id is the export sender of one of channels (a removal of their writer takes it along).
    bool is_export_sender_of(const std::string& id, const std::vector<std::string>& channels) const;
    /// The export senders the kernel added (for the graph's channels, or for channels added live) and still has:
    /// node id -> its channel, and whether the channel's registration names it (guarded by topology_mutex_).
    struct ExportSender {
        std::string channel;
        bool advertised = false;
    };
    std::map<std::string, ExportSender> export_senders_;
};

}  // namespace dhub::runtime
