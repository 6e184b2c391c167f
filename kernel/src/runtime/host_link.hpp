// SPDX-License-Identifier: Apache-2.0
// The control link between the kernel and a dhub-node-host running an isolated node: one SOCK_SEQPACKET
// socket, one JSON object per packet. It carries control only (ready, beats with the node's counters, stop,
// peer messages, the end report); slots never pass through it, they stay in the channels' shared memory.
// docs/kernel.md, "Crash isolation", lists the messages.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "dhub/base/result.hpp"
#include "dhub/runtime/graph_runner.hpp"

namespace dhub::runtime {

/// Message types ("t").
namespace host_message {
inline constexpr const char* READY = "ready";                ///< host → kernel: the node was created, it starts now
inline constexpr const char* SETUP_FAILED = "setup_failed";  ///< host → kernel: {"message"}: nothing runs
inline constexpr const char* BEAT = "beat";  ///< host → kernel: {"progress", "sleeping", "report", "validators"}
inline constexpr const char* END = "end";    ///< host → kernel: {"report", "validators"}: the node ended
inline constexpr const char* BROADCAST = "broadcast";  ///< host → kernel: {"channel", "message"} to the other nodes
inline constexpr const char* FAIL = "fail";            ///< host → kernel: {"why", "cause"}: stop the whole graph
/// kernel → host, first: {"attach_secrets": {channel: secret}, "paused": the node starts paused}
inline constexpr const char* SETUP = "setup";
inline constexpr const char* STOP = "stop";        ///< kernel → host: stop the node (it ends as on request)
inline constexpr const char* MESSAGE = "message";  ///< kernel → host: {"channel", "message"} for the node
inline constexpr const char* PAUSE = "pause";      ///< kernel → host: pause the node (dhub-ctl pause)
inline constexpr const char* RESUME = "resume";    ///< kernel → host: resume it
}  // namespace host_message

/// Largest packet either side sends or accepts: reports of a node with many validators fit easily.
inline constexpr std::size_t MAX_HOST_PACKET = 256 * 1024;

class HostLink {
public:
    /// A connected pair: first for the kernel, second for the host (close-on-exec; the spawner passes it on).
    static Result<std::pair<HostLink, HostLink>> pair();
    /// Takes over an inherited descriptor (dhub-node-host's --control-fd).
    explicit HostLink(int fd) noexcept : fd_(fd) {}
    HostLink(HostLink&& other) noexcept : fd_(std::exchange(other.fd_, -1)), packet_(std::move(other.packet_)) {}
    HostLink& operator=(HostLink&& other) noexcept;
    ~HostLink();
    HostLink(const HostLink&) = delete;
    HostLink& operator=(const HostLink&) = delete;

    int fd() const noexcept { return fd_; }
    enum class Wait { Yes, No };
    /// Sends one message; false once the peer is gone, or (Wait::No) when the link's buffer is full now. Any
    /// thread (one packet per call, never interleaved).
    bool send(const nlohmann::json& message, Wait wait = Wait::Yes) const noexcept;
    /// Waits up to timeout for a message. nullopt on timeout; an Error when the peer closed (NotFound) or sent
    /// something that is not a JSON object with a string "t" (Incompatible, naming what came): the caller
    /// logs it and goes on. One thread at a time.
    std::optional<Result<nlohmann::json>> receive(std::chrono::milliseconds timeout);
    void close() noexcept;

private:
    int fd_ = -1;
    std::string packet_;  ///< receive's buffer, MAX_HOST_PACKET long once used
};

}  // namespace dhub::runtime
