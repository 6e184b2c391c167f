// SPDX-License-Identifier: Apache-2.0
// A node parameter as a test writes it: {{"channels", 2}, {"waveform", "counter"}, {"loop", true}}.
#pragma once

#include <charconv>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace dhub::sdk::testing {

/// The four parameter types of a params schema. Integers and numbers stay distinct, as in the kernel: a
/// C++ integer literal is an integer, a floating-point literal a number.
class ParamValue {
public:
    enum class Type { Number, Integer, Boolean, String };

    template <std::floating_point F>
    ParamValue(F value) noexcept : value_(static_cast<double>(value)) {}  // NOLINT(google-explicit-constructor)
    template <std::integral I>
    requires(!std::same_as<I, bool>) ParamValue(I value)
    noexcept : value_(static_cast<std::int64_t>(value)) {}                // NOLINT(google-explicit-constructor)
    ParamValue(bool value) noexcept : value_(value) {}                    // NOLINT(google-explicit-constructor)
    ParamValue(const char* value) : value_(std::string(value)) {}         // NOLINT(google-explicit-constructor)
    ParamValue(std::string value) noexcept : value_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
    ParamValue(std::string_view value) : value_(std::string(value)) {}    // NOLINT(google-explicit-constructor)

    Type type() const noexcept {
        switch (value_.index()) {
            case 0:
                return Type::Number;
            case 1:
                return Type::Integer;
            case 2:
                return Type::Boolean;
            default:
                return Type::String;
        }
    }
    double number() const { return std::get<double>(value_); }
    std::int64_t integer() const { return std::get<std::int64_t>(value_); }
    bool boolean() const { return std::get<bool>(value_); }
    const std::string& string() const { return std::get<std::string>(value_); }

    /// The value as JSON text.
    std::string to_json() const {
        switch (type()) {
            case Type::Number:
                return number_to_json(number());
            case Type::Integer:
                return std::to_string(integer());
            case Type::Boolean:
                return boolean() ? "true" : "false";
            case Type::String:
                return string_to_json(string());
        }
        return "null";
    }

    static std::string number_to_json(double value) {
        if (!std::isfinite(value)) return "null";  // JSON has no NaN or infinity
        char buffer[32];
        const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
        return {buffer, result.ptr};
    }

    static std::string string_to_json(std::string_view text) {
        static constexpr char HEX[] = "0123456789abcdef";
        std::string out = "\"";
        for (const char c : text) {
            const auto byte = static_cast<unsigned char>(c);
            if (c == '"' || c == '\\') {
                out += '\\';
                out += c;
            } else if (byte < 0x20U) {
                out += "\\u00";
                out += HEX[byte >> 4U];
                out += HEX[byte & 0xFU];
            } else {
                out += c;
            }
        }
        return out + "\"";
    }

    friend bool operator==(const ParamValue&, const ParamValue&) = default;

private:
    std::variant<double, std::int64_t, bool, std::string> value_;
};

inline const char* to_string(ParamValue::Type type) noexcept {
    switch (type) {
        case ParamValue::Type::Number:
            return "number";
        case ParamValue::Type::Integer:
            return "integer";
        case ParamValue::Type::Boolean:
            return "boolean";
        case ParamValue::Type::String:
            return "string";
    }
    return "invalid";
}

/// Parameters by name, as a node's "params" object in graph.json.
using ParamMap = std::map<std::string, ParamValue, std::less<>>;

}  // namespace dhub::sdk::testing
