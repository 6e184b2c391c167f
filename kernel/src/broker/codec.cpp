// SPDX-License-Identifier: Apache-2.0
#include "dhub/broker/codec.hpp"

#include <cstring>
#include <string>

namespace dhub::broker {
namespace {

using nlohmann::json;

constexpr std::size_t NAME_MAX_BYTES = 128;
constexpr std::size_t TEXT_MAX_BYTES = 1024;
constexpr std::size_t HEX_MAX_CHARS = 128;
constexpr std::size_t SECRET_CHARS = 64;

DecodeError fail(DecodeFailure failure, std::string reason, std::optional<std::uint64_t> request_id = {}) {
    return DecodeError{failure, std::move(reason), request_id};
}

// Checked on the raw text before parsing: the parser and the destructor of a parsed value recurse per
// nesting level, so a 64 KiB body of '[' must be refused before it reaches them.
bool nesting_within(std::string_view text, int max_depth) noexcept {
    int depth = 0;
    bool in_string = false;
    bool escaped = false;
    for (const char c : text) {
        if (in_string) {
            if (escaped) {
                escaped = false;
            } else if (c == '\\') {
                escaped = true;
            } else if (c == '"') {
                in_string = false;
            }
            continue;
        }
        if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            if (++depth > max_depth) return false;
        } else if (c == '}' || c == ']') {
            --depth;
        }
    }
    return true;
}

bool is_hex(std::string_view text) noexcept {
    for (const char c : text) {
        const bool digit = c >= '0' && c <= '9';
        const bool lower = c >= 'a' && c <= 'f';
        const bool upper = c >= 'A' && c <= 'F';
        if (!digit && !lower && !upper) return false;
    }
    return true;
}

// Parsed text yields unsigned numbers; values built in code (json{{"n", 1}}) are signed but may be >= 0.
bool is_non_negative_integer(const json& value) noexcept {
    return value.is_number_unsigned() || (value.is_number_integer() && value.get<std::int64_t>() >= 0);
}

bool is_name(std::string_view text) noexcept {
    if (text.empty() || text.size() > NAME_MAX_BYTES) return false;
    for (const char c : text) {
        if (c <= ' ' || c > '~') return false;
    }
    return true;
}

// "" when value is of the kind, else what is wrong with it.
std::string check_kind(const json& value, FieldKind kind) {
    switch (kind) {
        case FieldKind::Name:
            if (!value.is_string()) return "is not a string";
            if (!is_name(value.get_ref<const std::string&>())) {
                return "must be 1..128 printable ASCII characters without spaces";
            }
            return {};
        case FieldKind::Text:
            if (!value.is_string()) return "is not a string";
            if (value.get_ref<const std::string&>().size() > TEXT_MAX_BYTES) return "is longer than 1024 bytes";
            return {};
        case FieldKind::Hex: {
            if (!value.is_string()) return "is not a string";
            const auto& text = value.get_ref<const std::string&>();
            if (text.size() < 2 || text.size() > HEX_MAX_CHARS || text.size() % 2 != 0 || !is_hex(text)) {
                return "must be an even number (2..128) of hex digits";
            }
            return {};
        }
        case FieldKind::Secret: {
            if (!value.is_string()) return "is not a string";
            const auto& text = value.get_ref<const std::string&>();
            if (text.size() != SECRET_CHARS || !is_hex(text)) return "must be exactly 64 hex digits";
            return {};
        }
        case FieldKind::Unsigned:
            if (!is_non_negative_integer(value)) return "is not a non-negative integer";
            return {};
        case FieldKind::Object:
            if (!value.is_object()) return "is not an object";
            return {};
        case FieldKind::Array:
            if (!value.is_array()) return "is not an array";
            return {};
        case FieldKind::Identity: {
            if (!value.is_object()) return "is not an object {pid, start_ticks, name?}";
            const auto pid = value.find("pid");
            if (pid == value.end() || !is_non_negative_integer(*pid) || pid->get<std::uint64_t>() > UINT32_MAX) {
                return "needs \"pid\": an unsigned 32-bit integer";
            }
            const auto ticks = value.find("start_ticks");
            if (ticks == value.end() || !is_non_negative_integer(*ticks)) {
                return "needs \"start_ticks\": a non-negative integer";
            }
            const auto name = value.find("name");
            if (name != value.end() && (!name->is_string() || !is_name(name->get_ref<const std::string&>()))) {
                return "has a \"name\" that is not 1..128 printable ASCII characters without spaces";
            }
            return {};
        }
        case FieldKind::Invalid:
            break;
    }
    return "has an unknown kind";
}

}  // namespace

std::string_view to_string(DecodeFailure failure) noexcept {
    switch (failure) {
        case DecodeFailure::None:
            return "none";
        case DecodeFailure::Truncated:
            return "truncated";
        case DecodeFailure::ExtraFrames:
            return "extra frames";
        case DecodeFailure::BadHeader:
            return "bad header";
        case DecodeFailure::VersionMismatch:
            return "version mismatch";
        case DecodeFailure::UnknownType:
            return "unknown type";
        case DecodeFailure::BadRequestId:
            return "bad request id";
        case DecodeFailure::OversizedBody:
            return "oversized body";
        case DecodeFailure::InvalidJson:
            return "invalid JSON";
        case DecodeFailure::NotAnObject:
            return "body not an object";
        case DecodeFailure::MissingField:
            return "missing field";
        case DecodeFailure::WrongFieldType:
            return "wrong field type";
    }
    return "unknown";
}

void put_u64_le(std::uint64_t value, char* out) noexcept {
    for (std::size_t i = 0; i < REQUEST_ID_BYTES; ++i) {
        out[i] = static_cast<char>(static_cast<unsigned char>(value >> (8 * i)));
    }
}

