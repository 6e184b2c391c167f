// SPDX-License-Identifier: Apache-2.0
// How dhub-ctl writes numbers for people: the one formatting helper and the units every view shares.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace dhub::ctl {

/// printf into a string (a line of a view: 512 bytes at most).
template <typename... Values>
std::string format(const char* pattern, Values... values) {
    char line[512];
    std::snprintf(line, sizeof line, pattern, values...);
    return line;
}

/// A byte count: "512 B", "1.5 KB", "20.0 MB".
std::string human_bytes(std::uint64_t bytes);
/// A duration: "-" for none, "850 ns", "131.1 us", "8.4 ms", "1.2 s".
std::string human_ns(std::uint64_t ns);

}  // namespace dhub::ctl
