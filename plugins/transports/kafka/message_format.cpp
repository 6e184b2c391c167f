// SPDX-License-Identifier: Apache-2.0
#include "message_format.hpp"

#include <charconv>
#include <limits>
#include <optional>
#include <random>

namespace dhub::kafka_transport {
namespace {

constexpr const char* CHANNEL = "dhub.channel";
constexpr const char* SLOT_BYTES = "dhub.slot_bytes";
constexpr const char* SLOTS = "dhub.slots";
constexpr const char* SCHEMA = "dhub.schema";
constexpr const char* SCHEMA_ID = "dhub.schema_id";
constexpr const char* SESSION = "dhub.session";
constexpr const char* SEQUENCE = HeaderWriter::SEQUENCE_HEADER;
constexpr const char* TIMESTAMP = HeaderWriter::TIMESTAMP_HEADER;
constexpr const char* END = HeaderWriter::END_HEADER;

std::string hex(const std::array<std::uint8_t, 32>& bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string text;
    text.reserve(bytes.size() * 2);
    for (const std::uint8_t byte : bytes) {
        text += digits[byte >> 4];
        text += digits[byte & 0x0f];
    }
    return text;
}

std::optional<std::uint64_t> decimal(std::string_view text) {
    std::uint64_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return value;
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/// The value of the last header called name, if any.
std::optional<std::string_view> find(const std::vector<std::pair<std::string_view, std::string_view>>& raw,
                                     std::string_view name) {
    std::optional<std::string_view> value;
    for (const auto& [key, text] : raw) {
        if (key == name) value = text;
    }
    return value;
}

}  // namespace

std::uint64_t draw_session() {
    std::random_device device;
    const std::uint64_t session = (static_cast<std::uint64_t>(device()) << 32) ^ device();
    return session != 0 ? session : 1;
}

HeaderWriter::HeaderWriter(const RecordHeaders& stamp)
    : constant_{{CHANNEL, stamp.channel},
                {SLOT_BYTES, std::to_string(stamp.slot_bytes)},
                {SLOTS, std::to_string(stamp.slot_count)},
                {SCHEMA, hex(stamp.schema_hash)},
                {SCHEMA_ID, stamp.schema_id},
                {SESSION, std::to_string(stamp.session)}} {}

std::size_t HeaderWriter::format(std::uint64_t value, char (&digits)[24]) noexcept {
    return static_cast<std::size_t>(std::to_chars(digits, digits + sizeof digits, value).ptr - digits);
}

std::size_t HeaderWriter::most_bytes() const noexcept {
    std::size_t bytes = 0;
    for (const Header& header : constant_)
        bytes += header.first.size() + header.second.size();
    const std::string_view varying[] = {SEQUENCE, TIMESTAMP, END};
    for (const std::string_view name : varying)
        bytes += name.size() + 20;  // a uint64 has at most 20 digits
    return bytes;
}

std::vector<Header> encode(const RecordHeaders& headers) {
    std::vector<Header> out;
    HeaderWriter(headers).write(headers.sequence, headers.timestamp_ns, headers.end,
                                [&](const char* name, const char* value, std::size_t size) {
                                    out.emplace_back(name, std::string(value, size));
                                });
    return out;
}

std::variant<RecordHeaders, std::string> decode(const std::vector<std::pair<std::string_view, std::string_view>>& raw) {
    RecordHeaders headers;
    std::string problem;
    const auto number = [&](const char* name, std::uint64_t maximum) -> std::uint64_t {
        const std::optional<std::string_view> text = find(raw, name);
        if (!problem.empty()) return 0;
        if (!text) {
            problem = std::string("no header ") + name + ": not a record a dhub kafka_publish node wrote";
            return 0;
        }
        const std::optional<std::uint64_t> value = decimal(*text);
        if (!value || *value > maximum) {
            problem = std::string("header ") + name + " is '" + std::string(text->substr(0, 40)) +
                      "', not a decimal number up to " + std::to_string(maximum);
            return 0;
        }
        return *value;
    };
    constexpr std::uint64_t any = std::numeric_limits<std::uint64_t>::max();
    headers.slot_bytes = number(SLOT_BYTES, any);
    headers.slot_count = static_cast<std::uint32_t>(number(SLOTS, std::numeric_limits<std::uint32_t>::max()));
    headers.session = number(SESSION, any);
    headers.sequence = number(SEQUENCE, any);
    headers.timestamp_ns = number(TIMESTAMP, any);
    if (!problem.empty()) return problem;

    const std::optional<std::string_view> channel = find(raw, CHANNEL);
    if (!channel || channel->empty()) return std::string("no header ") + CHANNEL + " naming the producer's channel";
    headers.channel = std::string(*channel);

    const std::optional<std::string_view> schema = find(raw, SCHEMA);
    if (!schema || schema->size() != 2 * headers.schema_hash.size()) {
        return std::string("header ") + SCHEMA + " must be 64 hex digits" +
               (schema ? ", found " + std::to_string(schema->size()) + " characters" : ", and there is none");
    }
    for (std::size_t i = 0; i < headers.schema_hash.size(); ++i) {
        const int high = hex_digit((*schema)[2 * i]);
        const int low = hex_digit((*schema)[2 * i + 1]);
        if (high < 0 || low < 0) return std::string("header ") + SCHEMA + " holds a character that is not a hex digit";
        headers.schema_hash[i] = static_cast<std::uint8_t>(high << 4 | low);
    }
    if (const std::optional<std::string_view> id = find(raw, SCHEMA_ID); id && !id->empty()) headers.schema_id = *id;
    headers.end = find(raw, END).has_value();
    return headers;
}

}  // namespace dhub::kafka_transport
