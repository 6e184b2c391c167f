// SPDX-License-Identifier: Apache-2.0
#include "graph_order.hpp"

#include <algorithm>
#include <deque>
#include <functional>
#include <limits>
#include <queue>

namespace dhub::graph::detail {
namespace {

constexpr std::size_t UNSEEN = std::numeric_limits<std::size_t>::max();

/// Tarjan's algorithm without recursion: a hostile document may chain thousands of nodes.
std::vector<std::vector<std::size_t>> strongly_connected(const Adjacency& edges) {
    const std::size_t count = edges.size();
    std::vector<std::size_t> order(count, UNSEEN);
    std::vector<std::size_t> low(count, 0);
    std::vector<bool> on_stack(count, false);
    std::vector<std::size_t> stack;
    std::vector<std::pair<std::size_t, std::size_t>> calls;  // node, next edge to follow
    std::vector<std::vector<std::size_t>> components;
    std::size_t counter = 0;
    const auto visit = [&](std::size_t node) {
        order[node] = low[node] = counter++;
        stack.push_back(node);
        on_stack[node] = true;
        calls.emplace_back(node, 0);
    };
    for (std::size_t root = 0; root < count; ++root) {
        if (order[root] != UNSEEN) continue;
        visit(root);
        while (!calls.empty()) {
            auto& [node, next] = calls.back();
            if (next < edges[node].size()) {
                const std::size_t target = edges[node][next++].to;
                if (target >= count) continue;
                if (order[target] == UNSEEN) {
                    visit(target);
                } else if (on_stack[target]) {
                    low[node] = std::min(low[node], order[target]);
                }
                continue;
            }
            const std::size_t finished = node;
            calls.pop_back();
            if (!calls.empty()) low[calls.back().first] = std::min(low[calls.back().first], low[finished]);
            if (low[finished] != order[finished]) continue;
            std::vector<std::size_t> component;
            std::size_t member = 0;
            do {
                member = stack.back();
                stack.pop_back();
                on_stack[member] = false;
                component.push_back(member);
            } while (member != finished);
            components.push_back(std::move(component));
        }
    }
    return components;
}

/// The shortest way from start back to itself inside one component (breadth first).
std::vector<Edge> shortest_cycle(const Adjacency& edges, std::size_t start, const std::vector<bool>& member) {
    std::vector<const Edge*> reached_by(edges.size(), nullptr);
    std::deque<std::size_t> queue{start};
    while (!queue.empty()) {
        const std::size_t node = queue.front();
        queue.pop_front();
        for (const Edge& edge : edges[node]) {
            if (edge.to >= edges.size() || !member[edge.to]) continue;
            if (edge.to == start) {
                std::vector<Edge> cycle{edge};
                for (std::size_t at = node; at != start; at = reached_by[at]->from)
                    cycle.push_back(*reached_by[at]);
                std::reverse(cycle.begin(), cycle.end());
                return cycle;
            }
            if (reached_by[edge.to] != nullptr) continue;
            reached_by[edge.to] = &edge;
            queue.push_back(edge.to);
        }
    }
    return {};
}

}  // namespace

std::vector<std::vector<Edge>> find_cycles(const Adjacency& edges) {
    std::vector<std::vector<Edge>> cycles;
    for (std::vector<std::size_t>& component : strongly_connected(edges)) {
        const std::size_t start = *std::min_element(component.begin(), component.end());
        const bool self_loop = std::any_of(edges[start].begin(), edges[start].end(),
                                           [start](const Edge& edge) { return edge.to == start; });
        if (component.size() < 2 && !self_loop) continue;
        std::vector<bool> member(edges.size(), false);
        for (const std::size_t node : component)
            member[node] = true;
        cycles.push_back(shortest_cycle(edges, start, member));
    }
    std::sort(cycles.begin(), cycles.end(),
              [](const std::vector<Edge>& a, const std::vector<Edge>& b) { return a.front().from < b.front().from; });
    return cycles;
}

std::vector<std::size_t> start_order(const Adjacency& edges) {
    const std::size_t count = edges.size();
    // A node may start once every node it feeds has started; waiting[n] counts those still to start.
    std::vector<std::size_t> waiting(count, 0);
    std::vector<std::vector<std::size_t>> fed_by(count);
    for (std::size_t node = 0; node < count; ++node) {
        for (const Edge& edge : edges[node]) {
            if (edge.to >= count) continue;
            ++waiting[node];
            fed_by[edge.to].push_back(node);
        }
    }
    std::priority_queue<std::size_t, std::vector<std::size_t>, std::greater<>> ready;
    for (std::size_t node = 0; node < count; ++node) {
        if (waiting[node] == 0) ready.push(node);
    }
    std::vector<std::size_t> order;
    std::vector<bool> placed(count, false);
    while (!ready.empty()) {
        const std::size_t node = ready.top();
        ready.pop();
        order.push_back(node);
        placed[node] = true;
        for (const std::size_t producer : fed_by[node]) {
            if (--waiting[producer] == 0) ready.push(producer);
        }
    }
    for (std::size_t node = 0; node < count; ++node) {
        if (!placed[node]) order.push_back(node);
    }
    return order;
}

}  // namespace dhub::graph::detail
