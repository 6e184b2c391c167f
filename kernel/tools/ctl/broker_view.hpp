// SPDX-License-Identifier: Apache-2.0
// dhub-ctl --broker tcp://HOST:PORT: every kernel and channel a broker knows (its LIST, docs/protocol.md), for
// kernels on other hosts, whose counters pages this host does not have. A kernel is known by the channels it
// publishes (their producer: its graph's name, pid and process start); the broker shows a client only the
// channels its allowlist entry may produce or consume.
#pragma once

#include <string>

#include "control_client.hpp"

namespace dhub::ctl {

/// command: "kernels", "channels" or "" (both). keys: for a CURVE broker, nullptr for one without. Prints to
/// stdout (JSON with json) and returns the exit code.
int show_broker(const std::string& endpoint, const CurveKeys* keys, const std::string& command, bool json);

}  // namespace dhub::ctl
