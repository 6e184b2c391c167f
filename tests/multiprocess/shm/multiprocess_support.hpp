// SPDX-License-Identifier: Apache-2.0
// Test-side helpers for running dhub-shm-test-peer: building its command line from a ChannelConfig,
// spawning it with a ReadySignal it can reach after exec, reading its exit status, and scaling workloads
// with DHUB_TEST_SCALE (sanitizer builds run the same tests with less data).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "dhub/base/result.hpp"
#include "dhub/shm/channel_config.hpp"
#include "dhub/shm/consumer.hpp"
#include "shm_peer/pattern.hpp"
#include "shm_peer/peer_exit.hpp"
#include "support/child_process.hpp"

namespace dhub::testing {

/// Deadline for a peer expected to finish by itself (generous: sanitizer builds are 5-20x slower).
inline constexpr std::chrono::milliseconds PEER_DEADLINE{60'000};
/// How long to wait for a peer's ready signal.
inline constexpr std::chrono::milliseconds READY_TIMEOUT{20'000};

/// The peer options describing config (name and geometry and policies).
std::vector<std::string> channel_arguments(const shm::ChannelConfig& config);

/// arguments followed by more.
std::vector<std::string> concat(std::vector<std::string> arguments, const std::vector<std::string>& more);

/// Spawns the peer in role with arguments (fork + exec of a separate program).
ChildProcess spawn_peer(const std::string& role, std::vector<std::string> arguments);

/// Same, and passes ready's write end as --ready-fd (duplicated so that it survives exec).
ChildProcess spawn_peer(const std::string& role, std::vector<std::string> arguments, ReadySignal& ready);

/// "exited 0 (ok)", "killed by signal 9", ... for assertion messages.
std::string describe(const ExitStatus& status);

/// Success if the child exited normally with exactly the expected code.
::testing::AssertionResult exited_with(const ExitStatus& status, PeerExit expected);

/// DHUB_TEST_SCALE (default 1): the factor applied to workload sizes.
double test_scale();

/// count * test_scale(), but at least minimum.
std::uint64_t scaled(std::uint64_t count, std::uint64_t minimum);

/// period / test_scale(): a pace that slows down as the build does (sanitizers).
std::chrono::nanoseconds scaled_period(std::chrono::nanoseconds period);

/// Consumer::attach, retried while the channel does not exist yet or is being created.
Result<shm::Consumer> attach_when_created(const std::string& channel,
                                          shm::ConsumerOptions options = {},
                                          std::chrono::milliseconds timeout = READY_TIMEOUT);

/// The name of PayloadSizes as the peer's --sizes option spells it.
std::string sizes_argument(PayloadSizes sizes);

/// What an in-process consumer read until the channel went quiet.
struct Received {
    std::vector<std::uint64_t> sequences;        ///< accepted slots (release() == Ok) whose bytes were as expected
    std::vector<std::uint64_t> corrupt;          ///< accepted slots whose length or bytes were not as expected
    std::uint64_t overwritten = 0;               ///< latest-only reads discarded because release() said Overwritten
    shm::Status final_status = shm::Status::Ok;  ///< the acquire_read status that ended the reading
};

/// Reads and checks slots until acquire_read(wait) returns something other than Ok.
Received read_until_quiet(shm::Consumer& consumer, PayloadSizes sizes, shm::WaitOptions wait);

/// first, first + 1, ..., first + count - 1.
std::vector<std::uint64_t> consecutive(std::uint64_t first, std::uint64_t count);

}  // namespace dhub::testing

namespace dhub::shm {

// Readable test parameters in GoogleTest output (found by argument-dependent lookup).
inline void PrintTo(RingPolicy policy, std::ostream* out) {
    *out << to_string(policy);
}
inline void PrintTo(SyncPolicy policy, std::ostream* out) {
    *out << to_string(policy);
}
inline void PrintTo(ChecksumPolicy policy, std::ostream* out) {
    *out << to_string(policy);
}

}  // namespace dhub::shm
