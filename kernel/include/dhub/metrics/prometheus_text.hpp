// SPDX-License-Identifier: Apache-2.0
// A kernel's counters in the Prometheus text exposition format (version 0.0.4), as its metrics endpoint serves
// them (docs/metrics.md lists every metric). Pure: counters in, text out, so the format is tested on its own.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dhub/counters/page_reader.hpp"

namespace dhub::metrics {

/// A channel's ring as its segment says now (shm::inspect_channel): what the counters page does not copy.
struct ChannelSample {
    std::string name;
    std::uint64_t written = 0;  ///< write_seq: slots published since the channel was made
    std::uint32_t slot_count = 0;
    struct Reader {
        std::string name;
        bool latest = false;
        std::uint64_t lag = 0;      ///< a lossless reader's unread slots
        std::uint64_t skipped = 0;  ///< a latest-only reader's slots passed over
    };
    std::vector<Reader> readers;
};

/// The text of GET /metrics: kernel, node, input and channel metrics, every series labelled with the graph.
std::string render_prometheus(const counters::KernelCounters& kernel, const std::vector<ChannelSample>& channels);

/// A label value as the format wants it: backslash, double quote and newline escaped.
std::string escape_label(const std::string& value);

}  // namespace dhub::metrics
