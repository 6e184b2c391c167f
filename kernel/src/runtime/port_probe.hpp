// SPDX-License-Identifier: Apache-2.0
// Whether a TCP endpoint can be bound right now, asked before the kernel tells other hosts to connect there.
#pragma once

#include <string>

namespace dhub::runtime {

/// "" when "tcp://<numeric address>:<port>" could be bound now (as ZeroMQ binds it, with SO_REUSEADDR); else why
/// not, in words ("Address already in use"). Another process may still take the port before its binder does.
std::string tcp_bind_problem(const std::string& endpoint);

}  // namespace dhub::runtime
