// SPDX-License-Identifier: Apache-2.0
// The counters page: one shared-memory file per kernel ("/dev/shm/dhubctr1.<segment prefix>") holding every
// node's counts and its inputs' loss ledger, the way Aeron keeps its counters file. Each record is written by
// one thread only (a node's counts by the node's thread, with relaxed loads and stores: no locked instruction,
// no lock), so a node counts into the page exactly as it would count into its own memory. Any process may map
// the page read-only and read it at any time, also while the kernel is wedged or stopped (dhub-ctl does).
// docs/counters.md describes the fields.
#pragma once

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace dhub::counters {

/// Files are "/dev/shm/dhubctr1.<segment prefix>"; the 1 is the layout generation, as in "dhub1.".
/// A reader refuses a page claiming more records than these (a damaged file must not make it allocate wildly).
inline constexpr std::uint32_t MAX_NODES = 65536;
inline constexpr std::uint32_t MAX_INPUTS = 1u << 20;
inline constexpr std::uint32_t MAX_CHANNELS = 65536;
inline constexpr std::string_view PAGE_PREFIX = "dhubctr1.";
inline constexpr char MAGIC[8] = {'D', 'H', 'U', 'B', 'C', 'T', 'R', '1'};
/// 2: NodeRecord gained the swap counters and the component's seqlock. 3: records for nodes and channels added
/// while the graph runs (the header's *_used counts), and the retired flags of those removed.
inline constexpr std::uint32_t LAYOUT_VERSION = 3;
inline constexpr std::size_t NAME_BYTES = 64;
inline constexpr std::size_t SEGMENT_BYTES = 160;
/// Handler times, bucket k holds calls that took [2^(k-1), 2^k) ns (bucket 0: under 1 ns); the last bucket
/// holds everything from 2^30 ns (about a second) up.
inline constexpr std::size_t HISTOGRAM_BUCKETS = 32;
/// A node times one step (its wait and its handler call) in this many: two clock reads per 64 steps cost the
/// data path nothing measurable, and a thousand samples a second still give a faithful p99.
inline constexpr std::uint32_t TIMING_SAMPLE_EVERY = 64;

using Counter = std::atomic<std::uint64_t>;
static_assert(Counter::is_always_lock_free, "counters live in shared memory: they must be lock-free");

/// The kernel's view of its run, in the header (written by the kernel's main thread).
enum class KernelState : std::uint32_t { SettingUp = 0, Running = 1, Stopping = 2, Stopped = 3 };

/// A node's life (docs/kernel.md, "A node's life"): every change is a `node_state` event too. Stopped and
/// Failed are final; the record's end_reason says why.
enum class NodeState : std::uint32_t {
    Created = 0,   ///< built, its thread (or process) not started
    Starting = 1,  ///< its thread runs start() and attaches its inputs; an isolated node's process sets up
    Running = 2,
    Paused = 3,    ///< asked to pause: it takes no slot until resumed
    Draining = 4,  ///< the graph is stopping: it handles what its inputs still hold, then ends
    Stopped = 5,   ///< ended as asked or as its data did (end of stream, input closed and drained)
    Failed = 6,    ///< ended by an error: start failed, error policy, crash, watchdog, lost producer
};
inline constexpr bool is_final(NodeState state) noexcept {
    return state == NodeState::Stopped || state == NodeState::Failed;
}
/// "running", "draining", ... as events, the page's readers and dhub-ctl spell them.
const char* to_string(NodeState state) noexcept;
const char* to_string(KernelState state) noexcept;

struct alignas(64) PageHeader {
    char magic[8];
    std::uint32_t layout_version;
    std::uint32_t header_bytes;  ///< sizeof(PageHeader): a reader built against another layout refuses the page
    std::uint64_t page_bytes;
    std::uint32_t node_count;
    std::uint32_t node_record_bytes;
    std::uint32_t input_count;
    std::uint32_t input_record_bytes;
    std::uint32_t channel_count;
    std::uint32_t channel_record_bytes;
    std::uint64_t kernel_token;  ///< the kernel's ProcessIdentity token: a dead kernel's page is stale
    std::uint32_t kernel_pid;
    std::uint32_t timing_sample_every;
    std::uint64_t started_realtime_ns;
    char graph[NAME_BYTES];
    char segment_prefix[SEGMENT_BYTES];
    char control_endpoint[SEGMENT_BYTES];  ///< "ipc:///tmp/dhub-<uid>/<prefix>.ctl" (docs/control.md); "" if none
    /// CLOCK_MONOTONIC of the kernel's main thread's last beat (once a second while it runs): a reader tells a
    /// wedged kernel from a quiet one by its age.
    alignas(64) Counter heartbeat_ns;
    std::atomic<std::uint32_t> state;  ///< KernelState
    /// 1 once every name in the page is written (release): a reader that sees 0 must not read names yet.
    std::atomic<std::uint32_t> ready;
    /// How many of the node_count / input_count / channel_count records are in use: the graph's own, then those
    /// of nodes and channels added while it runs (dhub-ctl add), each written before its count is raised
    /// (release). A reader reads the records below these counts (acquire) and never the spare ones above.
    std::atomic<std::uint32_t> nodes_used;
    std::atomic<std::uint32_t> inputs_used;
    std::atomic<std::uint32_t> channels_used;
};

/// A paced source's ticks ("pacing", docs/graph.md); zero for other nodes.
struct PacingCounters {
    Counter rate_millihertz;  ///< set when the pacer is made (a restarted isolated node: again, the same)
    Counter ticks;
    Counter late_ticks;
    Counter skipped_ticks;
    Counter max_lateness_ns;
    Counter total_lateness_ns;
};

struct alignas(64) NodeRecord {
    char id[NAME_BYTES];
    char component[NAME_BYTES];
    char isolation[16];         ///< "thread" or "process"
    std::uint32_t first_input;  ///< its inputs are InputRecords [first_input, first_input + input_count)
    std::uint32_t input_count;
    // Moved per slot by the node's thread: a cache line of their own.
    alignas(64) Counter progress;  ///< moves whenever the node's thread moves: a wedged node's stands still
    Counter handled;
    Counter slots_in;
    Counter slots_out;
    Counter bytes_in;
    Counter bytes_out;
    Counter burst_calls;
    // Moved on rarer events.
    alignas(64) Counter skipped;
    Counter errors;
    Counter rejected;
    Counter checksum_failures;
    Counter overwritten;
    Counter latest_skipped;
    /// NodeState. A final state is stored with release after end_reason is written, so a reader that loads it
    /// with acquire reads the whole reason.
    std::atomic<std::uint32_t> state;
    char end_reason[32];  ///< as --report spells it ("input_closed"); "" until Stopped or Failed
    Counter restarts;     ///< an isolated node's process restarts
    /// The process the node runs in when it is not the kernel's (isolation: process): its current host's pid.
    std::atomic<std::uint32_t> process_pid;
    // One step in TIMING_SAMPLE_EVERY, timed.
    alignas(64) Counter sampled_steps;
    Counter sampled_step_ns;     ///< the sampled steps' whole time: waiting for a slot or room, and the handler
    Counter sampled_handler_ns;  ///< of which in the component's handler
    Counter handler_histogram[HISTOGRAM_BUCKETS];
    PacingCounters pacing;
    /// A swap (dhub-ctl swap) replaces the node's component: the node's thread rewrites `component` under this
    /// seqlock (odd while it writes; a reader copies the name between two equal even values).
    alignas(64) std::atomic<std::uint32_t> component_version;
    /// 1: the node was removed from the running graph (dhub-ctl remove), or never got going after an add. Its
    /// record is not reused (its id may come back in a new one): readers leave a retired record out.
    std::atomic<std::uint32_t> retired;
    Counter swaps;               ///< components swapped in
    Counter last_swap_pause_ns;  ///< the latest swap's pause: from the old instance's last step to the new one's
    Counter max_swap_pause_ns;   ///< the longest
    /// Slots its outputs' far producers committed that never arrived (a transport receiver's count_upstream_loss).
    /// Added in this line's padding: a reader that predates it never looks, and an older page holds 0 there.
    Counter upstream_lost;
};

/// One input of a node: its consumer's loss ledger. A lossless input never loses a slot; a latest-only one
/// misses those its producer wrote over before it read them, and this says which and when.
struct alignas(64) InputRecord {
    char channel[NAME_BYTES];
    std::uint32_t node;  ///< its NodeRecord's index
    /// 1: a latest-only input (the only kind with gaps); an input from another kernel sets it when it attaches.
    std::atomic<std::uint32_t> latest;
    Counter next_sequence;      ///< the sequence it expects next (the last read + 1); 0 before the first read
    Counter gaps;               ///< slots missed
    Counter gap_events;         ///< reads that came after a gap
    Counter first_gap_ns;       ///< CLOCK_MONOTONIC of the first gap seen; 0: none
    Counter last_gap_ns;        ///< and of the latest
    Counter last_gap_sequence;  ///< the first sequence of the latest gap
};

/// A channel of the graph: where to look for its ring (its fill and each reader's lag live in its segment).
struct alignas(64) ChannelRecord {
    char name[NAME_BYTES];
    char segment[SEGMENT_BYTES];         ///< for shm::Segment / shm::inspect_channel
    std::uint32_t producer;              ///< its producer's NodeRecord index; NO_NODE if another kernel writes it
    std::atomic<std::uint32_t> retired;  ///< 1: removed from the running graph; readers leave it out
};
inline constexpr std::uint32_t NO_NODE = 0xFFFFFFFFu;

/// Records follow the header in this order: nodes, inputs, channels.
constexpr std::size_t page_bytes(std::size_t nodes, std::size_t inputs, std::size_t channels) noexcept {
    return sizeof(PageHeader) + nodes * sizeof(NodeRecord) + inputs * sizeof(InputRecord) +
           channels * sizeof(ChannelRecord);
}

/// The bucket of a handler call that took ns.
constexpr std::size_t histogram_bucket(std::uint64_t ns) noexcept {
    return std::min<std::size_t>(static_cast<std::size_t>(std::bit_width(ns)), HISTOGRAM_BUCKETS - 1);
}

/// One writer, readers anywhere: a plain load and store, never a locked instruction.
inline void add(Counter& counter, std::uint64_t amount) noexcept {
    counter.store(counter.load(std::memory_order_relaxed) + amount, std::memory_order_relaxed);
}
inline void bump(Counter& counter) noexcept {
    add(counter, 1);
}
inline std::uint64_t read(const Counter& counter) noexcept {
    return counter.load(std::memory_order_relaxed);
}

}  // namespace dhub::counters
