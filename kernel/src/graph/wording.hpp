// SPDX-License-Identifier: Apache-2.0
// Text helpers for graph issue messages: JSON pointers, "did you mean", short renderings of found values.
// Every graph message is built from these so the wording stays the same across parse and validation.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace dhub::graph::detail {

/// "<parent>/<key>" with '~' and '/' escaped as RFC 6901 requires.
std::string child_path(std::string_view parent, std::string_view key);
std::string child_path(std::string_view parent, std::size_t index);

/// Levenshtein distance, or limit + 1 when it is larger than limit (cheap for long words).
std::size_t edit_distance(std::string_view a, std::string_view b, std::size_t limit);

/// " (did you mean \"x\"?)" for the first candidate within edit distance 2 of word, else "".
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

/// "a, b, c"
std::string join(const std::vector<std::string>& items);
/// "\"a\", \"b\", \"c\""
std::string join_quoted(const std::vector<std::string>& items);

/// What was found, for "expected X, found Y": "the string \"abc\"", "the number 3", "an array of 2 elements".
/// Long values are shortened so one bad value cannot flood the report.
std::string describe(const nlohmann::json& value);

/// 1-based line and column of a byte offset in text.
struct LineColumn {
    std::size_t line = 1;
    std::size_t column = 1;
};
LineColumn line_column(std::string_view text, std::size_t offset);

}  // namespace dhub::graph::detail
