// SPDX-License-Identifier: Apache-2.0
// Entry points of the benchmark groups; main.cpp calls each one to fill the registry.
#pragma once

#include "harness/registry.hpp"

namespace dhub::bench {

/// Physical lower bounds: cache line and futex ping-pong, memcpy, a bare SPSC ring (raw_shm).
void register_raw_cases(Registry& registry);

/// p50 of a short cache-line ping-pong between the producer and consumer cores, in ns. On a VM the
/// host may move the vCPUs (e.g. onto different L3 domains) between runs, which changes every
/// cross-core number; main runs this before each group and records it in the notes.
double probe_core_to_core_ns(const BenchOptions& options);

/// dhub's own transport (DataBlock); filled in by bench/dhub_cases.cpp.
void register_dhub_cases(Registry& registry);

#ifdef DHUB_BENCH_HAVE_BROKER
/// The control plane: discovery-to-first-slot latency and broker load (memory over time); needs dhub-broker.
void register_broker_cases(Registry& registry);
#endif

#ifdef DHUB_BENCH_HAVE_TRANSPORT
/// Transports between two dhub-kernel processes (the zmq transport) against bare ZeroMQ over loopback TCP.
void register_transport_cases(Registry& registry);
#endif

#ifdef DHUB_BENCH_HAVE_KAFKA
/// The kafka transport between two dhub-kernel processes through librdkafka's mock cluster.
void register_kafka_cases(Registry& registry);
#endif

#ifdef DHUB_HAVE_ICEORYX
/// iceoryx 2.0 classic API over a RouDi that the group starts itself.
void register_iceoryx_cases(Registry& registry);
#endif

#ifdef DHUB_HAVE_ZEROMQ
/// ZeroMQ over ipc:// endpoints.
void register_zeromq_cases(Registry& registry);
#endif

}  // namespace dhub::bench
