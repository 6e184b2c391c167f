// SPDX-License-Identifier: Apache-2.0
// The kernel's side of the counters page (layout.hpp): created with the graph's shape, its records handed to
// the nodes that own them, removed when the kernel ends. A page may also be private (RunnerOptions::counters
// off, and a dhub-node-host, whose kernel publishes its node's counts): the same records in this process's own
// memory, so the code that counts never asks where it counts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "dhub/base/result.hpp"
#include "dhub/counters/layout.hpp"

namespace dhub::counters {

/// What the page holds records for, in graph order.
struct PageShape {
    struct Input {
        std::string channel;
        bool latest = false;
    };
    struct Node {
        std::string id;
        std::string component;
        std::string isolation = "thread";
        std::vector<Input> inputs{};
    };
    struct Channel {
        std::string name;
        std::string segment;
        std::uint32_t producer = NO_NODE;
    };
    std::string graph;
    std::string segment_prefix;
    std::string control_endpoint{};
    std::vector<Node> nodes;
    std::vector<Channel> channels;
    /// Records kept free for nodes, their inputs and channels added while the graph runs (dhub-ctl add).
    std::uint32_t spare_nodes = 0;
    std::uint32_t spare_inputs = 0;
    std::uint32_t spare_channels = 0;
};

enum class PageKind {
    Shared,   ///< "/dev/shm/dhubctr1.<segment prefix>", mode 0600, removed by the destructor
    Private,  ///< this process's memory only
};

class CountersPage {
public:
    CountersPage() = default;
    /// Shared: fails if the file cannot be created (it exists: another kernel has this segment prefix).
    static Result<CountersPage> create(const PageShape& shape, PageKind kind);
    CountersPage(CountersPage&& other) noexcept;
    CountersPage& operator=(CountersPage&& other) noexcept;
    CountersPage(const CountersPage&) = delete;
    CountersPage& operator=(const CountersPage&) = delete;
    ~CountersPage();

    bool shared() const noexcept { return !name_.empty(); }
    /// "dhubctr1.<segment prefix>" for a shared page (the file in /dev/shm), "" for a private one.
    const std::string& file_name() const noexcept { return name_; }
    PageHeader& header() const noexcept { return *reinterpret_cast<PageHeader*>(data_); }
    /// The page's bytes, for read_page (page_reader.hpp): what the kernel itself serves (its metrics endpoint).
    const std::byte* data() const noexcept { return data_; }
    NodeRecord& node(std::size_t index) const noexcept;
    /// The input-th input of node `node` (graph order).
    InputRecord& input(std::size_t node, std::size_t input) const noexcept;

    /// A node's state; a final one with why it ended (as --report spells it), written before the state.
    static void set_state(NodeRecord& record, NodeState state, std::string_view end_reason = {}) noexcept;

    /// The node's thread, after a swap: its new component's name, under the record's seqlock.
    static void set_component(NodeRecord& record, std::string_view component) noexcept;

    /// A node added while the graph runs (one thread at a time): its record and its inputs' records are written,
    /// then published to readers. Its index, or an error when the spare records are used up.
    Result<std::uint32_t> add_node(const PageShape::Node& node);
    /// A channel added while the graph runs, as add_node; producer is a NodeRecord index.
    Result<std::uint32_t> add_channel(const PageShape::Channel& channel);
    /// A node or channel that left the running graph (or a node that never got going): readers leave it out.
    void retire_node(std::uint32_t index) const noexcept;
    void retire_channel(std::uint32_t index) const noexcept;

    /// The kernel's main thread: its state, and that it is alive (heartbeat_ns = now).
    void set_state(KernelState state) const noexcept;
    void beat() const noexcept;

private:
    void reset() noexcept;
    ChannelRecord& channel(std::size_t index) const noexcept;
    /// Writes node record `index` with its inputs from input record first_input on.
    void write_node(std::uint32_t index, const PageShape::Node& node, std::uint32_t first_input) const;

    std::byte* data_ = nullptr;
    std::size_t bytes_ = 0;
    std::string name_;
};

}  // namespace dhub::counters
