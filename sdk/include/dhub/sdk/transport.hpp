// SPDX-License-Identifier: Apache-2.0
// Transports (SDK 1.5): components that carry a channel to another process or host. A sender reads one local
// channel and sends its slots; a receiver gets them and writes a local channel of the same name, schema and
// geometry. Both are queue-mode components: run(context) drives them. docs/transports.md says what a transport
// must guarantee; in short:
//   - a slot arrives whole or not at all: a receiver commits only a slot it got every byte of, and aborts one
//     it did not;
//   - the far producer's sequence numbers and timestamps travel with the slots: the receiver commits with the
//     far timestamp and counts, with SequenceLedger and context.count_upstream_loss(), every sequence number
//     that never arrived;
//   - the two ends compare channel name, slot size and schema hash (context.channel()) before the first slot,
//     and a mismatch is refused with both sides named.
//
//   class Sender : public dhub::sdk::TransportSender {
//   public:
//       static constexpr const char* id = "acme.transport.udp_send";
//       ...
//       dhub_status run(dhub::sdk::NodeContext& context) {
//           const dhub::sdk::ChannelInfo channel = context.channel(dhub::sdk::Direction::Input);
//           ... handshake with the far end, comparing channel ...
//           while (!context.stop_requested())
//               context.input<dhub::sdk::Bytes>(0).pull([&](const auto& slot) { send(slot); }, 100'000'000);
//           return DHUB_OK;
//       }
//   };
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

#include "dhub/sdk/abi.h"
#include "dhub/sdk/node_context.hpp"
#include "dhub/sdk/ports.hpp"

namespace dhub::sdk {

/// The base of a transport's sending half: it reads the local channel on its one input, "in".
struct TransportSender {
    static constexpr dhub_kind kind = DHUB_KIND_TRANSPORT;
    static constexpr dhub_mode mode = DHUB_MODE_QUEUE;
    using flex_type = NoFlex;
    static constexpr dhub_port_descriptor ports[] = {input("in", "*", 0, 0, "the local channel it sends")};
};

/// The base of a transport's receiving half: it writes the local channel on its one output, "out".
struct TransportReceiver {
    static constexpr dhub_kind kind = DHUB_KIND_TRANSPORT;
    static constexpr dhub_mode mode = DHUB_MODE_QUEUE;
    using flex_type = NoFlex;
    static constexpr dhub_port_descriptor ports[] = {output("out", "*", 0, 0, "the local copy of the far channel")};
};

/// The channel on a transport's port, once it is there: an input from another kernel (`broker:cam0`) is
/// attached only when the broker has found it, and until then context.channel() says DHUB_ERR_UNAVAILABLE. Looks
/// again every 100 ms; nullopt when the node is asked to stop first. Other errors are thrown (HostError).
inline std::optional<ChannelInfo> wait_for_channel(NodeContext& context, Direction direction) {
    for (;;) {
        try {
            return context.channel(direction);
        } catch (const HostError& error) {
            if (error.status() != DHUB_ERR_UNAVAILABLE) throw;
            if (context.sleep_until(context.now_ns() + 100'000'000) == DHUB_STOPPING) return std::nullopt;
        }
    }
}

/// A channel as the far end is told of it: "'cam0' (4096-byte slots, 8 slots, schema 1a2b3c4d)". For refusals
/// that name both sides.
inline std::string describe(const ChannelInfo& channel) {
    char hash[9] = "none";
    bool checked = false;
    for (const std::uint8_t byte : channel.schema_hash)
        checked = checked || byte != 0;
    if (checked) {
        std::snprintf(hash, sizeof hash, "%02x%02x%02x%02x", channel.schema_hash[0], channel.schema_hash[1],
                      channel.schema_hash[2], channel.schema_hash[3]);
    }
    return "'" + channel.name + "' (" + std::to_string(channel.slot_bytes) + "-byte slots, " +
           std::to_string(channel.slot_count) + " slots, schema " + hash + ")";
}

/// What differs between the channel a sender reads and the one a receiver writes, in words naming both; ""
/// when they match. The ring's length and the sync policy may differ: each end sizes its own buffering.
inline std::string channel_mismatch(const ChannelInfo& sender, const ChannelInfo& receiver) {
    std::string difference;
    if (sender.name != receiver.name)
        difference = "channel name";
    else if (sender.slot_bytes != receiver.slot_bytes)
        difference = "slot size";
    else if (sender.schema_hash != receiver.schema_hash)
        difference = "schema";
    if (difference.empty()) return {};
    return difference + " differs: the sender's channel is " + describe(sender) + ", the receiver's is " +
           describe(receiver);
}

/// A receiver's account of the far producer's sequence numbers: which slots to write, which are duplicates
/// (a resend after a reconnect) and how many never arrived.
class SequenceLedger {
public:
    enum class Verdict { Write, Duplicate };

    /// Judges the next arriving sequence number. Write: a new slot (lost() grew by any gap before it).
    Verdict arrive(std::uint64_t sequence) noexcept {
        if (!started_) {
            started_ = true;
            next_ = sequence + 1;
            return Verdict::Write;
        }
        if (sequence < next_) {
            ++duplicates_;
            return Verdict::Duplicate;
        }
        lost_ += sequence - next_;
        next_ = sequence + 1;
        return Verdict::Write;
    }
    /// The far producer started over (a new process: its sequence numbers restart): the next one is taken as
    /// the first, whatever it is.
    void restart() noexcept {
        started_ = false;
        next_ = 0;
    }
    /// Takes the first sequence number as given (a resumed stream) rather than from the first arrival.
    void expect(std::uint64_t next) noexcept {
        started_ = true;
        next_ = next;
    }
    /// The far end no longer has the sequence numbers before next: those not arrived yet count as lost.
    void skip_to(std::uint64_t next) noexcept {
        if (!started_) {
            expect(next);
            return;
        }
        if (next > next_) {
            lost_ += next - next_;
            next_ = next;
        }
    }

    bool started() const noexcept { return started_; }
    /// The sequence number the receiver wants next (0 until started()).
    std::uint64_t next() const noexcept { return next_; }
    /// Sequence numbers passed over: committed far away, never written here.
    std::uint64_t lost() const noexcept { return lost_; }
    std::uint64_t duplicates() const noexcept { return duplicates_; }

private:
    bool started_ = false;
    std::uint64_t next_ = 0;
    std::uint64_t lost_ = 0;
    std::uint64_t duplicates_ = 0;
};

}  // namespace dhub::sdk
