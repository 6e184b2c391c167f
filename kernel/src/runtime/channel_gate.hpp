// SPDX-License-Identifier: Apache-2.0
// A channel's validators, run by its producer's node on every slot before it is published (docs/graph.md,
// "validators"). A rejected slot is never published: it is dropped, copied to a quarantine channel first, or
// it stops the graph. Rejections are counted per validator and reason in the channel's segment
// (layout::GateEntry), where `dhub-shm inspect` reads them, and in the run report.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "dhub/graph/graph_spec.hpp"
#include "dhub/runtime/graph_runner.hpp"
#include "dhub/sdk/abi.h"
#include "dhub/shm/layout.hpp"
#include "dhub/shm/producer.hpp"

namespace dhub::runtime {

class Node;

class ChannelGate {
public:
    struct Validator {
        std::unique_ptr<Node> host;  ///< the handle its create() got (params, log); never runs a thread
        const dhub_component_descriptor* descriptor = nullptr;
        std::string name;
        shm::layout::GateAction on_reject = shm::layout::GateAction::Drop;
        shm::Producer* quarantine = nullptr;  ///< on_reject Quarantine: where a copy of each rejected slot goes
        std::string quarantine_name;
    };

    ChannelGate(GraphRunner& runner,
                std::string channel,
                shm::Producer& producer,
                std::shared_ptr<spdlog::logger> logger);
    ~ChannelGate();
    ChannelGate(const ChannelGate&) = delete;
    ChannelGate& operator=(const ChannelGate&) = delete;

    /// Adds the next validator (in the graph's order); its instance must exist already.
    void add(Validator validator);
    /// The node whose thread publishes the channel: its stop flag bounds waits for quarantine room. Before start.
    void set_owner(const Node& owner) noexcept { owner_ = &owner; }
    /// On the owner's thread before its first slot / after its last: the validators' start() and stop().
    /// An error names the validator that refused to start.
    VoidResult start();
    void stop() noexcept;

    /// Judges one slot; true: publish it. A timestamp of 0 must have been resolved already (the validators see
    /// what the consumers will).
    bool admit(const dhub_slot& slot) { return filter(std::span<dhub_slot>(const_cast<dhub_slot*>(&slot), 1)) == 1; }
    /// Judges slots in order and moves the accepted ones down over the rejected, payload and all (each slot's
    /// data points at its own ring slot, which stays where it is). Returns how many lead the span now: publish
    /// those. Each validator sees each slot the validators before it accepted once, in order. Accepted slots
    /// cost one validate_burst call per validator and no copy; a rejection costs a copy of each later accepted
    /// slot of the span.
    std::size_t filter(std::span<dhub_slot> slots);
    /// Closes the quarantine channels (the owner closes the channel itself).
    void close() noexcept;

    const std::string& channel() const noexcept { return channel_; }
    std::vector<ValidatorReport> reports() const;

private:
    /// What a rejection is counted as, and why, in words.
    struct Judgement {
        std::string kind;
        std::string message;
    };
    /// How many leading slots one validator accepts; below slots.size(), verdict_ and verdict_status_ say why
    /// the next one is not.
    std::size_t judge(std::size_t validator, std::span<dhub_slot> slots);
    /// Counts, quarantines, logs and applies the policy for a slot judge() refused; then clears the verdict.
    void reject(std::size_t validator, const dhub_slot& slot);
    void reset_verdict() noexcept;
    void count(std::size_t validator, const std::string& kind);
    void quarantine(const Validator& validator, const dhub_slot& slot);

    GraphRunner& runner_;
    std::string channel_;
    shm::Producer& producer_;
    std::shared_ptr<spdlog::logger> logger_;
    const Node* owner_ = nullptr;
    std::vector<Validator> validators_;
    /// Written by the owner's thread only; read for reports after it ended. Validator k judged offered_ less
    /// what validators 0..k-1 rejected.
    std::atomic<std::uint64_t> offered_{0};
    std::array<std::atomic<std::uint64_t>, graph::ChannelValidatorSpec::MAX_PER_CHANNEL> rejected_{};
    std::size_t started_ = 0;  ///< validators whose start() ran
    /// filter() after a rejection: the slots still in the running, and where each sits in the burst.
    std::vector<dhub_slot> candidates_;
    std::vector<std::size_t> origins_;
    // The verdict every validator call gets, set up once: the plugin writes its buffers on rejections only.
    char message_[512] = {};
    char kind_[48] = {};
    dhub_validation verdict_{};
    dhub_status verdict_status_ = DHUB_OK;
};

}  // namespace dhub::runtime
