// SPDX-License-Identifier: Apache-2.0
#include "recorder.hpp"

namespace dhub::plugins::recorder {
namespace {

/// The "schema" parameter when given; otherwise what the kernel says the input channel carries ("*" if it
/// cannot say), so a recording made from the graph names its schema without the user repeating it.
std::string recorded_schema(const sdk::NodeContext& context) {
    const std::string_view given = context.params().string("schema");
    if (given != "*") return std::string(given);
    return std::string(context.schema(sdk::Direction::Input));
}

std::uint64_t read_flush_every(const sdk::Params& params) {
    const std::int64_t flush_every = params.integer("flush_every");
    if (flush_every < 1) throw sdk::HostError(DHUB_ERR_INVALID_ARGUMENT, "flush_every must be >= 1");
    return static_cast<std::uint64_t>(flush_every);
}

}  // namespace

Recorder::Recorder(sdk::NodeContext& context)
    : path_(context.params().string("path")),
      schema_(recorded_schema(context)),
      flush_every_(read_flush_every(context.params())) {
    if (path_.empty()) throw sdk::HostError(DHUB_ERR_INVALID_ARGUMENT, "path must name the recording file to write");
}

dhub_status Recorder::start(sdk::NodeContext& context) {
    writer_.emplace(path_, schema_);
    if (!writer_->ok()) {
        context.log().error("cannot start the recording: " + writer_->error());
        writer_.reset();
        return DHUB_ERR_IO;
    }
    context.log().info("recording to " + path_ + " (schema " + schema_ + ")");
    return DHUB_OK;
}

dhub_status Recorder::consume(sdk::NodeContext& context, const sdk::InputSlot<sdk::Bytes>& in) {
    if (!writer_) return DHUB_ERR_IO;
    // A sequence beyond the expected one means slots were lost before they reached the recorder (an
    // overwritten ring, a restarted producer...): say so in the recording rather than hide it.
    if (expected_sequence_ && in.sequence() > *expected_sequence_) {
        const std::uint64_t missing = in.sequence() - *expected_sequence_;
        if (const dhub_status status = writer_->append_gap(*expected_sequence_, missing, in.timestamp_ns());
            status != DHUB_OK) {
            context.log().error(writer_->error());
            return status;
        }
        ++gaps_;
        missing_ += missing;
    }
    expected_sequence_ = in.sequence() + 1;
    if (const dhub_status status = writer_->append_slot(in.bytes(), in.sequence(), in.timestamp_ns(), in.capacity());
        status != DHUB_OK) {
        context.log().error(writer_->error());
        return status;
    }
    ++slots_;
    if (++unflushed_ >= flush_every_) {
        unflushed_ = 0;
        if (const dhub_status status = writer_->flush(); status != DHUB_OK) {
            context.log().error(writer_->error());
            return status;
        }
    }
    return DHUB_OK;
}

void Recorder::stop(sdk::NodeContext& context) {
    if (!writer_) return;
    if (writer_->close() != DHUB_OK) context.log().error(writer_->error());
    context.log().info("recorded " + std::to_string(slots_) + " slots (" + std::to_string(writer_->data_bytes()) +
                       " bytes with the header) to " + path_ + "; " + std::to_string(gaps_) + " gaps, " +
                       std::to_string(missing_) + " slots missing");
    writer_.reset();
}

}  // namespace dhub::plugins::recorder

DHUB_PLUGIN("recorder",
            "1.0.0",
            "Apache-2.0",
            "Slot recorder (dhub.sink.recorder)",
            dhub::sdk::component<dhub::plugins::recorder::Recorder>())
