// SPDX-License-Identifier: Apache-2.0
// The graph document (graph.json, docs/graph.md) as data, and its validation. Parsing checks the shape of
// the document; validation checks it against the components the plugins declare. Both report every
// problem at once, each with the JSON pointer of where it is.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "dhub/base/result.hpp"
#include "dhub/plugin/component_info.hpp"
#include "dhub/schema/schema.hpp"
#include "dhub/shm/channel_config.hpp"

namespace dhub::graph {

inline constexpr int GRAPH_SCHEMA_VERSION = 1;

/// One problem in a graph document: where (a JSON pointer such as "/nodes/2/params/gain") and what.
/// What a problem is about: dhub-kernel exits 1 when the document itself is wrong, 3 when the only problems
/// are plugins it names that cannot be loaded (docs/kernel.md).
enum class IssueKind {
    Graph,   ///< the document: syntax, shape, names, wiring, parameters, schemas
    Plugin,  ///< a plugin the graph names could not be loaded (missing, incompatible ABI, broken)
};

struct GraphIssue {
    std::string json_path;
    std::string message;
    IssueKind kind = IssueKind::Graph;
};

/// All problems as "<file>:<json_path>: <message>" lines (file omitted when empty, path omitted when ""),
/// each ending in '\n', in document order (array indices by number, keys in the order docs/graph.md uses).
std::string format_issues(const std::vector<GraphIssue>& issues, std::string_view file);

struct ChannelValidatorSpec;

struct ChannelSpec {
    std::string name;
    std::optional<std::uint64_t> slot_bytes;  ///< absent: taken from the producer's fixed slot size
    std::uint32_t slot_count = 8;
    shm::RingPolicy ring = shm::RingPolicy::Ring;
    shm::SyncPolicy sync = shm::SyncPolicy::EveryReader;
    shm::ChecksumPolicy checksum = shm::ChecksumPolicy::None;
    std::uint64_t flex_zone_bytes = 0;
    std::uint32_t max_consumers = 16;
    /// A schema id the producer must write; for a producer that writes "*", the one its slots carry.
    std::optional<std::string> schema;
    /// Validators that guard the channel, run in this order on every slot before it is published.
    std::vector<ChannelValidatorSpec> validators;
    std::string json_path;  ///< "/channels/<i>"
};

/// What the kernel does when a node's handler keeps failing.
struct ErrorPolicy {
    enum class Action { Continue, StopNode, StopGraph };
    Action action = Action::StopNode;
    std::uint32_t max_consecutive = 10;  ///< consecutive failed handler calls before the action
};

/// Where a node runs (docs/kernel.md, "Crash isolation"): a thread of the kernel, or a process of its own
/// (dhub-node-host) that a crash or a hang cannot take the kernel with.
enum class Isolation { Thread, Process };
const char* to_string(Isolation isolation) noexcept;

/// How the kernel supervises an isolated node, after Erlang/OTP's supervisors: which ends it restarts,
/// how often before it gives up (then the node's on_error action applies), and what counts as a hang.
struct Supervision {
    /// permanent: restarted whenever it ends while the graph runs; transient: only after a crash, a hang or a
    /// failing exit; temporary: never.
    enum class Restart { Permanent, Transient, Temporary };
    Restart restart = Restart::Transient;
    std::uint32_t max_restarts = 3;      ///< at most this many restarts ...
    std::uint32_t restart_period_s = 5;  ///< ... in any window of this many seconds
    /// No sign of progress from the node's thread for this long is a hang: the process is killed and the end
    /// treated as a crash. 0: no watchdog.
    std::uint32_t watchdog_ms = 5000;
    /// Limits of the node's process ("limits"): its address space (RLIMIT_AS), the cores it may run on, its
    /// nice value.
    std::optional<std::uint64_t> memory_mb;
    std::vector<std::uint32_t> cpus;
    std::optional<int> nice;

