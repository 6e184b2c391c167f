// SPDX-License-Identifier: Apache-2.0
#include "wire.hpp"

#include <algorithm>
#include <cstring>

namespace dhub::zmq_transport {
namespace {

constexpr std::size_t PREFIX_BYTES = 8;
constexpr std::size_t HELLO_FIXED = PREFIX_BYTES + 8 + 8 + 4 + 4 + 8 + 32 + 2 + 2;
constexpr std::size_t WELCOME_FIXED = PREFIX_BYTES + 8 + 8 + 4 + 4 + 8 + 4 + 4 + 32;
constexpr std::size_t REFUSE_FIXED = PREFIX_BYTES + 2 + 2;
constexpr std::size_t CREDIT_BYTES = PREFIX_BYTES + 8 + 8 + 4 + 4;
constexpr std::size_t DATA_BYTES = PREFIX_BYTES + 8 * 6;
constexpr std::size_t HEARTBEAT_BYTES = PREFIX_BYTES + 8 + 8;
constexpr std::size_t BYE_BYTES = PREFIX_BYTES;
constexpr std::size_t END_BYTES = PREFIX_BYTES + 8 + 8;
constexpr std::size_t BATCH_FIXED = PREFIX_BYTES + 8 + 4 + 4;
constexpr std::size_t BATCH_SLOT_BYTES = 8 * 4;

/// Appends little-endian integers and raw bytes.
class Writer {
public:
    Writer(MessageType type, std::uint8_t flags, std::size_t reserve) {
        bytes_.reserve(reserve);
        put(WIRE_MAGIC);
        put(WIRE_VERSION);
        put(static_cast<std::uint8_t>(type));
        put(flags);
    }
    template <typename T>
    void put(T value) {
        for (std::size_t i = 0; i < sizeof(T); ++i)
            bytes_.push_back(static_cast<std::byte>((value >> (8 * i)) & 0xFF));
    }
    void put_bytes(const void* data, std::size_t size) {
        const auto* first = static_cast<const std::byte*>(data);
        bytes_.insert(bytes_.end(), first, first + size);
    }
    std::vector<std::byte> take() { return std::move(bytes_); }

private:
    std::vector<std::byte> bytes_;
};

/// Reads little-endian integers from a frame whose size the caller checked.
class Reader {
public:
    explicit Reader(std::span<const std::byte> bytes) noexcept : bytes_(bytes) {}
    template <typename T>
    T get() noexcept {
        T value = 0;
        for (std::size_t i = 0; i < sizeof(T); ++i) {
            value = static_cast<T>(value | static_cast<T>(static_cast<T>(bytes_[at_ + i]) << (8 * i)));
        }
        at_ += sizeof(T);
        return value;
    }
    void get_bytes(void* out, std::size_t size) noexcept {
        std::memcpy(out, bytes_.data() + at_, size);
        at_ += size;
    }
    std::string get_text(std::size_t size) {
        std::string text(reinterpret_cast<const char*>(bytes_.data() + at_), size);
        at_ += size;
        return text;
    }
    void skip(std::size_t size) noexcept { at_ += size; }

private:
    std::span<const std::byte> bytes_;
    std::size_t at_ = 0;
};

DecodeError malformed(std::string what) {
    return {RefuseCode::Malformed, std::move(what)};
}

std::string sized(MessageType type, std::size_t found, std::size_t expected, const char* rule) {
    return std::string(name_of(type)) + " header: " + std::to_string(found) + " bytes, expected " + rule + " " +
           std::to_string(expected);
}

std::variant<Message, DecodeError> decode_hello(std::span<const std::byte> frame) {
    if (frame.size() < HELLO_FIXED) return malformed(sized(MessageType::Hello, frame.size(), HELLO_FIXED, "at least"));
    Reader in(frame);
    in.skip(PREFIX_BYTES);
    Hello hello;
    hello.session = in.get<std::uint64_t>();
    hello.resume_next = in.get<std::uint64_t>();
    hello.credits = in.get<std::uint32_t>();
    hello.channel.slot_count = in.get<std::uint32_t>();
    hello.channel.slot_bytes = in.get<std::uint64_t>();
    in.get_bytes(hello.channel.schema_hash.data(), hello.channel.schema_hash.size());
    const std::size_t name_bytes = in.get<std::uint16_t>();
    const std::size_t label_bytes = in.get<std::uint16_t>();
    if (name_bytes > MAX_NAME_BYTES || label_bytes > MAX_NAME_BYTES) {
        return malformed("HELLO: a name of " + std::to_string(std::max(name_bytes, label_bytes)) + " bytes, at most " +
                         std::to_string(MAX_NAME_BYTES) + " allowed");
    }
    if (frame.size() != HELLO_FIXED + name_bytes + label_bytes) {
        return malformed(sized(MessageType::Hello, frame.size(), HELLO_FIXED + name_bytes + label_bytes, "exactly"));
    }
    hello.channel.name = in.get_text(name_bytes);
    hello.label = in.get_text(label_bytes);
    return Message{std::move(hello)};
}

std::variant<Message, DecodeError> decode_welcome(std::span<const std::byte> frame) {
    if (frame.size() < WELCOME_FIXED) {
        return malformed(sized(MessageType::Welcome, frame.size(), WELCOME_FIXED, "at least"));
    }
    Reader in(frame);
    in.skip(PREFIX_BYTES);
    Welcome welcome;
    welcome.session = in.get<std::uint64_t>();
    welcome.first = in.get<std::uint64_t>();
    welcome.chunk_bytes = in.get<std::uint32_t>();
    const auto delivery = in.get<std::uint8_t>();
    in.skip(3);
    welcome.channel.slot_bytes = in.get<std::uint64_t>();
    welcome.channel.slot_count = in.get<std::uint32_t>();
    const std::size_t name_bytes = in.get<std::uint16_t>();
    in.skip(2);
    in.get_bytes(welcome.channel.schema_hash.data(), welcome.channel.schema_hash.size());
    if (delivery != static_cast<std::uint8_t>(Delivery::Lossless) &&
        delivery != static_cast<std::uint8_t>(Delivery::Latest)) {
        return malformed("WELCOME: delivery " + std::to_string(delivery) + ", expected 1 (lossless) or 2 (latest)");
    }
    welcome.delivery = static_cast<Delivery>(delivery);
    if (welcome.chunk_bytes == 0) return malformed("WELCOME: chunk size 0");
    if (name_bytes > MAX_NAME_BYTES) return malformed("WELCOME: a name of " + std::to_string(name_bytes) + " bytes");
    if (frame.size() != WELCOME_FIXED + name_bytes) {
        return malformed(sized(MessageType::Welcome, frame.size(), WELCOME_FIXED + name_bytes, "exactly"));
    }
    welcome.channel.name = in.get_text(name_bytes);
    return Message{std::move(welcome)};
}

std::variant<Message, DecodeError> decode_refuse(std::span<const std::byte> frame) {
    if (frame.size() < REFUSE_FIXED) {
        return malformed(sized(MessageType::Refuse, frame.size(), REFUSE_FIXED, "at least"));
    }
    Reader in(frame);
    in.skip(PREFIX_BYTES);
    Refuse refuse;
    const auto code = in.get<std::uint16_t>();
    const std::size_t text_bytes = in.get<std::uint16_t>();
    if (code < static_cast<std::uint16_t>(RefuseCode::Mismatch) ||
        code > static_cast<std::uint16_t>(RefuseCode::Malformed)) {
        return malformed("REFUSE: unknown code " + std::to_string(code));
    }
    if (text_bytes > MAX_TEXT_BYTES || frame.size() != REFUSE_FIXED + text_bytes) {
        return malformed(sized(MessageType::Refuse, frame.size(), REFUSE_FIXED + text_bytes, "exactly"));
    }
    refuse.code = static_cast<RefuseCode>(code);
    refuse.text = in.get_text(text_bytes);
    return Message{std::move(refuse)};
}

std::variant<Message, DecodeError> decode_batch(std::span<const std::byte> frame, std::span<const std::byte> payload) {
    if (frame.size() < BATCH_FIXED) return malformed(sized(MessageType::Batch, frame.size(), BATCH_FIXED, "at least"));
    Reader in(frame);
    in.skip(PREFIX_BYTES);
    Batch batch;
    batch.session = in.get<std::uint64_t>();
    const std::size_t count = in.get<std::uint32_t>();
    in.skip(4);
    if (count == 0 || count > MAX_BATCH_SLOTS) {
        return malformed("BATCH of " + std::to_string(count) + " slots, 1 to " + std::to_string(MAX_BATCH_SLOTS) +
                         " allowed");
    }
    if (frame.size() != BATCH_FIXED + count * BATCH_SLOT_BYTES) {
        return malformed(sized(MessageType::Batch, frame.size(), BATCH_FIXED + count * BATCH_SLOT_BYTES, "exactly"));
    }
    std::uint64_t total = 0;
    batch.slots.resize(count);
    for (BatchSlot& slot : batch.slots) {
        slot.sequence = in.get<std::uint64_t>();
        slot.timestamp_ns = in.get<std::uint64_t>();
        slot.slot_bytes = in.get<std::uint64_t>();
        slot.previous = in.get<std::uint64_t>();
        // Overflow-proof: each slot fits in what is left of the payload frame.
        if (slot.slot_bytes > payload.size() - total) {
            return malformed("BATCH: its slots hold more than the " + std::to_string(payload.size()) +
                             " bytes of its payload frame");
        }
        total += slot.slot_bytes;
    }
    if (total != payload.size()) {
        return malformed("BATCH: its slots hold " + std::to_string(total) + " bytes, its payload frame " +
                         std::to_string(payload.size()));
    }
    batch.payload = payload;
    return Message{std::move(batch)};
}

}  // namespace

std::vector<Data> Batch::as_data() const {
    std::vector<Data> each;
    each.reserve(slots.size());
    std::size_t offset = 0;
    for (const BatchSlot& slot : slots) {
        Data data{session, slot.sequence, slot.timestamp_ns, slot.slot_bytes, 0, slot.previous, DATA_LAST_CHUNK};
        data.payload = payload.subspan(offset, slot.slot_bytes);
        offset += slot.slot_bytes;
        each.push_back(data);
    }
    return each;
}

const char* name_of(MessageType type) noexcept {
    switch (type) {
        case MessageType::Hello:
            return "HELLO";
        case MessageType::Welcome:
            return "WELCOME";
        case MessageType::Refuse:
            return "REFUSE";
        case MessageType::Credit:
            return "CREDIT";
        case MessageType::Data:
            return "DATA";
        case MessageType::Heartbeat:
            return "HEARTBEAT";
        case MessageType::Bye:
            return "BYE";
        case MessageType::End:
            return "END";
        case MessageType::Batch:
            return "BATCH";
    }
    return "unknown";
}

std::variant<Message, DecodeError> decode(std::span<const std::span<const std::byte>> frames) {
    if (frames.empty()) return malformed("an empty message: no header frame");
    const std::span<const std::byte> frame = frames[0];
    if (frame.size() < PREFIX_BYTES) {
        return malformed("a header frame of " + std::to_string(frame.size()) + " bytes, at least 8 expected");
    }
    Reader in(frame);
    const auto magic = in.get<std::uint32_t>();
    const auto version = in.get<std::uint16_t>();
    const auto type_byte = in.get<std::uint8_t>();
    const auto flags = in.get<std::uint8_t>();
    if (magic != WIRE_MAGIC)
        return malformed("not a dhub zmq transport message (its first four bytes are not \"DHZT\")");
    if (version != WIRE_VERSION) {
        return DecodeError{RefuseCode::Version, "protocol version " + std::to_string(version) + ", this end speaks " +
                                                    std::to_string(WIRE_VERSION)};
    }
    if (type_byte < static_cast<std::uint8_t>(MessageType::Hello) ||
        type_byte > static_cast<std::uint8_t>(MessageType::Batch)) {
        return malformed("unknown message type " + std::to_string(type_byte));
    }
    const auto type = static_cast<MessageType>(type_byte);
    const std::size_t expected_frames = type == MessageType::Data || type == MessageType::Batch ? 2 : 1;
    if (frames.size() != expected_frames) {
        return malformed(std::string(name_of(type)) + ": " + std::to_string(frames.size()) + " frames, expected " +
                         std::to_string(expected_frames));
    }
    const auto exact = [&](std::size_t bytes) -> const char* { return frame.size() == bytes ? nullptr : "exactly"; };
    switch (type) {
        case MessageType::Hello:
            return decode_hello(frame);
        case MessageType::Welcome:
            return decode_welcome(frame);
        case MessageType::Refuse:
            return decode_refuse(frame);
        case MessageType::Credit: {
            if (const char* rule = exact(CREDIT_BYTES)) return malformed(sized(type, frame.size(), CREDIT_BYTES, rule));
            Credit credit;
            credit.flags = flags;
            credit.session = in.get<std::uint64_t>();
            credit.next = in.get<std::uint64_t>();
            credit.credits = in.get<std::uint32_t>();
            return Message{credit};
        }
        case MessageType::Data: {
            if (const char* rule = exact(DATA_BYTES)) return malformed(sized(type, frame.size(), DATA_BYTES, rule));
            Data data;
            data.flags = flags;
            data.session = in.get<std::uint64_t>();
            data.sequence = in.get<std::uint64_t>();
            data.timestamp_ns = in.get<std::uint64_t>();
            data.slot_bytes = in.get<std::uint64_t>();
            data.offset = in.get<std::uint64_t>();
            data.previous = in.get<std::uint64_t>();
            data.payload = frames[1];
            // Overflow-proof: offset and the chunk each fit in the slot, then their sum is compared.
            if (data.offset > data.slot_bytes || data.payload.size() > data.slot_bytes - data.offset) {
                return malformed("DATA for sequence " + std::to_string(data.sequence) + ": a chunk of " +
                                 std::to_string(data.payload.size()) + " bytes at offset " +
                                 std::to_string(data.offset) + " overruns the slot's " +
                                 std::to_string(data.slot_bytes) + " bytes");
            }
            if ((data.flags & DATA_LAST_CHUNK) != 0 && data.offset + data.payload.size() != data.slot_bytes) {
                return malformed("DATA for sequence " + std::to_string(data.sequence) + ": the last chunk ends at " +
                                 std::to_string(data.offset + data.payload.size()) + " of " +
                                 std::to_string(data.slot_bytes) + " bytes");
            }
            return Message{data};
        }
        case MessageType::Heartbeat: {
            if (const char* rule = exact(HEARTBEAT_BYTES)) {
                return malformed(sized(type, frame.size(), HEARTBEAT_BYTES, rule));
            }
            Heartbeat heartbeat;
            heartbeat.session = in.get<std::uint64_t>();
            heartbeat.sent_next = in.get<std::uint64_t>();
            return Message{heartbeat};
        }
        case MessageType::Bye:
            if (const char* rule = exact(BYE_BYTES)) return malformed(sized(type, frame.size(), BYE_BYTES, rule));
            return Message{Bye{}};
        case MessageType::Batch:
            return decode_batch(frame, frames[1]);
        case MessageType::End: {
            if (const char* rule = exact(END_BYTES)) return malformed(sized(type, frame.size(), END_BYTES, rule));
            End end;
            end.session = in.get<std::uint64_t>();
            end.end_next = in.get<std::uint64_t>();
            return Message{end};
        }
    }
    return malformed("unknown message type " + std::to_string(type_byte));
}

std::vector<std::byte> encode(const Hello& message) {
    const std::string& name = message.channel.name;
    Writer out(MessageType::Hello, 0, HELLO_FIXED + name.size() + message.label.size());
    out.put(message.session);
    out.put(message.resume_next);
    out.put(message.credits);
    out.put(message.channel.slot_count);
    out.put(message.channel.slot_bytes);
    out.put_bytes(message.channel.schema_hash.data(), message.channel.schema_hash.size());
    // Longer texts are cut to what the decoder accepts, so an encoded message always decodes.
    const std::size_t name_bytes = std::min(name.size(), MAX_NAME_BYTES);
    const std::size_t label_bytes = std::min(message.label.size(), MAX_NAME_BYTES);
    out.put(static_cast<std::uint16_t>(name_bytes));
    out.put(static_cast<std::uint16_t>(label_bytes));
    out.put_bytes(name.data(), name_bytes);
    out.put_bytes(message.label.data(), label_bytes);
    return out.take();
}

std::vector<std::byte> encode(const Welcome& message) {
    const std::string& name = message.channel.name;
    const std::size_t name_bytes = std::min(name.size(), MAX_NAME_BYTES);
    Writer out(MessageType::Welcome, 0, WELCOME_FIXED + name_bytes);
    out.put(message.session);
    out.put(message.first);
    out.put(message.chunk_bytes);
    out.put(static_cast<std::uint8_t>(message.delivery));
    out.put(std::uint8_t{0});
    out.put(std::uint16_t{0});
    out.put(message.channel.slot_bytes);
    out.put(message.channel.slot_count);
    out.put(static_cast<std::uint16_t>(name_bytes));
    out.put(std::uint16_t{0});
    out.put_bytes(message.channel.schema_hash.data(), message.channel.schema_hash.size());
    out.put_bytes(name.data(), name_bytes);
    return out.take();
}

std::vector<std::byte> encode(const Refuse& message) {
    const std::size_t text_bytes = std::min(message.text.size(), MAX_TEXT_BYTES);
    Writer out(MessageType::Refuse, 0, REFUSE_FIXED + text_bytes);
    out.put(static_cast<std::uint16_t>(message.code));
    out.put(static_cast<std::uint16_t>(text_bytes));
    out.put_bytes(message.text.data(), text_bytes);
    return out.take();
}

std::vector<std::byte> encode(const Credit& message) {
    Writer out(MessageType::Credit, message.flags, CREDIT_BYTES);
    out.put(message.session);
    out.put(message.next);
    out.put(message.credits);
    out.put(std::uint32_t{0});
    return out.take();
}

std::vector<std::byte> encode(const Data& message) {
    Writer out(MessageType::Data, message.flags, DATA_BYTES);
    out.put(message.session);
    out.put(message.sequence);
    out.put(message.timestamp_ns);
    out.put(message.slot_bytes);
    out.put(message.offset);
    out.put(message.previous);
    return out.take();
}

std::vector<std::byte> encode(const Heartbeat& message) {
    Writer out(MessageType::Heartbeat, 0, HEARTBEAT_BYTES);
    out.put(message.session);
    out.put(message.sent_next);
    return out.take();
}

std::vector<std::byte> encode(const End& message) {
    Writer out(MessageType::End, 0, END_BYTES);
    out.put(message.session);
    out.put(message.end_next);
    return out.take();
}

std::vector<std::byte> encode(const Batch& message) {
    const std::size_t count = std::min(message.slots.size(), MAX_BATCH_SLOTS);
    Writer out(MessageType::Batch, 0, BATCH_FIXED + count * BATCH_SLOT_BYTES);
    out.put(message.session);
    out.put(static_cast<std::uint32_t>(count));
    out.put(std::uint32_t{0});
    for (std::size_t index = 0; index < count; ++index) {
        const BatchSlot& slot = message.slots[index];
        out.put(slot.sequence);
        out.put(slot.timestamp_ns);
        out.put(slot.slot_bytes);
        out.put(slot.previous);
    }
    return out.take();
}

std::vector<std::byte> encode(const Bye&) {
    Writer out(MessageType::Bye, 0, BYE_BYTES);
    return out.take();
}

}  // namespace dhub::zmq_transport
