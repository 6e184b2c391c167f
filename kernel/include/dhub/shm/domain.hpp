// SPDX-License-Identifier: Apache-2.0
// Which processes can map each other's segments: those that see the same /dev/shm on the same running
// machine. A broker registration carries its producer's domain, so that a consumer can tell a segment it can
// attach to from one on another host (or in another container with a /dev/shm of its own), which it must
// reach through a transport instead (docs/transports.md, "Across hosts through the broker").
#pragma once

#include <string>

namespace dhub::shm {

/// 32 hex digits: BLAKE2b of this boot's id (/proc/sys/kernel/random/boot_id) and the device and inode of
/// /dev/shm. Equal for two processes exactly when they share a machine's boot and its /dev/shm mount; a
/// private tmpfs on /dev/shm (a container, `unshare --mount`) is another domain. Computed once per process.
const std::string& domain_id();

}  // namespace dhub::shm
