// SPDX-License-Identifier: Apache-2.0
// How a slot travels as a Kafka record (docs/transports.md, "kafka"): the value is the slot's bytes, the key the
// channel's name, and headers carry what a consumer needs to check and order it. Header values are text (decimal
// numbers, the schema hash in hex), so kcat and a facility's consumers in any language can read them:
//   dhub.channel     the producer's channel name
//   dhub.slot_bytes  its slot size        dhub.slots  its ring's length
//   dhub.schema      its schema hash, 64 hex digits (all zeros: unchecked): what a consumer checks
//   dhub.schema_id   its schema's id as the graph names it ("dhub.waveform.f64@1"; "*": none), for people
//                    and tools outside dhub (absent: "*")
//   dhub.session     a number the publisher draws at start: a new one means its sequence numbers start over
//   dhub.seq         the slot's sequence number in the producer's channel
//   dhub.ts          the producer's timestamp, ns
//   dhub.end         present (empty) on the record that says the producer's channel closed; no slot
// Only what is here knows the names: the publisher and the consumer both go through encode() and decode().
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace dhub::kafka_transport {

/// The headers of one record, decoded.
struct RecordHeaders {
    std::string channel;
    std::uint64_t slot_bytes = 0;
    std::uint32_t slot_count = 0;
    std::array<std::uint8_t, 32> schema_hash{};
    std::string schema_id = "*";
    std::uint64_t session = 0;
    std::uint64_t sequence = 0;
    std::uint64_t timestamp_ns = 0;
    bool end = false;  ///< the end-of-stream record: sequence is the first number never sent
};

using Header = std::pair<std::string, std::string>;

/// A publisher's session number: random, never 0.
std::uint64_t draw_session();

/// The headers a publisher attaches, in a fixed order.
std::vector<Header> encode(const RecordHeaders& headers);

/// The headers of one publisher's records, with what never changes (channel, geometry, schema, session)
/// formatted once: write() then costs two numbers. Each header goes to add(name, value, size).
class HeaderWriter {
public:
    explicit HeaderWriter(const RecordHeaders& stamp);

    template <typename Add>
    void write(std::uint64_t sequence, std::uint64_t timestamp_ns, bool end, Add&& add) const {
        for (const Header& header : constant_)
            add(header.first.c_str(), header.second.data(), header.second.size());
        char digits[24];
        std::size_t size = format(sequence, digits);
        add(SEQUENCE_HEADER, digits, size);
        size = format(timestamp_ns, digits);
        add(TIMESTAMP_HEADER, digits, size);
        if (end) add(END_HEADER, "", 0);
    }

    static constexpr const char* SEQUENCE_HEADER = "dhub.seq";
    static constexpr const char* TIMESTAMP_HEADER = "dhub.ts";
    static constexpr const char* END_HEADER = "dhub.end";

private:
    static std::size_t format(std::uint64_t value, char (&digits)[24]) noexcept;
    std::vector<Header> constant_;

public:
    /// The bytes of names and values a record carries at most (for the size a record adds to its slot).
    std::size_t most_bytes() const noexcept;
};

/// A record's headers read back, or what is wrong with them ("header dhub.seq is 'x', not a decimal number").
/// Headers it does not know are ignored: others may add their own. Where a name repeats, the last one counts.
std::variant<RecordHeaders, std::string> decode(const std::vector<std::pair<std::string_view, std::string_view>>& raw);

}  // namespace dhub::kafka_transport
