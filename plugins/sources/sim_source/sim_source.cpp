// SPDX-License-Identifier: Apache-2.0
#include "sim_source.hpp"

#include <string>

#include "dhub/plugins/text_format.hpp"

namespace dhub::plugins::sim {
namespace {

// The kernel validates parameters against params_schema before create(); these checks keep the
// component safe when it is driven some other way (a test harness, an older kernel).
PatternSettings read_settings(const sdk::Params& params, double rate_hz) {
    const auto kind = waveform_kind_named(params.string("waveform"));
    if (!kind) {
        throw sdk::HostError(DHUB_ERR_INVALID_ARGUMENT, "waveform must be sine, noise, ramp or counter, not '" +
                                                            std::string(params.string("waveform")) + "'");
    }
    const std::int64_t channels = params.integer("channels");
    const std::int64_t samples = params.integer("samples_per_channel");
    if (channels < 1 || channels > 1024 || samples < 1 || samples > 1'000'000) {
        throw sdk::HostError(DHUB_ERR_INVALID_ARGUMENT,
                             "channels must be in [1, 1024] and samples_per_channel in [1, "
                             "1000000]; got " +
                                 std::to_string(channels) + " and " + std::to_string(samples));
    }
    PatternSettings settings;
    settings.kind = *kind;
    settings.channels = static_cast<std::uint32_t>(channels);
    settings.samples_per_channel = static_cast<std::uint32_t>(samples);
    settings.amplitude = params.number("amplitude");
    settings.frequency_hz = params.number("frequency_hz");
    settings.sample_rate_hz = rate_hz * static_cast<double>(samples);
    settings.seed = static_cast<std::uint64_t>(params.integer("seed"));
    return settings;
}

double read_rate(const sdk::Params& params) {
    const double rate_hz = params.number("rate_hz");
    if (!(rate_hz > 0.0 && rate_hz <= 1e6)) {
        throw sdk::HostError(DHUB_ERR_INVALID_ARGUMENT,
                             "rate_hz must be > 0 and <= 1e6, got " + format_number(rate_hz));
    }
    return rate_hz;
}

std::uint64_t read_max_frames(const sdk::Params& params) {
    const std::int64_t max_frames = params.integer("max_frames");
    if (max_frames < 0) throw sdk::HostError(DHUB_ERR_INVALID_ARGUMENT, "max_frames must be >= 0 (0 = unlimited)");
    return static_cast<std::uint64_t>(max_frames);
}

}  // namespace

SimSource::SimSource(sdk::NodeContext& context)
    : rate_hz_(read_rate(context.params())),
      settings_(read_settings(context.params(), rate_hz_)),
      max_frames_(read_max_frames(context.params())),
      frame_bytes_(formats::waveform_frame_bytes(settings_.channels, settings_.samples_per_channel)),
      pattern_(settings_),
      pacer_(rate_hz_) {}

dhub_status SimSource::produce(sdk::NodeContext& context, sdk::OutputSlot<sdk::Bytes>& out) {
    if (finished()) return DHUB_END_OF_STREAM;
    if (const dhub_status status = wait_for_next_frame(context, out.capacity()); status != DHUB_OK) return status;
    write_frame(out);
    return DHUB_OK;
}

dhub_status SimSource::produce_burst(sdk::NodeContext& context, sdk::OutputBurst<sdk::Bytes>& out) {
    if (finished()) return DHUB_END_OF_STREAM;
    if (const dhub_status status = wait_for_next_frame(context, out[0].capacity()); status != DHUB_OK) return status;
    write_frame(out[0]);
    std::size_t filled = 1;
    const std::uint64_t now_ns = context.now_ns();
    while (filled < out.size() && !finished() && pacer_.deadline_ns() <= now_ns)
        write_frame(out[filled++]);
    out.set_filled(filled);
    return DHUB_OK;
}

dhub_status SimSource::wait_for_next_frame(sdk::NodeContext& context, std::uint64_t slot_capacity) {
    if (slot_capacity < frame_bytes_) {
        if (!reported_small_slot_) {
            reported_small_slot_ = true;
            context.log().error("output slot holds " + std::to_string(slot_capacity) + " bytes but a frame of " +
                                std::to_string(settings_.channels) + " channels x " +
                                std::to_string(settings_.samples_per_channel) + " samples needs " +
                                std::to_string(frame_bytes_) +
                                " (64-byte header + 8 bytes per sample): set slot_bytes "
                                "of the output channel to at least " +
                                std::to_string(frame_bytes_) + ", or lower channels or samples_per_channel");
        }
        return DHUB_ERR_INVALID_ARGUMENT;
    }

    const std::uint64_t now_ns = context.now_ns();
    if (!pacer_.anchored()) {
        pacer_.anchor(now_ns);
    } else if (const std::uint64_t lag_ns = pacer_.lag_ns(now_ns); lag_ns > MAX_LAG_NS) {
        // Catching up would emit a burst of late frames; start the schedule again from now instead.
        if (resyncs_ == 0) {
            context.log().warn("fell " + format_duration_ns(lag_ns) + " behind the " + format_number(rate_hz_) +
                               " Hz schedule; resynchronised to now (frames are late, none dropped; the node or "
                               "its consumers are too slow for rate_hz). Shown once.");
        }
        ++resyncs_;
        pacer_.anchor(now_ns);
    }
    return context.sleep_until(pacer_.deadline_ns());
}

void SimSource::write_frame(sdk::OutputSlot<sdk::Bytes> out) {
    const std::uint64_t timestamp_ns = pacer_.deadline_ns();
    formats::WaveformHeader header{};
    header.sequence = frames_;
    header.timestamp_ns = timestamp_ns;
    header.channels = settings_.channels;
    header.samples_per_channel = settings_.samples_per_channel;
    header.sample_rate_hz = settings_.sample_rate_hz;
    formats::write_waveform_header(out.bytes(), header);
    pattern_.fill(frames_, formats::waveform_samples(out.bytes(), static_cast<std::uint64_t>(settings_.channels) *
                                                                      settings_.samples_per_channel));
    out.set_bytes(frame_bytes_);
    out.set_timestamp_ns(timestamp_ns);
    pacer_.advance();
    ++frames_;
}

void SimSource::stop(sdk::NodeContext& context) {
    std::string summary = "produced " + std::to_string(frames_) + " frames";
    if (resyncs_ > 0) summary += "; resynchronised " + std::to_string(resyncs_) + " times after falling behind";
    context.log().info(summary);
}

}  // namespace dhub::plugins::sim

DHUB_PLUGIN("sim_source",
            "1.0.0",
            "Apache-2.0",
            "Synthetic waveform source (dhub.source.sim)",
            dhub::sdk::component<dhub::plugins::sim::SimSource>())
