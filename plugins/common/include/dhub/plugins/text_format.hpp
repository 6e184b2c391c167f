// SPDX-License-Identifier: Apache-2.0
// Numbers in log lines and verdicts, without iostreams or a format library: shortest round-trip text for
// values a user compares with what they configured, fixed precision for rates, a unit for durations.
#pragma once

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <string>

namespace dhub::plugins {

/// Shortest text that reads back as the same double: 0.1 -> "0.1", 1e300 -> "1e+300".
inline std::string format_number(double value) {
    char buffer[32];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    return {buffer, result.ptr};
}

/// Fixed number of decimals: format_fixed(1234.5678, 1) -> "1234.6".
inline std::string format_fixed(double value, int decimals) {
    char buffer[64];
    const int length = std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
    return length > 0 ? std::string(buffer, static_cast<std::size_t>(length)) : std::string();
}

/// A duration with a readable unit: 850 ns, 12.3 us, 4.5 ms, 2.0 s.
inline std::string format_duration_ns(std::uint64_t duration_ns) {
    const auto value = static_cast<double>(duration_ns);
    if (duration_ns < 1'000) return std::to_string(duration_ns) + " ns";
    if (duration_ns < 1'000'000) return format_fixed(value / 1e3, 1) + " us";
    if (duration_ns < 1'000'000'000) return format_fixed(value / 1e6, 1) + " ms";
    return format_fixed(value / 1e9, 1) + " s";
}

}  // namespace dhub::plugins
