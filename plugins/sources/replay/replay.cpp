// SPDX-License-Identifier: Apache-2.0
#include "replay.hpp"

#include <string>

namespace dhub::plugins::replay {

Replay::Replay(sdk::NodeContext& context)
    : path_(context.params().string("path")),
      recorded_rate_(context.params().string("rate") == "recorded"),
      loop_(context.params().boolean("loop")) {
    if (path_.empty()) throw sdk::HostError(DHUB_ERR_INVALID_ARGUMENT, "path must name the recording to play");
    const std::string_view rate = context.params().string("rate");
    if (rate != "recorded" && rate != "max") {
        throw sdk::HostError(DHUB_ERR_INVALID_ARGUMENT,
                             "rate must be recorded or max, not '" + std::string(rate) + "'");
    }
}

dhub_status Replay::start(sdk::NodeContext& context) {
    reader_.emplace(path_);
    if (!reader_->ok()) {
        context.log().error("cannot replay: " + reader_->error());
        reader_.reset();
        return DHUB_ERR_IO;
    }
    context.log().info("replaying " + path_ + ": " + std::to_string(reader_->record_count()) +
                       " index records, schema " + reader_->schema() + ", recorded slot size " +
                       std::to_string(reader_->slot_capacity()) + " bytes" +
                       (recorded_rate_ ? ", recorded spacing" : ", as fast as possible") + (loop_ ? ", looping" : ""));
    return DHUB_OK;
}

dhub_status Replay::fetch_next(sdk::NodeContext& context) {
    formats::recording::IndexRecord record{};
    while (true) {
        RecordingReader::Next outcome = RecordingReader::Next::End;
        if (reader_->next(record, outcome) != DHUB_OK) {
            context.log().error(reader_->error());
            return DHUB_ERR_IO;
        }
        if (outcome == RecordingReader::Next::End) {
            if (reader_->truncated() && !reported_truncation_) {
                reported_truncation_ = true;
                context.log().warn("the index of " + path_ +
                                   " points past the end of the data file (the recorder "
                                   "stopped before its last flush); replaying up to there");
            }
            // A pass without a single slot would loop forever without producing anything.
            if (!loop_ || pass_slots_ == 0) return DHUB_END_OF_STREAM;
            if (reader_->rewind() != DHUB_OK) {
                context.log().error(reader_->error());
                return DHUB_ERR_IO;
            }
            // The next pass starts one average slot spacing after the last slot of this one.
            const std::uint64_t spacing_ns =
                pass_slots_ > 1 ? (pass_last_timestamp_ns_ - pass_first_timestamp_ns_) / (pass_slots_ - 1) : 0;
            pass_start_ns_ = last_deadline_ns_ + spacing_ns;
            pass_slots_ = 0;
            ++passes_;
            continue;
        }
        if (record.kind == formats::recording::RecordKind::Gap) {
            ++gaps_;
            context.log().debug("the recording has a gap: " + std::to_string(record.missing) +
                                " slots missing from sequence " + std::to_string(record.sequence));
            continue;
        }
        pending_ = record;
        return DHUB_OK;
    }
}

std::uint64_t Replay::deadline_of(const formats::recording::IndexRecord& record, std::uint64_t now_ns) {
    if (!pass_started_) {
        pass_started_ = true;
        pass_start_ns_ = now_ns;
    }
    if (pass_slots_ == 0) pass_first_timestamp_ns_ = record.timestamp_ns;
    // Timestamps that go backwards (a restarted producer) play at once rather than wait for a wrap-around.
    const std::uint64_t offset_ns =
        record.timestamp_ns > pass_first_timestamp_ns_ ? record.timestamp_ns - pass_first_timestamp_ns_ : 0;
    return pass_start_ns_ + offset_ns;
}

dhub_status Replay::produce(sdk::NodeContext& context, sdk::OutputSlot<sdk::Bytes>& out) {
    if (!reader_) return DHUB_ERR_IO;
    if (!pending_) {
        if (const dhub_status status = fetch_next(context); status != DHUB_OK) return status;
    }
    const formats::recording::IndexRecord& record = *pending_;
    if (record.bytes > out.capacity()) {
        // Keep the slot pending: never drop recorded data silently; the node's error policy decides.
        if (!reported_small_slot_) {
            reported_small_slot_ = true;
            context.log().error("recorded slot " + std::to_string(record.sequence) + " holds " +
                                std::to_string(record.bytes) + " bytes but the output slot only " +
                                std::to_string(out.capacity()) + ": set slot_bytes of the output channel to at least " +
                                std::to_string(reader_->slot_capacity()) + " (the recorded channel's slot size)");
        }
        return DHUB_ERR_INVALID_ARGUMENT;
    }
    std::uint64_t timestamp_ns = context.now_ns();
    if (recorded_rate_) {
        timestamp_ns = deadline_of(record, timestamp_ns);
        if (const dhub_status status = context.sleep_until(timestamp_ns); status != DHUB_OK) return status;
    }
    if (reader_->read_slot(record, out.bytes()) != DHUB_OK) {
        context.log().error(reader_->error());
        return DHUB_ERR_IO;
    }
    out.set_bytes(record.bytes);
    out.set_timestamp_ns(timestamp_ns);
    last_deadline_ns_ = timestamp_ns;
    if (pass_slots_ == 0) pass_first_timestamp_ns_ = record.timestamp_ns;
    pass_last_timestamp_ns_ = record.timestamp_ns;
    ++pass_slots_;
    ++played_;
    pending_.reset();
    return DHUB_OK;
}

void Replay::stop(sdk::NodeContext& context) {
    context.log().info("replayed " + std::to_string(played_) + " slots from " + path_ + " in " +
                       std::to_string(passes_) + (passes_ == 1 ? " pass" : " passes") + "; " + std::to_string(gaps_) +
                       " gaps in the recording");
    reader_.reset();
}

}  // namespace dhub::plugins::replay

DHUB_PLUGIN("replay",
            "1.0.0",
            "Apache-2.0",
            "Recording playback (dhub.source.replay)",
            dhub::sdk::component<dhub::plugins::replay::Replay>())
