// SPDX-License-Identifier: Apache-2.0
// Two dhub-kernel processes joined by a transport: bench_source -> stream -> <sender> in one, <receiver> -> stream
// -> bench_sink in the other. The transport rows (zmq, kafka) all measure through it.
#pragma once

#include <cstddef>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "harness/registry.hpp"

namespace dhub::bench {

struct BridgeRun {
    double msgs_per_s = 0;  ///< at the far sink, after its warm-up
    double p50_ns = 0;      ///< with rate_hz > 0: the far producer's stamp to the sink
    double p99_ns = 0;
};

/// The transport's two nodes, without their ports: `sender` reads the channel "stream", `receiver` writes it.
struct BridgeEnds {
    nlohmann::json sender;
    nlohmann::json receiver;
};

/// Runs the bridge over `messages` slots of `payload` bytes (ring of `slots`); the receiver's kernel starts first.
/// With rate_hz > 0 the source is paced and the sink
/// times each slot from its far producer's stamp. Throws if a kernel fails, times out, or a slot is bad or lost
/// (at the sink, or far sequence numbers the receiver never got).
BridgeRun run_kernel_bridge(const BenchOptions& options,
                            const BridgeEnds& ends,
                            std::size_t payload,
                            std::uint32_t slots,
                            std::uint64_t messages,
                            double rate_hz = 0);

}  // namespace dhub::bench
