// SPDX-License-Identifier: Apache-2.0
#include "wording.hpp"

#include <algorithm>

namespace dhub::graph::detail {
namespace {

constexpr std::size_t SUGGESTION_DISTANCE = 2;
constexpr std::size_t MAX_SHOWN_CHARS = 60;

/// Cuts at a UTF-8 character boundary so a shortened string stays valid text.
std::string shorten(std::string text) {
    if (text.size() <= MAX_SHOWN_CHARS) return text;
    std::size_t cut = MAX_SHOWN_CHARS - 3;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0u) == 0x80u)
        --cut;
    text.resize(cut);
    return text + "...";
}

std::string count_of(std::size_t count, const char* singular, const char* plural) {
    return std::to_string(count) + " " + (count == 1 ? singular : plural);
}

}  // namespace

std::string child_path(std::string_view parent, std::string_view key) {
    std::string path(parent);
    path += '/';
    for (const char c : key) {
        if (c == '~') {
            path += "~0";
        } else if (c == '/') {
            path += "~1";
        } else {
            path += c;
        }
    }
    return path;
}

std::string child_path(std::string_view parent, std::size_t index) {
    return std::string(parent) + "/" + std::to_string(index);
}

std::size_t edit_distance(std::string_view a, std::string_view b, std::size_t limit) {
    const std::size_t longer = std::max(a.size(), b.size());
    if (longer - std::min(a.size(), b.size()) > limit) return limit + 1;
    std::vector<std::size_t> previous(b.size() + 1);
    std::vector<std::size_t> current(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j)
        previous[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        current[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
            current[j] = std::min({previous[j] + 1, current[j - 1] + 1, substitution});
        }
        std::swap(previous, current);
    }
    return std::min(previous[b.size()], limit + 1);
}

std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates) {
    const std::string* best = nullptr;
    std::size_t best_distance = SUGGESTION_DISTANCE + 1;
    for (const std::string& candidate : candidates) {
        const std::size_t distance = edit_distance(word, candidate, SUGGESTION_DISTANCE);
        if (distance < best_distance) {
            best = &candidate;
            best_distance = distance;
        }
    }
    return best == nullptr ? std::string() : " (did you mean \"" + *best + "\"?)";
}

std::string join(const std::vector<std::string>& items) {
    std::string text;
    for (const std::string& item : items)
        text += (text.empty() ? "" : ", ") + item;
    return text;
}

std::string join_quoted(const std::vector<std::string>& items) {
    std::string text;
    for (const std::string& item : items)
        text += (text.empty() ? "\"" : ", \"") + item + "\"";
    return text;
}

std::string describe(const nlohmann::json& value) {
    using Type = nlohmann::json::value_t;
    switch (value.type()) {
        case Type::null:
            return "null";
        case Type::boolean:
            return value.get<bool>() ? "true" : "false";
        case Type::number_integer:
        case Type::number_unsigned:
        case Type::number_float:
            return "the number " + shorten(value.dump());
        case Type::string:
            return "the string " + shorten(value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
        case Type::array:
            return value.empty() ? "an empty array" : "an array of " + count_of(value.size(), "element", "elements");
        case Type::object:
            return value.empty() ? "an empty object" : "an object with " + count_of(value.size(), "key", "keys");
        case Type::binary:
        case Type::discarded:
            break;
    }
    return "a value that is not JSON text";
}

LineColumn line_column(std::string_view text, std::size_t offset) {
    LineColumn where;
    const std::size_t end = std::min(offset, text.size());
    for (std::size_t i = 0; i < end; ++i) {
        if (text[i] == '\n') {
            ++where.line;
            where.column = 1;
        } else {
            ++where.column;
        }
    }
    return where;
}

}  // namespace dhub::graph::detail
