// SPDX-License-Identifier: Apache-2.0
// Questions about a validated graph's shape that setting it up and changing it while it runs (add, remove) both
// ask: which channels a node writes, where it runs, what its counters record holds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "dhub/counters/counters_page.hpp"
#include "dhub/graph/graph_spec.hpp"

namespace dhub::runtime {

/// Records the counters page keeps free for what `dhub-ctl add` brings to a running graph. A page never reuses a
/// record (a reader may still be comparing it with its last sample), so these bound the adds of one run.
inline constexpr std::uint32_t SPARE_NODES = 64;
inline constexpr std::uint32_t SPARE_INPUTS = 256;
inline constexpr std::uint32_t SPARE_CHANNELS = 64;

/// The channels node writes: its outputs, and the quarantine channels of their validators (its thread runs them);
/// indices into graph.channels, each once.
std::vector<std::size_t> written_channels(const graph::ValidatedGraph& graph, const graph::ValidatedNode& node);

/// The index of the channel the graph names `name` (validation guarantees there is one).
std::size_t graph_channel_index(const graph::ValidatedGraph& graph, const std::string& name);

bool isolated(const graph::ValidatedNode& node);

/// The issues as format_issues lists them, without the last newline: what a refusal of a change quotes.
std::string listed_issues(const std::vector<graph::GraphIssue>& issues);

/// The node's record in the counters page: its id, component, isolation and inputs (latest-only or not).
counters::PageShape::Node page_node(const graph::ValidatedGraph& graph, const graph::ValidatedNode& node);

}  // namespace dhub::runtime
