// SPDX-License-Identifier: Apache-2.0
// format_issues: the report a person reads, one line per issue in the order of the document.
#include <algorithm>
#include <array>
#include <charconv>

#include "dhub/graph/graph_spec.hpp"

namespace dhub::graph {
namespace {

// Every key of the format in the order docs/graph.md writes them. One list serves every level because no
// key appears at two levels in a different relative order ("name" comes first wherever it is used).
constexpr std::array<std::string_view, 25> KEY_ORDER = {
    "schema_version", "name",       "plugin_path", "schemas", "channels",        "nodes",
    "slot_bytes",     "slot_count", "ring",        "sync",    "checksum",        "flex_zone_bytes",
    "max_consumers",  "schema",     "id",          "plugin",  "component",       "params",
    "inputs",         "outputs",    "on_error",    "action",  "max_consecutive", "channel",
    "delivery"};

std::vector<std::string_view> split(std::string_view path) {
    std::vector<std::string_view> tokens;
    while (!path.empty()) {
        path.remove_prefix(1);  // the '/'
        const std::size_t end = std::min(path.find('/'), path.size());
        tokens.push_back(path.substr(0, end));
        path.remove_prefix(end);
    }
    return tokens;
}

std::optional<std::uint64_t> as_index(std::string_view token) {
    std::uint64_t index = 0;
    const auto [end, error] = std::from_chars(token.data(), token.data() + token.size(), index);
    if (token.empty() || error != std::errc() || end != token.data() + token.size()) return std::nullopt;
    return index;
}

/// Array indices in numeric order, then known keys by KEY_ORDER, then other keys (parameters, unknown keys)
/// alphabetically; a total order so the sort is well defined on any path.
bool token_less(std::string_view a, std::string_view b) {
    const auto index_a = as_index(a);
    const auto index_b = as_index(b);
    if (index_a && index_b) return *index_a < *index_b;
    if (index_a || index_b) return index_a.has_value();
    const auto rank = [](std::string_view token) {
        return static_cast<std::size_t>(std::find(KEY_ORDER.begin(), KEY_ORDER.end(), token) - KEY_ORDER.begin());
    };
    const std::size_t rank_a = rank(a);
    const std::size_t rank_b = rank(b);
    if (rank_a != rank_b) return rank_a < rank_b;
    return a < b;
}

bool document_order(const GraphIssue& a, const GraphIssue& b) {
    const auto tokens_a = split(a.json_path);
    const auto tokens_b = split(b.json_path);
    return std::lexicographical_compare(tokens_a.begin(), tokens_a.end(), tokens_b.begin(), tokens_b.end(), token_less);
}

}  // namespace

std::string format_issues(const std::vector<GraphIssue>& issues, std::string_view file) {
    std::vector<GraphIssue> sorted = issues;
    // Stable: issues at one path keep the order they were found in.
    std::stable_sort(sorted.begin(), sorted.end(), document_order);
    std::string text;
    for (const GraphIssue& issue : sorted) {
        std::string where(file);
        if (!issue.json_path.empty()) where += (where.empty() ? "" : ":") + issue.json_path;
        text += where.empty() ? issue.message : where + ": " + issue.message;
        text += '\n';
    }
    return text;
}

}  // namespace dhub::graph
