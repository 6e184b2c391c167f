// SPDX-License-Identifier: Apache-2.0
// A node with "isolation": "process", seen from the kernel: a supervisor thread that starts a dhub-node-host
// for it, hands it the channels the node writes and lends it the seats it reads, watches the process (pidfd,
// beats, watchdog), takes the channels back when it dies, and restarts it by the node's policy
// (graph::Supervision). The node's own code never runs in the kernel's process.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/logger.h>

#include "child_process.hpp"
#include "dhub/counters/layout.hpp"
#include "dhub/graph/graph_spec.hpp"
#include "dhub/shm/channel_config.hpp"
#include "dhub/shm/consumer.hpp"
#include "dhub/shm/producer.hpp"
#include "graph_node.hpp"
#include "host_link.hpp"
#include "node_lifecycle.hpp"
#include "restart_intensity.hpp"

namespace dhub::runtime {

class IsolatedNode final : public GraphNode {
public:
    /// A channel the node writes (an output, or a quarantine channel of an output's validators): the kernel's
    /// producer, handed over while a host runs and taken back when it ends.
    struct WrittenChannel {
        std::string name;
        std::optional<shm::Producer>* producer = nullptr;  ///< the runner's channel table entry
        shm::ChannelConfig config;                         ///< to adopt it back
        bool handed_over = false;                          ///< to a host: taken back when it ends
    };
    struct Launch {
        std::string node_host;  ///< executable
        int graph_fd = -1;      ///< the graph's text (memfd), passed as fd 4
        std::string graph_file;
        std::vector<std::string> plugin_path;
        std::string log_level;
        std::string segment_prefix;
    };

    IsolatedNode(GraphRunner& runner,
                 const graph::ValidatedNode& validated,
                 Launch launch,
                 std::shared_ptr<spdlog::logger> logger,
                 counters::NodeRecord* counts = nullptr);
    ~IsolatedNode() override;

    void add_output(WrittenChannel channel) { written_.push_back(std::move(channel)); }
    /// attach_secret: the channel's, which the host presents (it gets it over the link).
    void add_input(std::string channel, shm::Consumer consumer, std::string attach_secret) {
        inputs_.push_back({std::move(channel), std::move(consumer), std::move(attach_secret)});
    }

    const std::string& id() const noexcept override { return id_; }
    void start_thread() override;
    void request_stop() noexcept override;
    void request_removal() noexcept override;
    void join() override;
    bool finished() const noexcept override { return finished_.load(std::memory_order_acquire); }
    bool stop_requested() const noexcept override { return stop_.load(std::memory_order_acquire); }
    bool is_graph_source() const noexcept override { return inputs_.empty(); }
    NodeReport report() const override;
    void deliver_message(const std::string& channel, const std::string& message) override;
    std::vector<ValidatorReport> own_validator_reports() const override;
    void on_graph_stopping() override;
    VoidResult pause() override;
    VoidResult resume() override;

private:
    /// How one host process ended.
    struct Ending {
        ChildExit exit;
        pid_t pid = -1;
        bool reported_end = false;  ///< it sent "end": the node ended by itself, as in a kernel thread
        bool hung = false;          ///< killed by the watchdog
        bool setup_failed = false;  ///< it sent "setup_failed": the node never ran
        bool unstartable = false;   ///< the process could not be started at all: no restart would help
        std::string cause;          ///< in words, for logs, events and the report
        NodeReport report;          ///< its last counts
        std::vector<ValidatorReport> validators;
    };

    void supervise();
    /// One host process, from spawn to reaped.
    Ending run_host();
    std::vector<std::string> host_arguments() const;
    /// What the watchdog knows of the running host (CLOCK_MONOTONIC ns).
    struct HostWatch {
        std::uint64_t progress = 0;  ///< the node thread's progress counter, as the last beat said
        bool sleeping = false;       ///< the last beat found it in sleep_until
        bool ready = false;          ///< it said ready: its component is created
        std::uint64_t moved_at = 0;  ///< when progress last changed (or it slept, or got ready)
        std::uint64_t beat_at = 0;   ///< when it last beat (or was started)
    };
    /// Acts on one message from the host. Throws on a field of the wrong type (the caller ignores the message).
    void on_message(const nlohmann::json& message, Ending& ending, HostWatch& watch);
    /// Why the watchdog kills the host now ("watchdog: ..."), or "".
    std::string hang_of(const HostWatch& watch, std::uint64_t now) const;
    void hand_channels_over();
    /// Takes every written channel back (adopting it from the dead host), so the kernel holds it again.
    void take_channels_back();
    /// Whether the ended host is started again, by the restart policy and intensity.
    bool should_restart(const Ending& ending);
    /// The node is done for good: close its channels, give its seats back, record why.
    void end_for_good(const Ending& ending);
    /// Adds an ended host's counts to the totals.
    void absorb(const Ending& ending);
    /// Writes report() into the node's record in the counters page (this node's thread owns it).
    void publish_counts();

    GraphRunner& runner_;
    std::string id_;
    std::string component_;
    bool queue_mode_ = false;  ///< its component runs its own loop: the host cannot pause it
    graph::Supervision supervision_;
    graph::ErrorPolicy on_error_;
    Launch launch_;
    std::shared_ptr<spdlog::logger> logger_;
    std::string log_prefix_;
    std::vector<WrittenChannel> written_;
    struct Input {
        std::string channel;
        std::optional<shm::Consumer> consumer;  ///< the kernel's seat, lent to each host; reset at the end
        std::string attach_secret;
    };
    std::vector<Input> inputs_;
    RestartIntensity intensity_;

    std::thread thread_;
    std::atomic<bool> stop_{false};
    std::atomic<bool> removed_{false};  ///< request_removal: a normal end is reported as "removed"
    std::atomic<bool> finished_{false};

    mutable std::mutex mutex_;        ///< guards what follows
    const HostLink* link_ = nullptr;  ///< the running host's link (messages and stop go through it)
    bool stop_sent_ = false;
    /// Asked to pause (dhub-ctl pause) and not resumed: a restarted host is paused again once ready.
    bool paused_ = false;
    /// Some process of it got as far as ready (its component was created). Until then a failed setup is the
    /// configuration's fault (a module that does not import, params the component refuses), not bad luck: it is
    /// not restarted, and it stops the graph as a component refusing to start in a thread stops the start.
    std::atomic<bool> ever_ready_{false};
    std::uint64_t dropped_messages_ = 0;  ///< peer messages its hosts did not take
    /// The node's record in the counters page, written from the host's beats (so up to 100 ms behind), by this
    /// node's supervising thread only; bytes and handler times stay in the host.
    std::unique_ptr<counters::NodeRecord> own_counts_;
    counters::NodeRecord& counts_;
    NodeLifecycle lifecycle_;  ///< its state: starting while a process sets up, running once it is ready
    NodeReport totals_;        ///< every ended host's counts, summed
    NodeReport current_;       ///< the running host's last beat
    std::vector<ValidatorReport> validator_totals_;
    std::vector<ValidatorReport> validator_current_;
};

}  // namespace dhub::runtime
