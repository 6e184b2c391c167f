// SPDX-License-Identifier: Apache-2.0
// The graph as nodes joined by channels: cycles and start order. Plain graph algorithms on indices, kept
// apart from the document so they can be reasoned about (and tested) on their own.
#pragma once

#include <cstddef>
#include <vector>

namespace dhub::graph::detail {

/// Data flows from node `from` to node `to` through channel `channel` (the producer's outputs[output]).
struct Edge {
    std::size_t from = 0;
    std::size_t to = 0;
    std::size_t channel = 0;
    std::size_t output = 0;
};

/// edges[n]: the edges leaving node n.
using Adjacency = std::vector<std::vector<Edge>>;

/// One cycle for each group of nodes that reach each other (strongly connected component), as the edges
/// around it from its lowest-index node back to that node; ordered by that node. Empty when acyclic.
std::vector<std::vector<Edge>> find_cycles(const Adjacency& edges);

/// Node indices with every node after all the nodes it feeds (consumers first); ties by index. Nodes on a
/// cycle have no such place and come last, by index, so the result is always a permutation.
std::vector<std::size_t> start_order(const Adjacency& edges);

}  // namespace dhub::graph::detail
