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
//
// Where the CPU has AVX-512 (checked once, at run time: the plugin is built for the baseline), eight samples go at a
// time, each store a whole 64-byte cache line of the 64-byte aligned slot. A stage's output lines were last read by
// its consumer on another CPU; whole-line stores take them over faster than 16-byte ones, which on a 2-CPU
// machine took source -> scale -> sink at 4 KiB from 66 % to 71 % of source -> sink (medians of four alternating
// runs of dhub-bench --filter stage_path's graphs). The multiply and the add stay two instructions there too (an
// empty asm statement between them, which no compiler fuses across), so the results are the same bits as the
// baseline loop's. A build for a CPU with FMA (__FMA__: -march=native, x86-64-v3; or -mavx512f, whose FMA the
// compiler uses too) fuses the portable loop, and has no AVX-512 path: one binary never gives two answers.
#pragma once

#include <cstddef>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__FMA__) && !defined(__AVX512F__)
#include <immintrin.h>
#define DHUB_LINEAR_MAP_AVX512 1
#else
#define DHUB_LINEAR_MAP_AVX512 0
#endif

namespace dhub::plugins {

namespace detail {

/// map_linear on any CPU: four samples loaded before any is stored.
inline void map_linear_portable(const double* in, double* out, std::size_t count, double gain, double offset) noexcept {
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

#if DHUB_LINEAR_MAP_AVX512
/// Whether this CPU, and the kernel that saves its registers, run AVX-512F.
inline bool has_avx512f() noexcept {
    static const bool available = __builtin_cpu_supports("avx512f") != 0;
    return available;
}

/// samples * gains + offsets in the lanes `lanes` (zero in the others), rounded after the multiply and after the
/// add. The empty asm takes the product out of the compiler's sight: without it Clang turns the intrinsics into
/// plain IR that -ffp-contract=fast may fuse (AVX-512F brings FMA). The zero-masking forms because the plain ones
/// start from an undefined register, which GCC 12 warns about.
__attribute__((target("avx512f"))) inline __m512d map_lanes(__mmask8 lanes,
                                                            __m512d samples,
                                                            __m512d gains,
                                                            __m512d offsets) noexcept {
    __m512d product = _mm512_maskz_mul_pd(lanes, samples, gains);
    __asm__("" : "+v"(product));
    return _mm512_maskz_add_pd(lanes, product, offsets);
}

/// map_linear eight samples at a time in AVX-512 registers, the last fewer than eight by masked loads and stores (a
/// scalar tail here would be compiled with FMA, which AVX-512F brings). Call only where has_avx512f().
__attribute__((target("avx512f"))) inline void map_linear_avx512(
    const double* in, double* out, std::size_t count, double gain, double offset) noexcept {
    const __m512d gains = _mm512_set1_pd(gain);
    const __m512d offsets = _mm512_set1_pd(offset);
    std::size_t index = 0;
    for (; index + 8 <= count; index += 8)
        _mm512_storeu_pd(out + index, map_lanes(0xFF, _mm512_loadu_pd(in + index), gains, offsets));
    if (index < count) {
        // Masked-off lanes are neither read nor written: no fault past the end of the slot.
        const auto tail = static_cast<__mmask8>((1U << (count - index)) - 1U);
        _mm512_mask_storeu_pd(out + index, tail,
                              map_lanes(tail, _mm512_maskz_loadu_pd(tail, in + index), gains, offsets));
    }
}
#endif

}  // namespace detail

/// out[i] = in[i] * gain + offset for i < count. in and out may be the same array, not partly overlapping ones.
inline void map_linear(const double* in, double* out, std::size_t count, double gain, double offset) noexcept {
#if DHUB_LINEAR_MAP_AVX512
    if (count >= 8 && detail::has_avx512f()) {
        detail::map_linear_avx512(in, out, count, gain, offset);
        return;
    }
#endif
    detail::map_linear_portable(in, out, count, gain, offset);
}

}  // namespace dhub::plugins
