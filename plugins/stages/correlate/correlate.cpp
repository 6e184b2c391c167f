// SPDX-License-Identifier: Apache-2.0
#include "correlate.hpp"

#include <cstring>
#include <optional>
#include <string>

#include "matcher.hpp"

namespace dhub::plugins::correlate {

Correlate::Correlate(sdk::NodeContext& context)
    : by_sequence_(context.params().string("match") == "sequence"),
      tolerance_ns_(static_cast<std::uint64_t>(context.params().integer("tolerance_ns"))),
      max_wait_ns_(static_cast<std::uint64_t>(context.params().integer("max_wait_ns"))),
      inputs_(context.port(sdk::Direction::Input, "in")),
      out_(context.port(sdk::Direction::Output, "out")),
      unmatched_(context.port(sdk::Direction::Output, "unmatched")) {
    if (inputs_.count < 2) {
        throw sdk::HostError(
            DHUB_ERR_INVALID_ARGUMENT,
            "correlate needs two or more channels on input port 'in', got " + std::to_string(inputs_.count));
    }
    unmatched_per_input_.assign(inputs_.count, 0);
}

void Correlate::stop(sdk::NodeContext& context) {
    std::string unmatched;
    for (std::uint32_t input = 0; input < inputs_.count; ++input)
        unmatched += (input == 0 ? "" : ", ") + std::to_string(unmatched_per_input_[input]);
    context.log().info(std::to_string(matched_) + " sets matched; unmatched slots per input: " + unmatched);
}

dhub_status Correlate::process(sdk::NodeContext& context, sdk::Ports& io) {
    std::vector<std::optional<std::uint64_t>> keys(inputs_.count);
    std::vector<bool> closed(inputs_.count, false);
    for (std::uint32_t input = 0; input < inputs_.count; ++input) {
        const sdk::PortInput port = io.input(inputs_.first + input);
        closed[input] = port.closed();
        if (port.ready()) keys[input] = by_sequence_ ? port.sequence() : port.timestamp_ns();
    }
    const Decision decision = decide(keys, closed, by_sequence_ ? 0 : tolerance_ns_);
    if (decision.matched) {
        ++matched_;
        return write_set(context, io);  // every slot is released after the call
    }
    dhub_status status = DHUB_SKIP;
    // The kernel calls again every 100 ms while slots are kept, so a partner that never comes is given up on.
    const std::uint64_t now = max_wait_ns_ > 0 ? context.now_ns() : 0;
    for (std::uint32_t input = 0; input < inputs_.count; ++input) {
        sdk::PortInput port = io.input(inputs_.first + input);
        if (!port.ready()) continue;
        const bool waited_too_long = max_wait_ns_ > 0 && now > port.timestamp_ns() + max_wait_ns_;
        if (!decision.hopeless[input] && !waited_too_long) {
            port.keep();  // its partner may still come
            continue;
        }
        ++unmatched_per_input_[input];
        if (const dhub_status written = write_unmatched(io, input); written != DHUB_OK) status = written;
    }
    return status;
}

dhub_status Correlate::write_set(sdk::NodeContext& context, sdk::Ports& io) {
    std::vector<std::uint64_t> sizes(inputs_.count);
    for (std::uint32_t input = 0; input < inputs_.count; ++input)
        sizes[input] = io.input(inputs_.first + input).slot().bytes().size();
    const std::uint64_t needed = formats::correlated_bytes(sizes);
    return io.output<sdk::Bytes>(out_.first).push([&](sdk::OutputSlot<sdk::Bytes>& out) {
        if (out.capacity() < needed) {
            throw sdk::HostError(DHUB_ERR_INVALID_ARGUMENT,
                                 "a matched set needs " + std::to_string(needed) + " bytes, the output slot holds " +
                                     std::to_string(out.capacity()) +
                                     ": set slot_bytes of the output channel to at least that");
        }
        std::byte* base = out.bytes().data();
        const formats::CorrelatedHeader header{formats::CORRELATED_MAGIC, inputs_.count, 0};
        std::memcpy(base, &header, sizeof header);
        std::uint64_t offset = sizeof header + inputs_.count * sizeof(formats::CorrelatedPart);
        for (std::uint32_t input = 0; input < inputs_.count; ++input) {
            const sdk::PortInput port = io.input(inputs_.first + input);
            offset = formats::correlated_align(offset);
            const formats::CorrelatedPart part{port.sequence(), port.timestamp_ns(), offset, sizes[input]};
            std::memcpy(base + sizeof header + input * sizeof part, &part, sizeof part);
            if (sizes[input] > 0) std::memcpy(base + offset, port.slot().bytes().data(), sizes[input]);
            offset += sizes[input];
        }
        out.set_bytes(needed);
        // The set stands for the moment of its first input (the reference stream, e.g. the camera).
        out.set_timestamp_ns(io.input(inputs_.first).timestamp_ns());
        (void)context;
        return true;
    });
}

dhub_status Correlate::write_unmatched(sdk::Ports& io, std::uint32_t input) {
    if (unmatched_.count == 0) return DHUB_OK;
    const sdk::PortInput port = io.input(inputs_.first + input);
    const auto payload = port.slot().bytes();
    return io.output<sdk::Bytes>(unmatched_.first).push([&](sdk::OutputSlot<sdk::Bytes>& out) {
        if (out.capacity() < payload.size()) {
            throw sdk::HostError(DHUB_ERR_INVALID_ARGUMENT, "an unmatched slot of " + std::to_string(payload.size()) +
                                                                " bytes does not fit the 'unmatched' channel's " +
                                                                std::to_string(out.capacity()) + "-byte slots");
        }
        if (!payload.empty()) std::memcpy(out.bytes().data(), payload.data(), payload.size());
        out.set_bytes(payload.size());
        out.set_timestamp_ns(port.timestamp_ns());
        return true;
    });
}

}  // namespace dhub::plugins::correlate

DHUB_PLUGIN("correlate",
            "1.0.0",
            "Apache-2.0",
            "Pairs the slots of several streams by timestamp or sequence (dhub.stage.correlate)",
            dhub::sdk::component<dhub::plugins::correlate::Correlate>())
