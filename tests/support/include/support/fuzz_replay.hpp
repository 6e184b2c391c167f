// SPDX-License-Identifier: Apache-2.0
// Fuzz targets without libFuzzer (GCC builds): a reproducible driver for an LLVMFuzzerTestOneInput, and the frame
// packing the message decoders' targets share.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dhub::testing {

using FuzzTarget = int (*)(const std::uint8_t* data, std::size_t size);

/// Runs target on every corpus input, then on `iterations` inputs from a fixed seed: one in four random bytes, the
/// rest corpus inputs with a few bytes flipped, dropped, inserted or replaced by one of `punctuation`. argv[1] and
/// argv[2], when given, are the seed and the iteration count. Prints a line with what ran; returns 0 (a target
/// fails by crashing, which is what ctest sees).
int replay_fuzz(const char* name,
                int argc,
                char** argv,
                const std::vector<std::string>& corpus,
                std::string_view punctuation,
                FuzzTarget target);

/// Several frames as one fuzz input: byte 0 the frame count, then per frame a 2-byte little-endian length and the
/// bytes. unpack_frames reads it back, clamping lengths to what is left, for at most max_frames frames.
std::string pack_frames(const std::vector<std::string>& frames);
std::vector<std::string_view> unpack_frames(const std::uint8_t* data, std::size_t size, std::size_t max_frames);

}  // namespace dhub::testing
