// SPDX-License-Identifier: Apache-2.0
#include "text.hpp"

#include <iterator>

namespace dhub::ctl {

std::string human_bytes(std::uint64_t bytes) {
    const char* units[] = {"B", "KB", "MB", "GB", "TB"};
    double value = static_cast<double>(bytes);
    std::size_t unit = 0;
    while (value >= 1000 && unit + 1 < std::size(units)) {
        value /= 1000;
        ++unit;
    }
    return unit == 0 ? format("%llu B", static_cast<unsigned long long>(bytes)) : format("%.1f %s", value, units[unit]);
}

std::string human_ns(std::uint64_t ns) {
    if (ns == 0) return "-";
    if (ns < 1'000) return format("%llu ns", static_cast<unsigned long long>(ns));
    if (ns < 1'000'000) return format("%.1f us", static_cast<double>(ns) / 1e3);
    if (ns < 1'000'000'000) return format("%.1f ms", static_cast<double>(ns) / 1e6);
    return format("%.1f s", static_cast<double>(ns) / 1e9);
}

}  // namespace dhub::ctl
