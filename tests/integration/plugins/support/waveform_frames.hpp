// SPDX-License-Identifier: Apache-2.0
// Builds and reads dhub.waveform.f64@1 frames in tests.
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <vector>

#include "dhub/formats/waveform.hpp"
#include "dhub/sdk/testing/frame.hpp"

namespace dhub::test {

/// A well-formed waveform frame whose sample (c, s) is value(c, s).
inline sdk::testing::Frame make_waveform(std::uint64_t sequence,
                                         std::uint64_t timestamp_ns,
                                         std::uint32_t channels,
                                         std::uint32_t samples_per_channel,
                                         const std::function<double(std::uint32_t, std::uint32_t)>& value) {
    formats::WaveformHeader header{};
    header.sequence = sequence;
    header.timestamp_ns = timestamp_ns;
    header.channels = channels;
    header.samples_per_channel = samples_per_channel;
    header.sample_rate_hz = 1000.0;
    std::vector<double> samples(static_cast<std::size_t>(channels) * samples_per_channel);
    for (std::uint32_t c = 0; c < channels; ++c) {
        for (std::uint32_t s = 0; s < samples_per_channel; ++s)
            samples[c * samples_per_channel + s] = value(c, s);
    }
    sdk::testing::Frame frame;
    frame.sequence = sequence;
    frame.timestamp_ns = timestamp_ns;
    frame.bytes.resize(formats::waveform_frame_bytes(channels, samples_per_channel));
    std::memcpy(frame.bytes.data(), &header, sizeof header);
    std::memcpy(frame.bytes.data() + sizeof header, samples.data(), samples.size() * sizeof(double));
    return frame;
}

inline formats::WaveformHeader header_of(const sdk::testing::Frame& frame) {
    return frame.as<formats::WaveformHeader>();
}

inline std::vector<double> samples_of(const sdk::testing::Frame& frame) {
    return frame.as_array<double>(formats::WAVEFORM_HEADER_BYTES);
}

}  // namespace dhub::test