    static constexpr std::uint32_t MAX_RESTARTS = 1'000'000;
};
const char* to_string(Supervision::Restart restart) noexcept;

/// One channel in a node's "inputs" or "outputs", bound to a port of the node's component.
struct PortBinding {
    std::string port;       ///< the map form's key; empty in the list form (bound in the component's port order)
    std::string channel;    ///< "broker:<name>" for another kernel's channel; "" when unreadable (an issue)
    std::string json_path;  ///< "/nodes/2/inputs/0", "/nodes/2/inputs/camera", "/nodes/2/inputs/in/1"
    /// Inputs only: {"channel": ..., "delivery": "latest"} reads the newest slot of a lossless channel without
    /// ever holding its producer back.
    shm::Delivery delivery = shm::Delivery::Channel;
};

/// "pacing" (docs/graph.md): the kernel calls a realtime source's handler once per tick of a fixed rate, on
/// deadlines counted from the first tick (never from the last call, so nothing drifts).
struct Pacing {
    /// A call that comes a period or more after its tick (the source or its consumers were too slow):
    /// CatchUp calls for every missed tick at once, Skip drops them (counted) and waits for the next one.
    enum class Late { CatchUp, Skip };
    double rate_hz = 0;
    Late late = Late::CatchUp;

    static constexpr double MAX_RATE_HZ = 1e6;
};
const char* to_string(Pacing::Late late) noexcept;

/// The longest node id ("id"): letters, digits, '_' and '-'. The kernel's own nodes (export-<channel>,
/// import-<channel>) are held to it too.
inline constexpr std::size_t MAX_NODE_ID = 64;

struct NodeSpec {
    std::string id;
    std::string plugin;
    std::optional<std::string> component;  ///< absent: the plugin's only component
    nlohmann::json params = nlohmann::json::object();
    /// As written: a list of channel names, or a map from port name to a channel (a list for a "many" port).
    std::vector<PortBinding> inputs;
    std::vector<PortBinding> outputs;
    ErrorPolicy on_error;
    std::optional<std::uint32_t> cpu;  ///< pin the node's thread to this core (absent: the scheduler decides)
    /// "fuse": a burst stage may run on its upstream node's thread when node threads outnumber the CPUs (false: it
    /// always runs on a thread of its own, for a component whose calls must all come from one thread). Absent:
    /// true, except for a "python" node.
    bool fuse = true;
    /// Most slots per handler call for a component with a burst handler (1: one slot per call).
    std::uint32_t burst = DEFAULT_BURST;
    std::optional<Pacing> pacing;  ///< absent: the source paces itself (or is not paced)
    /// "isolation" (the node's, else process for a "python" node, else the graph's, else thread).
    Isolation isolation = Isolation::Thread;
    Supervision supervision;  ///< used with Isolation::Process only
    /// Whether the node itself set a supervision key ("restart", "watchdog_ms", "limits", ...): refused on a node
    /// that runs as a thread, where nothing supervises it.
    bool supervision_given = false;
    std::string json_path;  ///< "/nodes/<i>"

    static constexpr std::uint32_t DEFAULT_BURST = 32;
    static constexpr std::uint32_t MAX_BURST = 4096;
};

/// A validator guarding a channel ("validators" on a channel, docs/graph.md): a validator component that the
/// producer's node runs on every slot before publishing it. A slot it rejects never reaches a consumer.
struct ChannelValidatorSpec {
    enum class OnReject { Drop, Quarantine, StopGraph };
    /// id: the validator's name on the channel ("name"; default: its plugin's name), plugin, component and
    /// params as for a node; json_path "/channels/<i>/validators/<k>". It has no inputs or outputs of its own:
    /// it judges the channel it is on.
    NodeSpec node;
    OnReject on_reject = OnReject::Drop;
    /// OnReject::Quarantine: a channel of this graph that no node writes, which receives a copy of every slot
    /// this validator rejects (for a recorder to keep).
    std::string quarantine;

