// SPDX-License-Identifier: Apache-2.0
#include "restart_intensity.hpp"

#include <gtest/gtest.h>

namespace dhub::runtime {
namespace {

constexpr std::uint64_t SECOND = 1'000'000'000ULL;

TEST(RestartIntensity, AllowsMaxRestartsPerWindowThenRefusesUntilTheOldestLeavesIt) {
    RestartIntensity intensity(3, 5 * SECOND);
    EXPECT_TRUE(intensity.allow(100 * SECOND));
    EXPECT_TRUE(intensity.allow(101 * SECOND));
    EXPECT_TRUE(intensity.allow(102 * SECOND));
    EXPECT_FALSE(intensity.allow(104 * SECOND));  // a fourth within 5 s
    EXPECT_FALSE(intensity.allow(104 * SECOND + SECOND - 1));
    EXPECT_TRUE(intensity.allow(105 * SECOND));  // the first left the window; refusals were not counted
    EXPECT_FALSE(intensity.allow(105 * SECOND + 1));
}

TEST(RestartIntensity, ZeroMeansNeverRestart) {
    RestartIntensity never(0, SECOND);
    EXPECT_FALSE(never.allow(SECOND));
    EXPECT_FALSE(never.allow(100 * SECOND));
}

}  // namespace
}  // namespace dhub::runtime
