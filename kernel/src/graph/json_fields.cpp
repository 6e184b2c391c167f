// SPDX-License-Identifier: Apache-2.0
#include "json_fields.hpp"

#include <algorithm>
#include <cmath>

#include "wording.hpp"

namespace dhub::graph::detail {

void check_known_keys(const nlohmann::json& object,
                      std::string_view path,
                      const std::vector<std::string>& known,
                      Issues& issues) {
    if (!object.is_object()) return;
    for (const auto& [key, value] : object.items()) {
        if (std::find(known.begin(), known.end(), key) != known.end()) continue;
        issues.push_back({child_path(path, key), "unknown key; known keys: " + join(known) + did_you_mean(key, known)});
    }
}

const nlohmann::json* find_member(const nlohmann::json& object, std::string_view key) {
    if (!object.is_object()) return nullptr;
    const auto found = object.find(key);
    return found == object.end() ? nullptr : &*found;
}

const nlohmann::json* require_member(
    const nlohmann::json& object, std::string_view path, std::string_view key, std::string_view what, Issues& issues) {
    const nlohmann::json* member = find_member(object, key);
    if (member == nullptr) {
        issues.push_back({std::string(path),
                          "missing required key \"" + std::string(key) + "\" (" + std::string(what) + "); add it"});
    }
    return member;
}

bool expect_object(const nlohmann::json& value, std::string_view path, std::string_view what, Issues& issues) {
    if (value.is_object()) return true;
    issues.push_back({std::string(path), "expected " + std::string(what) + ", found " + describe(value)});
    return false;
}

bool expect_array(const nlohmann::json& value, std::string_view path, std::string_view what, Issues& issues) {
    if (value.is_array()) return true;
    issues.push_back({std::string(path), "expected " + std::string(what) + ", found " + describe(value)});
    return false;
}

std::optional<std::string> read_string(const nlohmann::json& value,
                                       std::string_view path,
                                       std::string_view what,
                                       Issues& issues) {
    if (value.is_string() && !value.get_ref<const std::string&>().empty()) return value.get<std::string>();
    issues.push_back({std::string(path), "expected " + std::string(what) + ", found " +
                                             (value.is_string() ? std::string("an empty string") : describe(value))});
    return std::nullopt;
}

std::optional<std::filesystem::path> read_file_path(const nlohmann::json& entry,
                                                    std::string_view parent,
                                                    const char* key,
                                                    const std::filesystem::path& source_file,
                                                    std::string_view what,
                                                    Issues& issues) {
    const nlohmann::json* value = find_member(entry, key);
    if (value == nullptr) return std::nullopt;
    const auto text = read_string(*value, child_path(parent, key), what, issues);
    if (!text) return std::nullopt;
    std::filesystem::path file(*text);
    // Relative to the graph file, like plugin_path.
    if (file.is_relative() && !source_file.empty()) file = source_file.parent_path() / file;
    return file.lexically_normal();
}

std::optional<std::uint64_t> read_unsigned(
    const nlohmann::json& value, std::string_view path, std::uint64_t min, std::uint64_t max, Issues& issues) {
    std::optional<std::uint64_t> number;
    if (value.is_number_unsigned()) {
        number = value.get<std::uint64_t>();
    } else if (value.is_number_float()) {
        // 8192.0 is the same JSON number as 8192; compare as doubles before converting so nothing overflows.
        const double real = value.get<double>();
        if (std::isfinite(real) && std::floor(real) == real && real >= static_cast<double>(min) &&
            real <= static_cast<double>(max)) {
            number = static_cast<std::uint64_t>(real);
        }
    }
    if (number && *number >= min && *number <= max) return number;
    issues.push_back({std::string(path), "expected an integer in [" + std::to_string(min) + ", " + std::to_string(max) +
                                             "], found " + describe(value)});
    return std::nullopt;
}

std::optional<std::size_t> read_choice(const nlohmann::json& value,
                                       std::string_view path,
                                       const std::vector<std::string>& choices,
                                       Issues& issues) {
    if (value.is_string()) {
        const auto& text = value.get_ref<const std::string&>();
        const auto found = std::find(choices.begin(), choices.end(), text);
        if (found != choices.end()) return static_cast<std::size_t>(found - choices.begin());
        issues.push_back({std::string(path), "expected one of " + join_quoted(choices) + ", found " + describe(value) +
                                                 did_you_mean(text, choices)});
        return std::nullopt;
    }
    issues.push_back({std::string(path), "expected one of " + join_quoted(choices) + ", found " + describe(value)});
    return std::nullopt;
}

bool is_identifier(std::string_view text, std::size_t max_length, bool allow_dot) noexcept {
    if (text.empty() || text.size() > max_length) return false;
    return std::all_of(text.begin(), text.end(), [allow_dot](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
               (allow_dot && c == '.');
    });
}

}  // namespace dhub::graph::detail
