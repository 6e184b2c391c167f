// SPDX-License-Identifier: Apache-2.0
#include "json_reader.hpp"

#include <string>
#include <utility>

#include "wording.hpp"

namespace dhub::graph::detail {
namespace {

using Json = nlohmann::json;

/// nlohmann's message without its "[json.exception.parse_error.101] parse error at line 1, column 2: "
/// prefix, since the reader states the place itself.
std::string strip_prefix(const std::string& message) {
    const std::size_t column = message.find("column ");
    if (column != std::string::npos) {
        const std::size_t colon = message.find(": ", column);
        if (colon != std::string::npos) return message.substr(colon + 2);
    }
    const std::size_t bracket = message.find("] ");
    return bracket == std::string::npos ? message : message.substr(bracket + 2);
}

/// Builds the DOM the way nlohmann's own SAX DOM parser does, plus the duplicate and depth checks.
class DomBuilder final : public nlohmann::json_sax<Json> {
public:
    DomBuilder(std::string_view text, std::vector<GraphIssue>& issues) : text_(text), issues_(issues) {}

    bool null() override { return add(Json(nullptr)); }
    bool boolean(bool value) override { return add(Json(value)); }
    bool number_integer(number_integer_t value) override { return add(Json(value)); }
    bool number_unsigned(number_unsigned_t value) override { return add(Json(value)); }
    bool number_float(number_float_t value, const string_t& /*text*/) override { return add(Json(value)); }
    bool string(string_t& value) override { return add(Json(std::move(value))); }
    bool binary(binary_t& value) override { return add(Json::binary(std::move(value))); }

    bool start_object(std::size_t /*elements*/) override { return open(Json::object()); }
    bool start_array(std::size_t /*elements*/) override { return open(Json::array()); }
    bool end_object() override { return close(); }
    bool end_array() override { return close(); }

    bool key(string_t& key) override {
        Frame& frame = frames_.back();
        frame.key = std::move(key);
        if (frame.value->contains(frame.key)) {
            issues_.push_back({child_path(frame.path, frame.key),
                               "duplicate key; a later value would silently replace the earlier one, keep only one"});
        }
        return true;
    }

    bool parse_error(std::size_t position, const std::string& /*last_token*/, const Json::exception& error) override {
        // position counts the bytes read, including the one that did not fit.
        const std::size_t offset = position == 0 ? 0 : position - 1;
        const LineColumn where = line_column(text_, offset);
        const std::string line = std::to_string(where.line);
        const std::string column = std::to_string(where.column);
        // Both spellings: people read "line 3, column 13", editors and tools jump to "3:13".
        issues_.push_back({"", "malformed JSON at line " + line + ", column " + column + " (" + line + ":" + column +
                                   ", byte " + std::to_string(offset) + "): " + strip_prefix(error.what()) +
                                   "; fix the syntax there (nothing else was checked: the document must parse "
                                   "first)"});
        failed_ = true;
        return false;
    }

    std::optional<Json> result() && {
        if (failed_ || !complete_) return std::nullopt;
        return std::move(root_);
    }

private:
    struct Frame {
        Json* value;
        std::string path;
        std::string key;  ///< objects: the key of the next value
    };

    /// Where the next value goes, and the JSON pointer it will have.
    std::pair<Json*, std::string> slot() {
        if (frames_.empty()) return {&root_, ""};
        Frame& frame = frames_.back();
        if (frame.value->is_array()) {
            const std::size_t index = frame.value->size();
            frame.value->push_back(Json());
            return {&frame.value->back(), child_path(frame.path, index)};
        }
        return {&(*frame.value)[frame.key], child_path(frame.path, frame.key)};
    }

    bool add(Json value) {
        Json* target = slot().first;
        *target = std::move(value);
        complete_ = frames_.empty();
        return true;
    }

    bool open(Json container) {
        auto [target, path] = slot();
        if (frames_.size() >= MAX_JSON_DEPTH) {
            issues_.push_back({path, "JSON nested deeper than " + std::to_string(MAX_JSON_DEPTH) +
                                         " levels; a graph document needs only a few, flatten this value"});
            failed_ = true;
            return false;
        }
        *target = std::move(container);
        frames_.push_back(Frame{target, std::move(path), {}});
        return true;
    }

    bool close() {
        frames_.pop_back();
        complete_ = frames_.empty();
        return true;
    }

    std::string_view text_;
    std::vector<GraphIssue>& issues_;
    std::vector<Frame> frames_;
    Json root_;
    bool failed_ = false;
    bool complete_ = false;
};

}  // namespace

std::optional<nlohmann::json> read_json(std::string_view text, std::vector<GraphIssue>& issues) {
    DomBuilder builder(text, issues);
    const bool parsed = Json::sax_parse(text.begin(), text.end(), &builder);
    if (!parsed) return std::nullopt;
    return std::move(builder).result();
}

}  // namespace dhub::graph::detail
