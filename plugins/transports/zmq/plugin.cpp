// SPDX-License-Identifier: Apache-2.0
// dhub-zmq.so: the zmq transport's two halves (docs/transports.md).
#include "dhub/sdk/plugin.hpp"
#include "receiver.hpp"
#include "sender.hpp"

DHUB_PLUGIN("zmq",
            "1.0.0",
            "Apache-2.0",
            "Carries channels between kernels and hosts over ZeroMQ, with credits, chunks and CurveZMQ",
            dhub::sdk::component<dhub::zmq_transport::ZmqSender>(),
            dhub::sdk::component<dhub::zmq_transport::ZmqReceiver>())