std::uint64_t get_u64_le(const char* in) noexcept {
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < REQUEST_ID_BYTES; ++i) {
        value |= static_cast<std::uint64_t>(static_cast<unsigned char>(in[i])) << (8 * i);
    }
    return value;
}

Frames encode(const Message& message) {
    Frames frames;
    frames[0].assign(MAGIC.data(), MAGIC.size());
    frames[0].push_back(static_cast<char>(PROTOCOL_MAJOR));
    frames[0].push_back(static_cast<char>(PROTOCOL_MINOR));
    frames[1] = std::string(to_wire(message.type));
    frames[2].resize(REQUEST_ID_BYTES);
    put_u64_le(message.request_id, frames[2].data());
    // Replace, not throw, on invalid UTF-8: a message we send must never abort the sender.
    frames[3] = message.body.dump(-1, ' ', false, json::error_handler_t::replace);
    return frames;
}

std::string check_body(MessageType type, const json& body) {
    if (!body.is_object()) return "the body is not a JSON object";
    for (const auto& spec : field_table()) {
        if (spec.type != type) continue;
        const auto found = body.find(spec.name);
        if (found == body.end()) {
            if (spec.presence == Presence::Required) {
                return std::string("field \"") + std::string(spec.name) + "\" is required (" +
                       std::string(to_string(spec.kind)) + ")";
            }
            continue;
        }
        const std::string wrong = check_kind(*found, spec.kind);
        if (!wrong.empty()) return std::string("field \"") + std::string(spec.name) + "\" " + wrong;
    }
    return {};
}

Decoded decode(std::span<const std::string_view> frames) noexcept {
    try {
        if (frames.size() < FRAME_COUNT) {
            return fail(DecodeFailure::Truncated,
                        "expected 4 frames (header, type, request id, body), found " + std::to_string(frames.size()));
        }
        if (frames.size() > FRAME_COUNT) {
            return fail(DecodeFailure::ExtraFrames,
                        "expected 4 frames (header, type, request id, body), found " + std::to_string(frames.size()));
        }
        const std::string_view header = frames[0];
        if (header.size() != HEADER_BYTES || std::memcmp(header.data(), MAGIC.data(), MAGIC.size()) != 0) {
            return fail(DecodeFailure::BadHeader,
                        "frame 1 must be \"DHUB\" followed by 2 version bytes (6 bytes), "
                        "found " +
                            std::to_string(header.size()) + " bytes");
        }
        std::optional<std::uint64_t> request_id;
        if (frames[2].size() == REQUEST_ID_BYTES) request_id = get_u64_le(frames[2].data());
        const auto peer_major = static_cast<unsigned char>(header[4]);
        if (peer_major != PROTOCOL_MAJOR) {
            return fail(DecodeFailure::VersionMismatch,
                        "protocol major " + std::to_string(peer_major) + " is not supported; this side speaks " +
                            std::to_string(PROTOCOL_MAJOR) + "." + std::to_string(PROTOCOL_MINOR),
                        request_id);
        }
        if (frames[2].size() != REQUEST_ID_BYTES) {
            return fail(DecodeFailure::BadRequestId,
                        "frame 3 (request id) must be 8 bytes, found " + std::to_string(frames[2].size()));
        }
        const std::string_view type_name = frames[1];
        const auto type = type_name.size() <= MAX_TYPE_BYTES ? message_type_from_wire(type_name) : std::nullopt;
        if (!type) {
            std::string shown(type_name.substr(0, MAX_TYPE_BYTES));
            for (char& c : shown) {
                if (c < ' ' || c > '~') c = '?';
            }
            return fail(DecodeFailure::UnknownType, "frame 2 names no message type: \"" + shown + "\"", request_id);
        }
        const std::string_view body_text = frames[3];
        if (body_text.size() > MAX_BODY_BYTES) {
            return fail(DecodeFailure::OversizedBody,
                        "body is " + std::to_string(body_text.size()) + " bytes, the limit is " +
                            std::to_string(MAX_BODY_BYTES),
                        request_id);
        }
        if (!nesting_within(body_text, MAX_JSON_DEPTH)) {
            return fail(DecodeFailure::InvalidJson,
                        "body nests deeper than " + std::to_string(MAX_JSON_DEPTH) + " levels", request_id);
        }
        json body = json::parse(body_text.begin(), body_text.end(), nullptr, false);
        if (body.is_discarded()) return fail(DecodeFailure::InvalidJson, "body is not valid JSON text", request_id);
        if (!body.is_object()) {
            return fail(DecodeFailure::NotAnObject,
                        std::string("body must be a JSON object, found ") + body.type_name(), request_id);
        }
        for (const auto& spec : field_table()) {
            if (spec.type != *type) continue;
            const auto found = body.find(spec.name);
            if (found == body.end()) {
                if (spec.presence == Presence::Optional) continue;
                return fail(DecodeFailure::MissingField,
                            std::string(to_wire(*type)) + " needs field \"" + std::string(spec.name) + "\" (" +
                                std::string(to_string(spec.kind)) + ")",
                            request_id);
            }
            const std::string wrong = check_kind(*found, spec.kind);
            if (!wrong.empty()) {
                return fail(DecodeFailure::WrongFieldType,
                            std::string(to_wire(*type)) + " field \"" + std::string(spec.name) + "\" " + wrong,
                            request_id);
            }
        }
        return Message{*type, *request_id, std::move(body)};
    } catch (...) {
        // Only allocation can throw above; report it as a decode error rather than let it escape.
        return fail(DecodeFailure::InvalidJson, "the message could not be decoded (out of memory)");
    }
}

}  // namespace dhub::broker
