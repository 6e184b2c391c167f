// SPDX-License-Identifier: Apache-2.0
// map_linear, scale's arithmetic four samples at a time: the same doubles, bit for bit, as one multiply and one add
// per sample, for every count (the tail too), in place, and on the values a frame may hold (NaN, infinities, -0,
// subnormals).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
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

}  // namespace
