// SPDX-License-Identifier: Apache-2.0
// Typed reads of graph document fields. Each read either yields the value or appends one issue at the
// field's JSON pointer saying what was expected and what was found, so the parser can go on and report
// every problem in one pass.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "dhub/graph/graph_spec.hpp"

namespace dhub::graph::detail {

using Issues = std::vector<GraphIssue>;

/// Appends an issue for every key of object not in known: "unknown key; known keys: a, b".
void check_known_keys(const nlohmann::json& object,
                      std::string_view path,
                      const std::vector<std::string>& known,
                      Issues& issues);

/// The member, or nullptr when absent.
const nlohmann::json* find_member(const nlohmann::json& object, std::string_view key);

/// The member; when absent, one issue at path (the object's) "missing required key \"key\" (what)".
const nlohmann::json* require_member(
    const nlohmann::json& object, std::string_view path, std::string_view key, std::string_view what, Issues& issues);

/// Checks that value is an object; otherwise an issue "expected <what>, found ...".
bool expect_object(const nlohmann::json& value, std::string_view path, std::string_view what, Issues& issues);
bool expect_array(const nlohmann::json& value, std::string_view path, std::string_view what, Issues& issues);

/// A non-empty string.
std::optional<std::string> read_string(const nlohmann::json& value,
                                       std::string_view path,
                                       std::string_view what,
                                       Issues& issues);

/// A file named by entry[key] (a non-empty string), relative to the graph file's directory as plugin_path is;
/// nullopt when absent or unreadable (an issue at parent/key).
std::optional<std::filesystem::path> read_file_path(const nlohmann::json& entry,
                                                    std::string_view parent,
                                                    const char* key,
                                                    const std::filesystem::path& source_file,
                                                    std::string_view what,
                                                    Issues& issues);

/// An integer in [min, max]. A number with a fraction, a negative one or one out of range is an issue.
std::optional<std::uint64_t> read_unsigned(
    const nlohmann::json& value, std::string_view path, std::uint64_t min, std::uint64_t max, Issues& issues);

/// The index of the string among choices.
std::optional<std::size_t> read_choice(const nlohmann::json& value,
                                       std::string_view path,
                                       const std::vector<std::string>& choices,
                                       Issues& issues);

/// True if text is 1..max_length characters of letters, digits, '_', '-' (and '.' when allow_dot).
bool is_identifier(std::string_view text, std::size_t max_length, bool allow_dot) noexcept;

}  // namespace dhub::graph::detail
