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

    /// The kernel's main thread: its state, and that it is alive (heartbeat_ns = now).
    void set_state(KernelState state) const noexcept;
    void beat() const noexcept;

private:
    void reset() noexcept;

    std::byte* data_ = nullptr;
    std::size_t bytes_ = 0;
    std::string name_;
};

}  // namespace dhub::counters
