// SPDX-License-Identifier: Apache-2.0
// The slot layout of schema "dhub.waveform.f64@1", the one definition every built-in plugin that reads
// or writes waveforms uses (docs/plugins.md):
//
//   offset 0   WaveformHeader (64 bytes)
//   offset 64  channels * samples_per_channel doubles, channel-major: all samples of channel 0, then all
//              of channel 1, ...; sample s of channel c is at index c * samples_per_channel + s
//
// A slot holds exactly waveform_frame_bytes(channels, samples_per_channel) committed bytes. Host byte
// order (little-endian on every platform dhub supports). Changing this layout means a new schema id
// (dhub.waveform.f64@2), never an edit of this one.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <string>
#include <type_traits>

namespace dhub::formats {

inline constexpr const char* WAVEFORM_SCHEMA_ID = "dhub.waveform.f64@1";

struct WaveformHeader {
    std::uint64_t sequence;             ///< the source's frame counter, from 0
    std::uint64_t timestamp_ns;         ///< CLOCK_MONOTONIC time the frame stands for (its deadline)
    std::uint32_t channels;             ///< >= 1
    std::uint32_t samples_per_channel;  ///< >= 1
    double sample_rate_hz;              ///< samples per second in each channel
    std::uint8_t reserved[32];          ///< zero; readers ignore it
};

// The layout is ABI: it lives in shared memory and in recordings.
static_assert(sizeof(WaveformHeader) == 64);
static_assert(offsetof(WaveformHeader, sequence) == 0);
static_assert(offsetof(WaveformHeader, timestamp_ns) == 8);
static_assert(offsetof(WaveformHeader, channels) == 16);
static_assert(offsetof(WaveformHeader, samples_per_channel) == 20);
static_assert(offsetof(WaveformHeader, sample_rate_hz) == 24);
static_assert(offsetof(WaveformHeader, reserved) == 32);
static_assert(std::is_trivially_copyable_v<WaveformHeader> && std::is_standard_layout_v<WaveformHeader>);
static_assert(std::endian::native == std::endian::little, "dhub.waveform.f64@1 is little-endian");

inline constexpr std::uint64_t WAVEFORM_HEADER_BYTES = sizeof(WaveformHeader);

/// Committed bytes of a frame with that shape (no overflow for 32-bit channel and sample counts with
/// the values the components accept; see parse_waveform for the general check).
constexpr std::uint64_t waveform_frame_bytes(std::uint64_t channels, std::uint64_t samples_per_channel) noexcept {
    return WAVEFORM_HEADER_BYTES + channels * samples_per_channel * sizeof(double);
}

/// A waveform slot read in place: the header (copied) and the samples (a view of the slot).
struct WaveformView {
    WaveformHeader header{};
    std::span<const double> samples;  ///< channels * samples_per_channel, channel-major

    std::span<const double> channel(std::uint32_t index) const noexcept {
        return samples.subspan(static_cast<std::size_t>(index) * header.samples_per_channel,
                               header.samples_per_channel);
    }
};

/// parse_waveform's answer: a view, or why the bytes are not a well-formed waveform.
struct WaveformParse {
    WaveformView view;
    std::string error;  ///< empty when well-formed

    bool ok() const noexcept { return error.empty(); }
};

/// Checks the committed bytes of a slot: at least a header, channels and samples_per_channel >= 1, and
/// exactly as many bytes as the header says. Allocates only to describe a malformed frame.
inline WaveformParse parse_waveform(std::span<const std::byte> bytes) {
    WaveformParse result;
    if (bytes.size() < WAVEFORM_HEADER_BYTES) {
        result.error = "malformed waveform: " + std::to_string(bytes.size()) + " bytes, fewer than the " +
                       std::to_string(WAVEFORM_HEADER_BYTES) + "-byte header";
        return result;
    }
    std::memcpy(&result.view.header, bytes.data(), sizeof(WaveformHeader));
    const WaveformHeader& header = result.view.header;
    if (header.channels == 0 || header.samples_per_channel == 0) {
        result.error = "malformed waveform: header says " + std::to_string(header.channels) + " channels x " +
                       std::to_string(header.samples_per_channel) + " samples (both must be at least 1)";
        return result;
    }
    // Both counts are 32-bit, so their product fits in 64 bits; the byte count may not.
    const std::uint64_t samples = static_cast<std::uint64_t>(header.channels) * header.samples_per_channel;
    const std::uint64_t payload = bytes.size() - WAVEFORM_HEADER_BYTES;
    if (samples > std::numeric_limits<std::uint64_t>::max() / sizeof(double) || samples * sizeof(double) != payload) {
        result.error = "malformed waveform: header says " + std::to_string(header.channels) + " channels x " +
                       std::to_string(header.samples_per_channel) + " samples = " +
                       std::to_string(waveform_frame_bytes(header.channels, header.samples_per_channel)) +
                       " bytes, but the slot holds " + std::to_string(bytes.size()) + " bytes";
        return result;
    }
    const std::byte* first = bytes.data() + WAVEFORM_HEADER_BYTES;
    if (reinterpret_cast<std::uintptr_t>(first) % alignof(double) != 0) {
        result.error = "malformed waveform: samples are not 8-byte aligned in the slot";
        return result;
    }
    // Slot memory holds doubles written by the producer; viewing it in place is the zero-copy contract.
    result.view.samples = {reinterpret_cast<const double*>(first), static_cast<std::size_t>(samples)};
    return result;
}

/// The sample area of an output slot that holds at least waveform_frame_bytes(...) bytes.
inline std::span<double> waveform_samples(std::span<std::byte> slot, std::uint64_t sample_count) noexcept {
    return {reinterpret_cast<double*>(slot.data() + WAVEFORM_HEADER_BYTES), static_cast<std::size_t>(sample_count)};
}

/// Writes the header at the start of an output slot.
inline void write_waveform_header(std::span<std::byte> slot, const WaveformHeader& header) noexcept {
    std::memcpy(slot.data(), &header, sizeof header);
}

}  // namespace dhub::formats
