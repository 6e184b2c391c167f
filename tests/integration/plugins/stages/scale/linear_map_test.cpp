// SPDX-License-Identifier: Apache-2.0
// map_linear, scale's arithmetic four samples at a time (eight with AVX-512): the same doubles, bit for bit, as one
// multiply and one add per sample, for every count (the tail too), in place, and on the values a frame may hold
// (NaN, infinities, -0, subnormals), on either path.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <utility>
#include <vector>

#include "dhub/plugins/linear_map.hpp"

namespace {

std::vector<double> samples(std::size_t count) {
    std::mt19937_64 random(count);
    std::vector<double> values(count);
    for (double& value : values)
        value = std::uniform_real_distribution<double>(-1e6, 1e6)(random);
    const double special[] = {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(),
                              -std::numeric_limits<double>::infinity(), -0.0,
                              std::numeric_limits<double>::denorm_min()};
    for (std::size_t index = 0; index < count && index < std::size(special); ++index)
        values[count - 1 - index] = special[index];
    return values;
}

/// Samples near 10, mapped with gain 0.1 and offset -1: the results are near 0, so the product's rounding shows in
/// them, and a multiply and add fused into one FMA (rounded once) gives other bits.
std::vector<double> near_ten(std::size_t count) {
    std::mt19937_64 random(count + 1);
    std::vector<double> values(count);
    for (double& value : values)
        value = std::uniform_real_distribution<double>(9.0, 11.0)(random);
    return values;
}
constexpr double CANCELLING_GAIN = 0.1;
constexpr double CANCELLING_OFFSET = -1.0;

std::vector<double> one_by_one(const std::vector<double>& in, double gain, double offset) {
    std::vector<double> out(in.size());
    for (std::size_t index = 0; index < in.size(); ++index)
        out[index] = in[index] * gain + offset;
    return out;
}

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
    // An empty vector's data() may be null, which memcmp must not be given even for zero bytes.
    return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
}

TEST(LinearMap, GivesTheDoublesOfOneMultiplyAndOneAddPerSampleForEveryCount) {
    for (const std::size_t count : {0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 505, 512}) {
        const std::vector<double> in = samples(count);
        std::vector<double> out(count, 99.0);
        dhub::plugins::map_linear(in.data(), out.data(), count, -2.75, 0.125);
        EXPECT_TRUE(same_bits(out, one_by_one(in, -2.75, 0.125))) << count << " samples";
        const std::vector<double> cancelling = near_ten(count);
        dhub::plugins::map_linear(cancelling.data(), out.data(), count, CANCELLING_GAIN, CANCELLING_OFFSET);
        EXPECT_TRUE(same_bits(out, one_by_one(cancelling, CANCELLING_GAIN, CANCELLING_OFFSET)))
            << count << " samples near 10: was the multiply and add fused?";
    }
}

TEST(LinearMap, WritesNoSampleBeyondTheCount) {
    const std::vector<double> in = samples(7);
    std::vector<double> out(9, 42.0);
    dhub::plugins::map_linear(in.data(), out.data(), 7, 2.0, 1.0);
    EXPECT_EQ(out[7], 42.0);
    EXPECT_EQ(out[8], 42.0);
}

TEST(LinearMap, MapsInPlace) {
    for (const std::size_t count : {6, 13, 64}) {
        std::vector<double> values = samples(count);
        const std::vector<double> expected = one_by_one(values, 3.0, -1.5);
        dhub::plugins::map_linear(values.data(), values.data(), count, 3.0, -1.5);
        EXPECT_TRUE(same_bits(values, expected)) << count << " samples";
    }
}

TEST(LinearMap, GainOneAndOffsetZeroGiveBackEveryRepeatedBytePattern) {
    // What dhub-bench's stage relies on to check every byte after bench_scale: a word of one repeated byte is a
    // finite double, zero or a quiet NaN, and x * 1 + 0 keeps all of them.
    for (unsigned byte = 0; byte < 256; ++byte) {
        std::vector<double> in(8);
        std::memset(in.data(), static_cast<int>(byte), in.size() * sizeof(double));
        std::vector<double> out(in.size());
        dhub::plugins::map_linear(in.data(), out.data(), in.size(), 1.0, 0.0);
        EXPECT_TRUE(same_bits(in, out)) << "byte 0x" << std::hex << byte;
    }
}

TEST(LinearMap, TheAvx512AndThePortablePathsGiveTheSameBits) {
#if DHUB_LINEAR_MAP_AVX512
    if (!dhub::plugins::detail::has_avx512f())
        GTEST_SKIP() << "this CPU has no AVX-512F: map_linear runs the portable loop";
    for (const std::size_t count : {8, 9, 15, 16, 17, 63, 512}) {
        for (const auto& [gain, offset] : {std::pair{-2.75, 0.125}, std::pair{1.0, 0.0}, std::pair{1e300, -1e300},
                                           std::pair{CANCELLING_GAIN, CANCELLING_OFFSET}}) {
            const std::vector<double> in = gain == CANCELLING_GAIN ? near_ten(count) : samples(count);
            std::vector<double> wide(count, 99.0);
            std::vector<double> portable(count, 98.0);
            dhub::plugins::detail::map_linear_avx512(in.data(), wide.data(), count, gain, offset);
            dhub::plugins::detail::map_linear_portable(in.data(), portable.data(), count, gain, offset);
            EXPECT_TRUE(same_bits(wide, portable)) << count << " samples, gain " << gain << ", offset " << offset;
            EXPECT_TRUE(same_bits(wide, one_by_one(in, gain, offset))) << count << " samples, gain " << gain;
        }
    }
    // The masked tail writes its lanes and no further: every tail length, with samples beyond the count.
    for (std::size_t count = 8; count <= 16; ++count) {
        const std::vector<double> in = samples(count + 8);
        std::vector<double> out(count + 8, 42.0);
        dhub::plugins::detail::map_linear_avx512(in.data(), out.data(), count, 2.0, 1.0);
        const std::vector<double> expected = one_by_one(in, 2.0, 1.0);
        for (std::size_t index = 0; index < count + 8; ++index) {
            const double want = index < count ? expected[index] : 42.0;
            EXPECT_EQ(std::memcmp(&out[index], &want, sizeof want), 0) << "sample " << index << " of " << count;
        }
    }
#else
    GTEST_SKIP() << "not an x86-64 build for a CPU without FMA: map_linear has the portable loop only";
#endif
}

}  // namespace
