// SPDX-License-Identifier: Apache-2.0
#include "waveform_pattern.hpp"

#include <cmath>
#include <numbers>

namespace dhub::plugins::sim {

std::optional<WaveformKind> waveform_kind_named(std::string_view name) noexcept {
    if (name == "sine") return WaveformKind::Sine;
    if (name == "noise") return WaveformKind::Noise;
    if (name == "ramp") return WaveformKind::Ramp;
    if (name == "counter") return WaveformKind::Counter;
    return std::nullopt;
}

WaveformPattern::WaveformPattern(const PatternSettings& settings) noexcept
    : settings_(settings), noise_state_(settings.seed) {}

// splitmix64 (Steele, Lea, Flood 2014): tiny, fast, and fully specified, unlike std:: distributions whose
// output differs between standard libraries.
double WaveformPattern::next_noise() noexcept {
    noise_state_ += 0x9E3779B97F4A7C15ULL;
    std::uint64_t z = noise_state_;
    z = (z ^ (z >> 30U)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27U)) * 0x94D049BB133111EBULL;
    z ^= z >> 31U;
    const double unit = static_cast<double>(z >> 11U) * 0x1.0p-53;  // [0, 1)
    return settings_.amplitude * (2.0 * unit - 1.0);
}

void WaveformPattern::fill(std::uint64_t frame, std::span<double> samples) noexcept {
    const std::uint64_t per_channel = settings_.samples_per_channel;
    const std::uint64_t per_frame = per_channel * settings_.channels;
    switch (settings_.kind) {
        case WaveformKind::Sine: {
            const double cycles_per_sample = settings_.frequency_hz / settings_.sample_rate_hz;
            // Reduce the frame's starting phase to one cycle first: the sample index grows without bound,
            // the phase within a cycle must not lose precision.
            const double frame_cycles = std::fmod(cycles_per_sample * static_cast<double>(frame * per_channel), 1.0);
            for (std::uint32_t c = 0; c < settings_.channels; ++c) {
                const double channel_cycles = frame_cycles + static_cast<double>(c) / settings_.channels;
                for (std::uint64_t s = 0; s < per_channel; ++s) {
                    const double cycles = channel_cycles + cycles_per_sample * static_cast<double>(s);
                    samples[c * per_channel + s] = settings_.amplitude * std::sin(2.0 * std::numbers::pi * cycles);
                }
            }
            break;
        }
        case WaveformKind::Noise:
            for (double& sample : samples)
                sample = next_noise();
            break;
        case WaveformKind::Ramp:
            for (std::uint32_t c = 0; c < settings_.channels; ++c) {
                for (std::uint64_t s = 0; s < per_channel; ++s) {
                    samples[c * per_channel + s] =
                        settings_.amplitude * static_cast<double>(s) / static_cast<double>(per_channel);
                }
            }
            break;
        case WaveformKind::Counter: {
            const std::uint64_t first = frame * per_frame;
            for (std::uint64_t index = 0; index < per_frame; ++index) {
                samples[index] = static_cast<double>(first + index);
            }
            break;
        }
    }
}

}  // namespace dhub::plugins::sim
