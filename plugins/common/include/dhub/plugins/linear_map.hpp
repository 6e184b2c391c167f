// SPDX-License-Identifier: Apache-2.0
// scale's arithmetic, out = in * gain + offset on every sample, written so that it runs at the speed of memory.
//
// Why four at a time: at -O2 (RelWithDebInfo, and a distribution's default) GCC 12 vectorizes a loop only when it
// needs neither a scalar tail nor a runtime check that the two arrays do not overlap. The sample-by-sample loop
// got neither and ran one multiply and one add per sample, which took as long per 4 KiB slot as the sink's whole
// cross-core read after it (bench dhub.stage_path). Four samples loaded before any is stored is straight-line
// code the compilers' block vectorizers turn into vector loads, multiplies, adds and stores on any baseline, with
// no overlap check: nothing is stored before the four are read.
//
// Results are those of the sample-by-sample loop built with the same flags, bit for bit: each sample is one
// multiply and one add. Where the compiler fuses the two into one FMA (GCC and Clang do by default on arm64, and
// on x86-64 built for a CPU with FMA, -march=native say), it fuses both loops alike; on the default x86-64 target
// each is a multiply then an add, rounded twice.
#pragma once

#include <cstddef>

namespace dhub::plugins {

/// out[i] = in[i] * gain + offset for i < count. in and out may be the same array, not partly overlapping ones.
inline void map_linear(const double* in, double* out, std::size_t count, double gain, double offset) noexcept {
    std::size_t index = 0;
    for (; index + 4 <= count; index += 4) {
        const double first = in[index] * gain + offset;
        const double second = in[index + 1] * gain + offset;
        const double third = in[index + 2] * gain + offset;
        const double fourth = in[index + 3] * gain + offset;
        out[index] = first;
        out[index + 1] = second;
        out[index + 2] = third;
        out[index + 3] = fourth;
    }
    for (; index < count; ++index)
        out[index] = in[index] * gain + offset;
}

}  // namespace dhub::plugins
