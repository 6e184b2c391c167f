// SPDX-License-Identifier: Apache-2.0
// Ctrl-C handling: SIGINT and SIGTERM only set a flag that the producer and consumer loops poll, so the
// producer can close its channel (and remove the segment) instead of dying with it still in /dev/shm.
#pragma once

namespace dhub::demo {

/// Installs the handler for SIGINT and SIGTERM. A signal the parent set to SIG_IGN stays ignored: the
/// launcher uses that to let its consumer child finish on Closed rather than on Ctrl-C.
void install_stop_handler() noexcept;

/// True once SIGINT or SIGTERM arrived.
bool stop_requested() noexcept;

}  // namespace dhub::demo
