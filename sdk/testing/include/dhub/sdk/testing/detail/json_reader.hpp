// SPDX-License-Identifier: Apache-2.0
// Not API: a small JSON reader, just enough to read a component's params_schema_json (an array of flat
// objects) without adding a JSON library to the SDK's dependencies. It accepts standard JSON (RFC 8259)
// and throws std::invalid_argument, with the byte offset, on anything else.
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dhub::sdk::testing::detail {

struct JsonValue {
    enum class Type { Null, Boolean, Number, String, Array, Object };

    Type type = Type::Null;
    bool boolean = false;
    double number = 0.0;
    bool integral = false;  ///< a number written without fraction or exponent that fits in int64
    std::int64_t integer = 0;
    std::string text;
    std::vector<JsonValue> items;
    /// An object's members. Not std::pair<std::string, JsonValue>: a pair of the incomplete JsonValue cannot be
    /// instantiated here (Clang rejects it with libstdc++ 12); a struct defined after JsonValue can.
    struct Member;
    std::vector<Member> members;

    const JsonValue* find(std::string_view key) const noexcept;
};

struct JsonValue::Member {
    std::string name;
    JsonValue value;
};

inline const JsonValue* JsonValue::find(std::string_view key) const noexcept {
    for (const Member& member : members) {
        if (member.name == key) return &member.value;
    }
    return nullptr;
}

class JsonReader {
public:
    explicit JsonReader(std::string_view text) noexcept : text_(text) {}

    /// Parses the whole text as one JSON value.
    JsonValue parse_document() {
        JsonValue value = parse_value(0);
        skip_space();
        if (position_ != text_.size()) fail("unexpected text after the JSON value");
        return value;
    }

private:
    // Deep enough for any schema; guards against stack exhaustion on hostile input.
    static constexpr int MAX_DEPTH = 64;

    [[noreturn]] void fail(const std::string& what) const {
        throw std::invalid_argument("JSON error at offset " + std::to_string(position_) + ": " + what);
    }

    void skip_space() noexcept {
        while (position_ < text_.size() && (text_[position_] == ' ' || text_[position_] == '\t' ||
                                            text_[position_] == '\n' || text_[position_] == '\r')) {
            ++position_;
        }
    }

    char peek() const noexcept { return position_ < text_.size() ? text_[position_] : '\0'; }

    void expect(char wanted) {
        if (peek() != wanted) fail(std::string("expected '") + wanted + "'");
        ++position_;
    }

    bool consume_word(std::string_view word) noexcept {
        if (text_.substr(position_, word.size()) != word) return false;
        position_ += word.size();
        return true;
    }

    JsonValue parse_value(int depth) {
        if (depth > MAX_DEPTH) fail("nested too deeply");
        skip_space();
        JsonValue value;
        const char next = peek();
        if (next == '{') {
            value.type = JsonValue::Type::Object;
            parse_object(value, depth);
        } else if (next == '[') {
            value.type = JsonValue::Type::Array;
            parse_array(value, depth);
        } else if (next == '"') {
            value.type = JsonValue::Type::String;
            value.text = parse_string();
        } else if (consume_word("true")) {
            value.type = JsonValue::Type::Boolean;
            value.boolean = true;
        } else if (consume_word("false")) {
            value.type = JsonValue::Type::Boolean;
        } else if (consume_word("null")) {
            value.type = JsonValue::Type::Null;
        } else if (next == '-' || (next >= '0' && next <= '9')) {
            parse_number(value);
        } else {
            fail("expected a JSON value");
        }
        return value;
    }

    void parse_object(JsonValue& value, int depth) {
        expect('{');
        skip_space();
        if (peek() == '}') {
            ++position_;
            return;
        }
        while (true) {
            skip_space();
            if (peek() != '"') fail("expected a member name in double quotes");
            std::string name = parse_string();
            skip_space();
            expect(':');
            value.members.push_back(JsonValue::Member{std::move(name), parse_value(depth + 1)});
            skip_space();
            if (peek() == ',') {
                ++position_;
                continue;
            }
            expect('}');
            return;
        }
    }

    void parse_array(JsonValue& value, int depth) {
        expect('[');
        skip_space();
        if (peek() == ']') {
            ++position_;
            return;
        }
        while (true) {
            value.items.push_back(parse_value(depth + 1));
            skip_space();
            if (peek() == ',') {
                ++position_;
                continue;
            }
            expect(']');
            return;
        }
    }

    void parse_number(JsonValue& value) {
        const std::size_t start = position_;
        bool fraction_or_exponent = false;
        if (peek() == '-') ++position_;
        if (peek() == '0') {
            ++position_;
        } else if (peek() >= '1' && peek() <= '9') {
            while (peek() >= '0' && peek() <= '9')
                ++position_;
        } else {
            fail("malformed number");
        }
        if (peek() == '.') {
            fraction_or_exponent = true;
            ++position_;
            if (!(peek() >= '0' && peek() <= '9')) fail("malformed number: digits expected after '.'");
            while (peek() >= '0' && peek() <= '9')
                ++position_;
        }
        if (peek() == 'e' || peek() == 'E') {
            fraction_or_exponent = true;
            ++position_;
            if (peek() == '+' || peek() == '-') ++position_;
            if (!(peek() >= '0' && peek() <= '9')) fail("malformed number: digits expected in the exponent");
            while (peek() >= '0' && peek() <= '9')
                ++position_;
        }
        // strtod/strtoll need a NUL-terminated copy; numbers are short.
        const std::string literal(text_.substr(start, position_ - start));
        value.type = JsonValue::Type::Number;
        value.number = std::strtod(literal.c_str(), nullptr);
        if (!fraction_or_exponent) {
            errno = 0;
            const long long parsed = std::strtoll(literal.c_str(), nullptr, 10);
            if (errno == 0) {
                value.integral = true;
                value.integer = static_cast<std::int64_t>(parsed);
            }
        }
    }

    unsigned parse_hex4() {
        unsigned code = 0;
        for (int digit = 0; digit < 4; ++digit) {
            const char c = peek();
            code <<= 4U;
            if (c >= '0' && c <= '9') {
                code |= static_cast<unsigned>(c - '0');
            } else if (c >= 'a' && c <= 'f') {
                code |= static_cast<unsigned>(c - 'a' + 10);
            } else if (c >= 'A' && c <= 'F') {
                code |= static_cast<unsigned>(c - 'A' + 10);
            } else {
                fail("malformed \\u escape");
            }
            ++position_;
        }
        return code;
    }

    static void append_utf8(std::string& out, unsigned code) {
        if (code < 0x80U) {
            out += static_cast<char>(code);
        } else if (code < 0x800U) {
            out += static_cast<char>(0xC0U | (code >> 6U));
            out += static_cast<char>(0x80U | (code & 0x3FU));
        } else if (code < 0x10000U) {
            out += static_cast<char>(0xE0U | (code >> 12U));
            out += static_cast<char>(0x80U | ((code >> 6U) & 0x3FU));
            out += static_cast<char>(0x80U | (code & 0x3FU));
        } else {
            out += static_cast<char>(0xF0U | (code >> 18U));
            out += static_cast<char>(0x80U | ((code >> 12U) & 0x3FU));
            out += static_cast<char>(0x80U | ((code >> 6U) & 0x3FU));
            out += static_cast<char>(0x80U | (code & 0x3FU));
        }
    }

    std::string parse_string() {
        expect('"');
        std::string out;
        while (true) {
            if (position_ >= text_.size()) fail("unterminated string");
            const char c = text_[position_++];
            if (c == '"') return out;
            if (static_cast<unsigned char>(c) < 0x20U) fail("control character in a string");
            if (c != '\\') {
                out += c;
                continue;
            }
            const char escaped = peek();
            ++position_;
            switch (escaped) {
                case '"':
                    out += '"';
                    break;
                case '\\':
                    out += '\\';
                    break;
                case '/':
                    out += '/';
                    break;
                case 'b':
                    out += '\b';
                    break;
                case 'f':
                    out += '\f';
                    break;
                case 'n':
                    out += '\n';
                    break;
                case 'r':
                    out += '\r';
                    break;
                case 't':
                    out += '\t';
                    break;
                case 'u': {
                    unsigned code = parse_hex4();
                    if (code >= 0xD800U && code <= 0xDBFFU && consume_word("\\u")) {
                        const unsigned low = parse_hex4();
                        if (low < 0xDC00U || low > 0xDFFFU) fail("unpaired surrogate in a \\u escape");
                        code = 0x10000U + ((code - 0xD800U) << 10U) + (low - 0xDC00U);
                    }
                    append_utf8(out, code);
                    break;
                }
                default:
                    fail("unknown escape in a string");
            }
        }
    }

    std::string_view text_;
    std::size_t position_ = 0;
};

}  // namespace dhub::sdk::testing::detail
