// SPDX-License-Identifier: Apache-2.0
// One measured row, and the two ways of printing rows: an aligned table for people and JSON lines
// (stable field names) for scripts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <ostream>
#include <span>
#include <string>

#include <nlohmann/json.hpp>

#include "harness/latency_stats.hpp"

namespace dhub::bench {

/// One benchmark case as measured. Fields that do not apply stay NaN (numbers) or empty (text).
struct CaseResult {
    // Every member has an initialiser, so designated initialisers may name only some of them.
    std::string case_name{};  ///< e.g. "pingpong", "oneway", "pingpong_cacheline"
    std::string transport{};  ///< "dhub", "raw_shm", "iceoryx" or "zeromq"
    std::size_t payload_bytes = 0;
    double p50_ns = std::numeric_limits<double>::quiet_NaN();  ///< round-trip latency percentiles
    double p99_ns = std::numeric_limits<double>::quiet_NaN();
    double p999_ns = std::numeric_limits<double>::quiet_NaN();
    double msgs_per_s = std::numeric_limits<double>::quiet_NaN();  ///< per consumer when consumers > 1
    double gb_per_s = std::numeric_limits<double>::quiet_NaN();    ///< 1 GB = 1e9 bytes of payload
    std::string wait{};                                            ///< "spin", "sleep", or "" when it does not apply
    int consumers = 1;                                             ///< 0 when it does not apply (e.g. memcpy)
    std::string note{};   ///< free text for people: ring depth, touch rule, losses
    std::string error{};  ///< non-empty when the case failed; such rows are left out of the JSON

    bool failed() const noexcept { return !error.empty(); }
    /// Copies p50/p99/p99.9 from a summary.
    void set_latency(const LatencySummary& summary) noexcept;
    /// Sets msgs_per_s, and gb_per_s from payload_bytes.
    void set_throughput(std::uint64_t messages, std::int64_t elapsed_ns) noexcept;
};

/// The stable JSON form: exactly case, transport, payload_bytes, p50_ns, p99_ns, p999_ns,
/// msgs_per_s, gb_per_s, wait, consumers. NaN and "" become null.
nlohmann::json to_json(const CaseResult& result);

/// One JSON object per line for every row that did not fail.
void print_json_lines(std::ostream& out, std::span<const CaseResult> results);

/// Aligned table, one block per case_name (in order of first appearance), rows within a block
/// ordered by payload size, spin before sleep; failed rows show their error.
void print_table(std::ostream& out, std::span<const CaseResult> results);

/// One line for progress output while the benchmarks run.
std::string one_line_summary(const CaseResult& result);

}  // namespace dhub::bench
