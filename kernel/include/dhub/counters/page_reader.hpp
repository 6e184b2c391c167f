// SPDX-License-Identifier: Apache-2.0
// Reading a kernel's counters page from any process (dhub-ctl, tests, a monitoring agent). The page is mapped
// read-only, so a reader can never disturb the kernel; it is checked (magic, layout, sizes) before anything in
// it is trusted, so a page from another dhub version or a damaged file is refused with what was found.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "dhub/base/result.hpp"
#include "dhub/counters/layout.hpp"

namespace dhub::counters {

/// A copy of one NodeRecord's values.
struct NodeCounts {
    std::string id;
    std::string component;
    std::string isolation;
    NodeState state = NodeState::Created;
    std::string end_reason;  ///< "" until it stopped or failed
    std::uint64_t progress = 0;
    std::uint64_t handled = 0;
    std::uint64_t slots_in = 0;
    std::uint64_t slots_out = 0;
    std::uint64_t bytes_in = 0;
    std::uint64_t bytes_out = 0;
    std::uint64_t burst_calls = 0;
    std::uint64_t skipped = 0;
    std::uint64_t errors = 0;
    std::uint64_t rejected = 0;
    std::uint64_t checksum_failures = 0;
    std::uint64_t overwritten = 0;
    std::uint64_t latest_skipped = 0;
    std::uint64_t upstream_lost = 0;  ///< slots its outputs' far producers committed that never arrived
    std::uint64_t restarts = 0;
    std::uint32_t process_pid = 0;  ///< an isolated node's host process; 0 for a node on a kernel thread
    std::uint64_t sampled_steps = 0;
    std::uint64_t sampled_step_ns = 0;
    std::uint64_t sampled_handler_ns = 0;
    std::array<std::uint64_t, HISTOGRAM_BUCKETS> handler_histogram{};
    double pacing_rate_hz = 0;
    std::uint64_t pacing_ticks = 0;
    std::uint64_t pacing_late_ticks = 0;
    std::uint64_t pacing_skipped_ticks = 0;
    std::uint64_t pacing_max_lateness_ns = 0;
    std::uint64_t pacing_total_lateness_ns = 0;
    std::uint64_t swaps = 0;
    std::uint64_t last_swap_pause_ns = 0;
    std::uint64_t max_swap_pause_ns = 0;
};

struct InputCounts {
    std::string node;
    std::string channel;
    bool latest = false;
    std::uint64_t next_sequence = 0;
    std::uint64_t gaps = 0;
    std::uint64_t gap_events = 0;
    std::uint64_t first_gap_ns = 0;
    std::uint64_t last_gap_ns = 0;
    std::uint64_t last_gap_sequence = 0;
};

struct ChannelEntry {
    std::string name;
    std::string segment;
    std::string producer;  ///< the producing node's id; "" when another kernel writes it
};

struct KernelCounters {
    std::string file;  ///< "dhubctr1.<segment prefix>"
    std::string graph;
    std::string segment_prefix;
    std::string control_endpoint;  ///< where the kernel takes commands (docs/control.md); "" if it does not
    std::uint32_t pid = 0;
    bool alive = false;  ///< the kernel process still exists (not a page a killed kernel left)
    KernelState state = KernelState::SettingUp;
    std::uint64_t started_realtime_ns = 0;
    std::uint64_t heartbeat_age_ns = 0;  ///< how long ago the kernel's main thread last beat
    std::uint32_t timing_sample_every = 0;
    std::vector<NodeCounts> nodes;
    std::vector<InputCounts> inputs;
    std::vector<ChannelEntry> channels;
};

class PageReader {
public:
    /// file: "dhubctr1.<prefix>" as list_pages() gives it. Errors: no such page, a page from another layout, a
    /// damaged or truncated one, a page still being set up; each names the file.
    static Result<PageReader> open(std::string_view file);
    PageReader(PageReader&& other) noexcept;
    PageReader& operator=(PageReader&& other) noexcept;
    PageReader(const PageReader&) = delete;
    PageReader& operator=(const PageReader&) = delete;
    ~PageReader();

    /// The values now. Each counter is read once, relaxed: a snapshot of a running graph is a moment per
    /// counter, not one instant for all.
    KernelCounters read() const;

private:
    PageReader() = default;
    const PageHeader& header() const noexcept { return *reinterpret_cast<const PageHeader*>(data_); }

    const std::byte* data_ = nullptr;
    std::size_t bytes_ = 0;
    std::string file_;
};

/// The values of a page now: one PageReader::open checked, or a kernel's own (CountersPage::data(), private or
/// shared). file: what KernelCounters::file says.
KernelCounters read_page(const std::byte* data, std::string file);

/// The counters pages on this host ("dhubctr1.*" in /dev/shm), sorted.
std::vector<std::string> list_pages();

/// A page that cannot be read (never set up, damaged, another layout) is left by a dead kernel once it is this
/// old: a kernel sets its page up in microseconds.
inline constexpr std::uint64_t UNREADABLE_PAGE_GRACE_NS = 10'000'000'000;
/// Whether the page is a dead kernel's: readable and its kernel gone, or unreadable and older than the grace.
bool left_by_dead_kernel(const std::string& file);

/// The value under which 99 % of the sampled handler calls fall (a bucket's upper bound, ns); 0 without samples.
std::uint64_t handler_p99_ns(const NodeCounts& node) noexcept;

nlohmann::json to_json(const NodeCounts& node);
nlohmann::json to_json(const InputCounts& input);
nlohmann::json to_json(const KernelCounters& counters);

}  // namespace dhub::counters
