// SPDX-License-Identifier: Apache-2.0
// The sample values of the simulated waveforms (docs/plugins.md, dhub.source.sim):
//   sine     amplitude * sin(2 pi (frequency_hz * t + c / channels)), t = global sample index / sample rate,
//            continuous across frames; channel c is phase-shifted by c / channels of a cycle
//   noise    uniform in [-amplitude, amplitude), from a splitmix64 generator seeded with seed: the same
//            seed gives the same samples on every platform
//   ramp     amplitude * s / samples_per_channel in every channel: 0 up to just below amplitude, per frame
//   counter  the running sample count, frame * channels * samples_per_channel + c * samples_per_channel + s,
//            exact (no amplitude) so that consumers can check every value
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace dhub::plugins::sim {

enum class WaveformKind { Sine, Noise, Ramp, Counter };

std::optional<WaveformKind> waveform_kind_named(std::string_view name) noexcept;

struct PatternSettings {
    WaveformKind kind = WaveformKind::Sine;
    std::uint32_t channels = 1;
    std::uint32_t samples_per_channel = 1;
    double amplitude = 1.0;
    double frequency_hz = 10.0;
    double sample_rate_hz = 1.0;  ///< samples per second per channel
    std::uint64_t seed = 1;
};

class WaveformPattern {
public:
    explicit WaveformPattern(const PatternSettings& settings) noexcept;

    /// Writes frame number `frame` into samples (channels * samples_per_channel values, channel-major).
    void fill(std::uint64_t frame, std::span<double> samples) noexcept;

private:
    double next_noise() noexcept;

    PatternSettings settings_;
    std::uint64_t noise_state_;
};

}  // namespace dhub::plugins::sim