    static constexpr std::size_t MAX_PER_CHANNEL = 16;
    static constexpr std::size_t MAX_NAME = 40;
    /// Rows of rejection counts per validator in the channel's segment (shm::ChannelConfig::gate_entries):
    /// this many kinds of rejection are counted apart, the last row counts the rest as "other".
    static constexpr std::uint32_t GATE_ROWS = 8;
};

const char* to_string(ChannelValidatorSpec::OnReject action) noexcept;

/// Inputs named "broker:<channel>" read a channel another kernel produces, found through the broker.
inline constexpr std::string_view REMOTE_INPUT_PREFIX = "broker:";

/// One channel the graph serves to other hosts (broker "export").
struct ExportedChannel {
    std::string channel;
    std::string endpoint;  ///< as other hosts reach it: "tcp://<host>:<port>"
    std::string bind;      ///< what its sender binds: "tcp://<bind_host>:<port>"
    std::string sender;    ///< the sender node's id: "export-<channel>", dots as '_' (-2, -3, ... if taken)
    bool operator==(const ExportedChannel&) const = default;
};

/// "broker": {"export": ...} (docs/transports.md, "Across hosts through the broker"): the kernel serves the channels
/// it publishes over the zmq transport, one port each, and registers each endpoint with the channel, so that a
/// kernel on another host that reads "broker:<name>" receives it with no change to its graph.
struct ExportSpec {
    std::string host;        ///< what other hosts connect to: a name or address of this machine
    std::string bind_host;   ///< the interface the senders bind ("bind_host"; default: host if numeric, else 0.0.0.0)
    std::uint32_t port = 0;  ///< the first exported channel's port; the next ones count up in `channels` order
    /// The channels to serve ("channels"); empty: every channel of the graph a second reader may join (not
    /// single_reader ones).
    std::vector<std::string> channels;
    std::uint32_t window = 0;  ///< lossless: slots each sender keeps for resending (0: the sender's default)
    /// CURVE: the senders' secret key file (default: the broker section's client_key, so a broker with keys means
    /// encrypted transports) and an allowlist of receivers' keys in the broker's format, whose consume globs must
    /// match the channel (default: none; any receiver that has the sender's public key, which the broker hands
    /// out with the discovery answer, gets in).
    std::optional<std::filesystem::path> curve_secret_key;
    std::optional<std::filesystem::path> allowlist;
    bool insecure = false;  ///< allow a non-loopback bind without CURVE
    /// Filled by the parser, one per exported channel.
    std::vector<ExportedChannel> endpoints;
    std::string json_path = "/broker/export";
};

/// The graph's "broker" section: where the control plane is and how this kernel talks to it.
struct BrokerSpec {
    std::string endpoint = "tcp://127.0.0.1:5570";
    bool embedded = false;  ///< run the broker inside this kernel, bound to endpoint
    /// CURVE: the broker's public key file; with it, client_key (this kernel's secret key file) is required.
    std::optional<std::filesystem::path> server_key;
    std::optional<std::filesystem::path> client_key;
    /// Embedded broker only: its secret key file and the allowlist of client keys.
    std::optional<std::filesystem::path> secret_key;
    std::optional<std::filesystem::path> allow;
    std::uint32_t heartbeat_ms = 500;
    std::uint32_t dead_after_ms = 2000;
    /// When the producer of a remote input dies or closes: wait for it to come back, or stop the node.
    enum class OnProducerLost { Wait, StopNode };
    OnProducerLost on_producer_lost = OnProducerLost::Wait;
    std::optional<ExportSpec> exported;  ///< "export": serve the published channels to other hosts
    std::string json_path = "/broker";
};

struct GraphSpec {
    int schema_version = GRAPH_SCHEMA_VERSION;
    std::string name;
    std::filesystem::path source_file;  ///< empty when parsed from text
    /// The document as read: isolated nodes' hosts parse this same text, never the file again.
    std::string source_text;
    std::vector<std::filesystem::path> plugin_path;  ///< resolved against the file's directory
    /// Typed schemas declared in "schemas" (inline or by file), each id once; channels naming one are checked
    /// against it (docs/schemas.md).
    std::vector<schema::Schema> schemas;
    std::vector<ChannelSpec> channels;
    /// False when "channels" is missing or not an array: parse_graph said so once, and validate_graph then
    /// skips the checks of the nodes' channel names (each would only repeat it) and says it skipped them.
    bool channels_listed = true;
    std::vector<NodeSpec> nodes;
    std::optional<BrokerSpec> broker;
};

/// Parses and checks the document's shape: malformed JSON (with line and column), unknown keys, wrong
/// types, missing required fields, duplicate node ids or channel names, bad policy names.
/// nullopt when the document cannot be used at all (not JSON, not an object). Otherwise a spec of everything
/// that could be read, even when there are issues, so that validate_graph can report the rest in the same
/// run; the caller must still treat any issue as fatal.
std::optional<GraphSpec> parse_graph(std::string_view text,
                                     const std::filesystem::path& source_file,
                                     std::vector<GraphIssue>& issues);
/// Reads and parses a file; a missing or unreadable file is one issue at path "".
std::optional<GraphSpec> load_graph_file(const std::filesystem::path& file, std::vector<GraphIssue>& issues);

/// Gives the components of a plugin by name (loading it if needed), or the loader's error.
using ComponentLookup = std::function<Result<std::vector<plugin::ComponentInfo>>(const std::string& plugin)>;

/// A channel bound to one of a node's ports.
struct BoundChannel {
    std::string channel;    ///< as the graph names it ("broker:<name>" for another kernel's)
    std::size_t port = 0;   ///< index into the component's ports
    std::string json_path;  ///< where the graph binds it
    shm::Delivery delivery = shm::Delivery::Channel;
};

struct ValidatedNode {
    const NodeSpec* spec = nullptr;
    plugin::ComponentInfo component;
    nlohmann::json params;  ///< every declared parameter, defaults applied
    /// The channels in the host API's index order (abi.h, "ports"): the component's ports of the direction in
    /// declaration order, a "many" port's channels in the graph's order; an unwired optional port has none.
    std::vector<BoundChannel> inputs;
    std::vector<BoundChannel> outputs;
};

/// A channel's validator, checked against its component.
struct ValidatedValidator {
    const ChannelValidatorSpec* spec = nullptr;
    ValidatedNode node;                     ///< spec->node resolved: component, params; no inputs or outputs
    std::optional<std::size_t> quarantine;  ///< index into ValidatedGraph::channels
};

struct ValidatedChannel {
    const ChannelSpec* spec = nullptr;
    shm::ChannelConfig config;  ///< name is the graph's channel name; the kernel prefixes it
    /// The schema id the slots carry: the producer's output schema; when that is "*" or absent, the channel's
    /// own "schema"; "*" when neither names one.
    std::string schema;
    /// The typed schema of `schema` when the graph declares it ("schemas"), else nullopt (an opaque id).
    std::optional<schema::Schema> descriptor;
    std::size_t producer = 0;            ///< index into ValidatedGraph::nodes
    std::vector<std::size_t> consumers;  ///< indices into ValidatedGraph::nodes
    std::vector<ValidatedValidator> validators;
    /// A quarantine channel: the index of the channel whose rejected slots it receives. Its producer is that
    /// channel's producer node, which writes it through the validators, not through an output port.
    std::optional<std::size_t> quarantine_of;
};

struct ValidatedGraph {
    const GraphSpec* spec = nullptr;
    std::vector<ValidatedNode> nodes;        ///< same order as spec->nodes
    std::vector<ValidatedChannel> channels;  ///< same order as spec->channels
    /// Node indices in start order: every consumer before its producer (reverse topological order), ties
    /// by declaration order. Always a permutation: nodes on a cycle (an issue) come last.
    std::vector<std::size_t> start_order;
    /// Every typed schema the graph knows: those it declares ("schemas"), then those its nodes' plugins declare
    /// for their ports (SDK 1.2) that the graph does not. schema_sources[i] says where schemas[i] came from:
    /// "graph", or "plugin <name> (component <id>)".
    std::vector<schema::Schema> schemas;
    std::vector<std::string> schema_sources;
    /// What is allowed but risky, at its path: e.g. a plugin that is not one of dhub's own running in the kernel's
    /// process, where a crash takes the whole graph down. dhub-kernel prints them; they never stop a run.
    std::vector<GraphIssue> warnings;
};

/// Whether plugin is one of the plugins dhub ships (plugins/ in its source tree).
bool is_builtin_plugin(std::string_view plugin) noexcept;

/// Checks the graph against the components: unknown plugin or component, unknown or wrongly typed or
/// out-of-range parameter, ports that do not fit the component's kind, unknown channels, a channel with
/// no producer or two, an input no channel feeds, a cycle, a schema mismatch between a producer's output
/// and a consumer's expected input, a slot too small for what a component declares. Every problem is
/// appended to issues; the result is usable only when issues stays empty. The result points into graph,
/// which must outlive it.
ValidatedGraph validate_graph(const GraphSpec& graph, const ComponentLookup& lookup, std::vector<GraphIssue>& issues);

}  // namespace dhub::graph
