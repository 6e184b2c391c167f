// SPDX-License-Identifier: Apache-2.0
// The two halves of the demo and the launcher that runs them as two processes. Each returns the exit
// code of its process: 0 on success, 1 on failure.
#pragma once

#include <sys/types.h>

#include "demo_options.hpp"

namespace dhub::demo {

/// Creates the channel, waits for a consumer, writes frames for options.seconds, then closes the channel
/// (which removes the segment). consumer_pid, if not 0, is a child whose early exit ends the wait.
int run_producer(const DemoOptions& options, pid_t consumer_pid);

/// Attaches to options.channel, verifies every frame and reports rate and latency until the producer
/// closes the channel. Fails if a frame was missed or bad, or the producer died.
int run_consumer(const DemoOptions& options);

/// Re-executes this program as the consumer and runs the producer in this process.
int run_producer_and_consumer(const DemoOptions& options);

}  // namespace dhub::demo
