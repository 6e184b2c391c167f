// SPDX-License-Identifier: Apache-2.0
// A loopback TCP endpoint for a broker that a test stops and starts again on the same port.
#pragma once

#include <string>

namespace dhub::testing {

/// "tcp://127.0.0.1:<port>" with a port that is free now and lies below the kernel's ephemeral range.
/// Why not port 0: the system picks from the ephemeral range, and while the broker is down a client
/// reconnecting to that port can be given it as its own source port — TCP then connects the socket to
/// itself, the port is taken, and the restarted broker cannot bind (seen under ThreadSanitizer's load).
std::string restartable_loopback_endpoint();
/// The port of such an endpoint: for a server a test restarts on the same port (a transport's sender).
int restartable_loopback_port();
/// The first of `count` consecutive such ports, all free now (a graph exporting several channels).
int restartable_loopback_ports(int count);

}  // namespace dhub::testing
