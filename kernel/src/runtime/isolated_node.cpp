// SPDX-License-Identifier: Apache-2.0
#include "isolated_node.hpp"

#include <poll.h>
#include <signal.h>

#include <chrono>

#include "dhub/base/clock.hpp"
#include "dhub/base/process_identity.hpp"
#include "dhub/counters/counters_page.hpp"
#include "dhub/events/event_log.hpp"

namespace dhub::runtime {
namespace {

using namespace std::chrono_literals;

/// How often the supervisor looks at its host when nothing arrives (a kernel without pidfds polls the exit).
constexpr std::chrono::milliseconds LOOK_EVERY = 50ms;
/// Messages read from the host per look, at most, before the exit, the watchdog and a stop are looked at.
constexpr int MESSAGES_PER_LOOK = 64;
/// After a host died: how long a flex zone it may have held must stay held, unchanged, to be released.
constexpr std::chrono::milliseconds FLEX_QUIET = 50ms;
/// After a stop was sent: how long the node may take to end (its input draining) before its process is killed.
constexpr std::chrono::milliseconds STOP_GRACE = 15s;
/// The host beats at most this far apart; a watchdog shorter than 4 beats beats faster.
constexpr std::uint32_t BEAT_MS = 100;
/// Until the host says it is ready (process start, graph check, plugin loading, create()), the watchdog allows
/// at least this long: starting is not hanging, and a sanitizer build starts slowly.
constexpr std::uint64_t STARTUP_GRACE_NS = 10'000'000'000ULL;

std::uint64_t ns_of(std::chrono::milliseconds span) {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(span).count());
}

void add_counts(NodeReport& total, const NodeReport& part) {
    total.handled += part.handled;
    total.slots_in += part.slots_in;
    total.slots_out += part.slots_out;
    total.skipped += part.skipped;
    total.errors += part.errors;
    total.rejected += part.rejected;
    total.checksum_failures += part.checksum_failures;
    total.burst_calls += part.burst_calls;
    total.overwritten += part.overwritten;
    total.latest_skipped += part.latest_skipped;
    total.upstream_lost += part.upstream_lost;
    total.bytes_in += part.bytes_in;
    total.bytes_out += part.bytes_out;
    // A restarted process paces from its own first tick: its ticks add up, its worst lateness is one of them.
    total.pacing.rate_hz = std::max(total.pacing.rate_hz, part.pacing.rate_hz);
    total.pacing.ticks += part.pacing.ticks;
    total.pacing.late_ticks += part.pacing.late_ticks;
    total.pacing.skipped_ticks += part.pacing.skipped_ticks;
    total.pacing.max_lateness_ns = std::max(total.pacing.max_lateness_ns, part.pacing.max_lateness_ns);
    total.pacing.total_lateness_ns += part.pacing.total_lateness_ns;
}

void add_counts(std::vector<ValidatorReport>& totals, const std::vector<ValidatorReport>& parts) {
    for (const ValidatorReport& part : parts) {
        auto same = std::find_if(totals.begin(), totals.end(), [&](const ValidatorReport& total) {
            return total.channel == part.channel && total.validator == part.validator;
        });
        if (same == totals.end()) {
            totals.push_back(part);
            continue;
        }
        same->judged += part.judged;
        same->rejected += part.rejected;
        for (const auto& [kind, count] : part.reasons)
            same->reasons[kind] += count;
    }
}

/// Ended by itself the way a thread would (end of stream, input closed, stopped, its error policy), as opposed
/// to a crash, a hang, a failing exit, or a node that failed to start or run.
bool ended_normally(const EndReason reason) {
    switch (reason) {
        case EndReason::EndOfStream:
        case EndReason::InputClosed:
        case EndReason::Stopped:
        case EndReason::RunReturned:
        case EndReason::ErrorPolicyNode:
        case EndReason::ErrorPolicyGraph:
            return true;
        default:
            return false;
    }
}

}  // namespace

IsolatedNode::IsolatedNode(GraphRunner& runner,
                           const graph::ValidatedNode& validated,
                           Launch launch,
                           std::shared_ptr<spdlog::logger> logger,
                           counters::NodeRecord* counts)
    : runner_(runner),
      id_(validated.spec->id),
      component_(validated.component.id),
      queue_mode_(validated.component.mode == plugin::ComponentMode::Queue),
      supervision_(validated.spec->supervision),
      on_error_(validated.spec->on_error),
      launch_(std::move(launch)),
      logger_(std::move(logger)),
      log_prefix_("[" + std::string(plugin::to_string(validated.component.kind)) + ":" + component_ + ":" + id_ + "] "),
      intensity_(supervision_.max_restarts, std::uint64_t{supervision_.restart_period_s} * 1'000'000'000ULL),
      own_counts_(counts == nullptr ? std::make_unique<counters::NodeRecord>() : nullptr),
      counts_(counts != nullptr ? *counts : *own_counts_),
      lifecycle_(id_, counts_, runner.events()) {
    totals_.id = id_;
    totals_.component = component_;
    totals_.isolation = "process";
}

IsolatedNode::~IsolatedNode() {
    request_stop();
    join();
}

void IsolatedNode::start_thread() {
    thread_ = std::thread([this] { supervise(); });
}

void IsolatedNode::request_stop() noexcept {
    stop_.store(true, std::memory_order_release);
    {
        // Never blocks on a host that does not read: the supervisor sends it again until the link takes it.
        const std::lock_guard lock(mutex_);
        if (link_ != nullptr && !stop_sent_) stop_sent_ = link_->send({{"t", host_message::STOP}}, HostLink::Wait::No);
    }
}

void IsolatedNode::request_removal() noexcept {
    removed_.store(true, std::memory_order_release);
    request_stop();
}

void IsolatedNode::join() {
    if (thread_.joinable()) thread_.join();
}

NodeReport IsolatedNode::report() const {
    const std::lock_guard lock(mutex_);
    NodeReport report = totals_;
    add_counts(report, current_);
    return report;
}

std::vector<ValidatorReport> IsolatedNode::own_validator_reports() const {
    const std::lock_guard lock(mutex_);
    std::vector<ValidatorReport> reports = validator_totals_;
    add_counts(reports, validator_current_);
    return reports;
}

void IsolatedNode::deliver_message(const std::string& channel, const std::string& message) {
    const std::lock_guard lock(mutex_);
    if (link_ == nullptr) return;  // between two hosts: lost, as for a thread that is not running
    // Never blocks: another node's thread (or supervisor) sends this. A host that does not read loses messages,
    // as a node's full inbox drops its oldest.
    if (!link_->send({{"t", host_message::MESSAGE}, {"channel", channel}, {"message", message}}, HostLink::Wait::No) &&
        dropped_messages_++ % 1000 == 0) {
        logger_->warn("{}a peer message on '{}' was dropped: its process does not read them ({} so far)", log_prefix_,
                      channel, dropped_messages_);
    }
}

void IsolatedNode::supervise() {
    for (;;) {
        Ending ending = run_host();
        take_channels_back();
        absorb(ending);
        publish_counts();
        if (!should_restart(ending)) {
            end_for_good(ending);
            break;
        }
        std::size_t restarts = 0;
        {
            const std::lock_guard lock(mutex_);
            totals_.restarts.push_back(ending.cause);
            restarts = totals_.restarts.size();
        }
        logger_->warn("{}restarting its process (restart {}): {}", log_prefix_, restarts, ending.cause);
        runner_.events().emit("node_restarted", {{"node", id_}, {"restart", restarts}, {"cause", ending.cause}});
    }
    finished_.store(true, std::memory_order_release);
    runner_.notify_state_change();
}

std::vector<std::string> IsolatedNode::host_arguments() const {
    std::vector<std::string> arguments = {"--graph-fd",   "4",
                                          "--graph-file", launch_.graph_file,
                                          "--node",       id_,
                                          "--prefix",     launch_.segment_prefix,
                                          "--control-fd", "3",
                                          "--log-level",  launch_.log_level,
                                          "--seat-owner", std::to_string(ProcessIdentity::self().token())};
    const std::uint32_t beat =
        supervision_.watchdog_ms != 0 ? std::min(BEAT_MS, supervision_.watchdog_ms / 4) : BEAT_MS;
    arguments.insert(arguments.end(), {"--beat-ms", std::to_string(std::max<std::uint32_t>(beat, 10))});
    // The host's node waits as the kernel's decided for the graph as it stands now (docs/kernel.md, "Waiting").
    arguments.insert(arguments.end(), {"--spin-ns", std::to_string(runner_.node_spin().count())});
    if (runner_.node_spin_yields()) arguments.push_back("--spin-yield");
    for (const Input& input : inputs_) {
        arguments.insert(arguments.end(), {"--seat", input.channel + "=" + std::to_string(input.consumer->seat())});
    }
    for (const std::string& directory : launch_.plugin_path)
        arguments.insert(arguments.end(), {"--plugin-path", directory});
    return arguments;
}

IsolatedNode::Ending IsolatedNode::run_host() {
    Ending ending;
    auto links = HostLink::pair();
    if (!links) {
        ending.setup_failed = true;
        ending.cause = links.error().message;
        ending.exit = ChildExit{false, 1};
        return ending;
    }
    HostLink& link = links.value().first;
    HostLink& host_end = links.value().second;
    hand_channels_over();
    ChildSpec spec;
    spec.executable = launch_.node_host;
    spec.arguments = host_arguments();
    spec.pass_fds = {host_end.fd(), launch_.graph_fd};
    spec.memory_mb = supervision_.memory_mb;
    spec.cpus = supervision_.cpus;
    spec.nice = supervision_.nice;
    auto spawned = ChildProcess::spawn(spec);
    host_end.close();
    if (!spawned) {
        ending.setup_failed = true;
        ending.unstartable = true;  // starting it again would fail the same way
        ending.cause = "cannot start its process: " + spawned.error().message;
        ending.exit = ChildExit{false, 127};
        return ending;
    }
    ChildProcess& child = spawned.value();
    ending.pid = child.pid();
    // The attach secrets of its inputs go through the link, never the command line other users can read.
    nlohmann::json secrets = nlohmann::json::object();
    for (const Input& input : inputs_)
        secrets[input.channel] = input.attach_secret;
    {
        const std::lock_guard lock(mutex_);
        // Paused when its last process ended: the new one starts paused, before it takes a slot.
        (void)link.send({{"t", host_message::SETUP}, {"attach_secrets", secrets}, {"paused", paused_}});
        link_ = &link;
        stop_sent_ = false;
        current_ = NodeReport{};
        validator_current_.clear();
    }
    runner_.events().emit("node_process_started", {{"node", id_}, {"pid", child.pid()}});
    counts_.process_pid.store(static_cast<std::uint32_t>(child.pid()), std::memory_order_relaxed);
    lifecycle_.move(NodeLifecycle::State::Starting, "process_started");
    logger_->debug("{}running in process {}", log_prefix_, child.pid());

    HostWatch watch;
    watch.moved_at = watch.beat_at = monotonic_ns();
    std::uint64_t stop_seen_at = 0;
    bool link_open = true;
    for (;;) {
        pollfd waits[2] = {{link_open ? link.fd() : -1, POLLIN, 0}, {child.pidfd(), POLLIN, 0}};
        (void)::poll(waits, 2, static_cast<int>(LOOK_EVERY.count()));
        // Everything the host said before it ended is read before its end is judged; a bounded number per look,
        // so that a host flooding the link cannot keep its supervisor from the checks below.
        for (int read = 0; link_open && read < MESSAGES_PER_LOOK; ++read) {
            auto received = link.receive(0ms);
            if (!received) break;
            if (!*received) {
                if (received->error().code == ErrorCode::NotFound) {
                    link_open = false;
                } else {
                    logger_->warn("{}ignored a message from its process {}: {}", log_prefix_, child.pid(),
                                  received->error().message);
                }
                continue;
            }
            try {
                on_message(received->value(), ending, watch);
            } catch (const std::exception& error) {  // a field of the wrong type: the message is ignored, never fatal
                logger_->warn("{}ignored a malformed message from its process {}: {}", log_prefix_, child.pid(),
                              error.what());
            }
        }
        if (child.try_reap()) break;
        const std::uint64_t now = monotonic_ns();
        if (const std::string hang = hang_of(watch, now); !hang.empty()) {
            child.kill(SIGKILL);
            ending.hung = true;
            ending.cause = hang;
            break;
        }
        if (stop_.load(std::memory_order_acquire)) {
            {
                // A stop the link could not take at once (its buffer full) is sent again until it is.
                const std::lock_guard lock(mutex_);
                if (!stop_sent_) stop_sent_ = link.send({{"t", host_message::STOP}}, HostLink::Wait::No);
            }
            if (stop_seen_at == 0) stop_seen_at = now;
            if (now - stop_seen_at > ns_of(STOP_GRACE)) {
                child.kill(SIGKILL);
                ending.cause = "did not stop within " + std::to_string(STOP_GRACE.count()) + " ms of the request";
                break;
            }
        }
    }
    {
        const std::lock_guard lock(mutex_);
        link_ = nullptr;
    }
    ending.exit = child.reap();
    if (ending.cause.empty()) {
        if (ending.reported_end && ending.exit.clean()) {
            ending.cause = std::string(to_string(ending.report.end_reason)) + ": " + ending.report.end_detail;
        } else if (ending.setup_failed) {
            ending.cause = "its process failed to set the node up (" + ending.exit.describe() + ")";
        } else {
            ending.cause = ending.exit.describe();
        }
    }
    runner_.events().emit("node_process_ended", {{"node", id_}, {"pid", child.pid()}, {"cause", ending.cause}});
    return ending;
}

std::string IsolatedNode::hang_of(const HostWatch& watch, std::uint64_t now) const {
    const std::uint64_t watchdog_ns = std::uint64_t{supervision_.watchdog_ms} * 1'000'000ULL;
    if (watchdog_ns == 0) return {};
    const std::uint64_t allowed = watch.ready ? watchdog_ns : std::max(watchdog_ns, STARTUP_GRACE_NS);
    // No beat at all: the whole process is stuck (stopped, or a plugin holding a lock the beats need). Sleeping
    // in the host excuses a quiet node thread, not a silent process.
    if (now - watch.beat_at > allowed) {
        return watch.ready ? "watchdog: no beat from its process for " + std::to_string(allowed / 1'000'000) + " ms"
                           : "watchdog: not ready within " + std::to_string(allowed / 1'000'000) + " ms";
    }
    if (watch.ready && !watch.sleeping && now - watch.moved_at > allowed) {
        return "watchdog: no progress for " + std::to_string(supervision_.watchdog_ms) + " ms";
    }
    return {};
}

void IsolatedNode::on_message(const nlohmann::json& message, Ending& ending, HostWatch& watch) {
    const std::string& type = message["t"].get_ref<const std::string&>();
    auto text = [&](const char* key) {
        const auto found = message.find(key);
        return found != message.end() && found->is_string() ? found->get<std::string>() : std::string();
    };
    const std::uint64_t now = monotonic_ns();
    if (type == host_message::BEAT || type == host_message::END) {
        const auto field = [&](const char* key) {
            const auto found = message.find(key);
            return found != message.end() ? *found : nlohmann::json();
        };
        NodeReport report = node_report_from_json(field("report"));
        std::vector<ValidatorReport> validators = validator_reports_from_json(field("validators"));
        if (type == host_message::BEAT) {
            watch.beat_at = now;
            const nlohmann::json progress = field("progress");
            const nlohmann::json sleeping = field("sleeping");
            const bool moved = (progress.is_number_unsigned() && progress.get<std::uint64_t>() != watch.progress) ||
                               (sleeping.is_boolean() && sleeping.get<bool>());
            if (progress.is_number_unsigned()) {
                // The page's progress only grows, across restarts too: each host's own counter starts at 0.
                const std::uint64_t now_at = progress.get<std::uint64_t>();
                if (now_at > watch.progress) counters::add(counts_.progress, now_at - watch.progress);
                watch.progress = now_at;
            }
            watch.sleeping = sleeping.is_boolean() && sleeping.get<bool>();
            if (moved) watch.moved_at = now;
        } else {
            ending.reported_end = true;
            ending.report = report;
            ending.validators = validators;
        }
        {
            const std::lock_guard lock(mutex_);
            current_ = std::move(report);
            validator_current_ = std::move(validators);
        }
        publish_counts();
    } else if (type == host_message::READY) {
        lifecycle_.move(NodeLifecycle::State::Running, "ready", {NodeLifecycle::State::Starting});
        watch.ready = true;
        ever_ready_.store(true, std::memory_order_relaxed);
        watch.moved_at = watch.beat_at = now;
        logger_->debug("{}its process is ready", log_prefix_);
        runner_.events().emit("node_ready", {{"node", id_}, {"pid", ending.pid}});
        // A stop asked for while it started: now it can act on it.
        const std::lock_guard lock(mutex_);
        if (stop_.load(std::memory_order_acquire) && !stop_sent_) {
            stop_sent_ = link_->send({{"t", host_message::STOP}}, HostLink::Wait::No);
        }
        // Paused when its last process ended: the new one started paused (SETUP said so), as the operator left it.
        if (paused_) {
            lifecycle_.move(NodeLifecycle::State::Paused, "restarted_paused", {NodeLifecycle::State::Running});
        }
    } else if (type == host_message::SETUP_FAILED) {
        ending.setup_failed = true;
        ending.cause = "setup failed: " + text("message");
        logger_->error("{}{}", log_prefix_, ending.cause);
    } else if (type == host_message::BROADCAST) {
        runner_.broadcast(*this, text("channel"), text("message"));
    } else if (type == host_message::FAIL) {
        const std::string cause = text("cause");
        runner_.fail(text("why"), cause.empty() ? std::string_view("error_policy_graph") : std::string_view(cause));
    } else {
        logger_->warn("{}ignored a message of unknown type '{}' from its process", log_prefix_, type);
    }
}

void IsolatedNode::hand_channels_over() {
    for (WrittenChannel& channel : written_) {
        if (!*channel.producer) continue;
        (*channel.producer)->hand_over();
        channel.handed_over = true;
    }
}

void IsolatedNode::take_channels_back() {
    for (WrittenChannel& channel : written_) {
        if (!channel.handed_over) continue;  // still the kernel's (a host that could not even start)
        channel.handed_over = false;
        channel.producer->reset();  // handed over: inert, closes nothing
        auto adopted = shm::Producer::adopt(channel.config);
        if (!adopted) {
            logger_->error("{}cannot take channel '{}' back from its process: {}", log_prefix_, channel.name,
                           adopted.error().message);
            continue;
        }
        channel.producer->emplace(std::move(adopted.value()));
        if ((*channel.producer)->flex_zone().release_abandoned(FLEX_QUIET)) {
            logger_->warn("{}its process died writing the flex zone of '{}': released empty", log_prefix_,
                          channel.name);
        }
    }
    for (Input& input : inputs_) {
        if (input.consumer && input.consumer->flex_zone().release_abandoned(FLEX_QUIET)) {
            logger_->warn("{}its process died writing the flex zone of '{}': released empty", log_prefix_,
                          input.channel);
        }
    }
}

void IsolatedNode::absorb(const Ending& ending) {
    const std::lock_guard lock(mutex_);
    NodeReport last = ending.reported_end ? ending.report : current_;
    add_counts(totals_, last);
    add_counts(validator_totals_, ending.reported_end ? ending.validators : validator_current_);
    current_ = NodeReport{};
    validator_current_.clear();
}

void IsolatedNode::on_graph_stopping() {
    const std::lock_guard lock(mutex_);
    // A paused node drains too: its host resumes it.
    if (paused_ && link_ != nullptr) (void)link_->send({{"t", host_message::RESUME}}, HostLink::Wait::No);
    paused_ = false;
    lifecycle_.move(NodeLifecycle::State::Draining, "graph_stopping",
                    {NodeLifecycle::State::Running, NodeLifecycle::State::Paused});
}

VoidResult IsolatedNode::pause() {
    if (queue_mode_) {
        return Error{ErrorCode::InvalidArgument, "node '" + id_ + "' (" + component_ +
                                                     ") runs its own loop (queue mode): the kernel cannot pause it"};
    }
    const std::lock_guard lock(mutex_);
    if (link_ == nullptr || lifecycle_.state() != NodeLifecycle::State::Running) {
        return Error{ErrorCode::InvalidArgument, "node '" + id_ + "' is " + to_string(lifecycle_.state()) +
                                                     (link_ == nullptr ? " (its process is between two starts)" : "") +
                                                     ": only a running node can be paused"};
    }
    // Never blocks on a host that does not read; one that does not take it now is not paused.
    if (!link_->send({{"t", host_message::PAUSE}}, HostLink::Wait::No)) {
        return Error{ErrorCode::Timeout,
                     "node '" + id_ + "': its process does not read its link now (is it hung?): not paused"};
    }
    paused_ = true;
    lifecycle_.move(NodeLifecycle::State::Paused, "pause_requested", {NodeLifecycle::State::Running});
    return Ok{};
}

VoidResult IsolatedNode::resume() {
    const std::lock_guard lock(mutex_);
    if (!paused_ || lifecycle_.state() != NodeLifecycle::State::Paused) {
        return Error{ErrorCode::InvalidArgument,
                     "node '" + id_ + "' is " + to_string(lifecycle_.state()) + ", not paused"};
    }
    if (link_ != nullptr && !link_->send({{"t", host_message::RESUME}}, HostLink::Wait::No)) {
        return Error{ErrorCode::Timeout,
                     "node '" + id_ + "': its process does not read its link now (is it hung?): still paused"};
    }
    paused_ = false;
    lifecycle_.move(NodeLifecycle::State::Running, "resume_requested", {NodeLifecycle::State::Paused});
    return Ok{};
}

void IsolatedNode::publish_counts() {
    const NodeReport now = report();
    const auto set = [](counters::Counter& counter, std::uint64_t value) {
        counter.store(value, std::memory_order_relaxed);
    };
    set(counts_.handled, now.handled);
    set(counts_.slots_in, now.slots_in);
    set(counts_.slots_out, now.slots_out);
    set(counts_.skipped, now.skipped);
    set(counts_.errors, now.errors);
    set(counts_.rejected, now.rejected);
    set(counts_.checksum_failures, now.checksum_failures);
    set(counts_.burst_calls, now.burst_calls);
    set(counts_.overwritten, now.overwritten);
    set(counts_.latest_skipped, now.latest_skipped);
    set(counts_.upstream_lost, now.upstream_lost);
    set(counts_.bytes_in, now.bytes_in);
    set(counts_.bytes_out, now.bytes_out);
    set(counts_.restarts, now.restarts.size());
    set(counts_.pacing.rate_millihertz, static_cast<std::uint64_t>(now.pacing.rate_hz * 1000.0 + 0.5));
    set(counts_.pacing.ticks, now.pacing.ticks);
    set(counts_.pacing.late_ticks, now.pacing.late_ticks);
    set(counts_.pacing.skipped_ticks, now.pacing.skipped_ticks);
    set(counts_.pacing.max_lateness_ns, now.pacing.max_lateness_ns);
    set(counts_.pacing.total_lateness_ns, now.pacing.total_lateness_ns);
}

bool IsolatedNode::should_restart(const Ending& ending) {
    if (stop_.load(std::memory_order_acquire)) return false;  // the graph is stopping: nothing to restart for
    if (ending.unstartable) return false;
    if (ending.setup_failed && !ever_ready_.load(std::memory_order_relaxed)) return false;
    const bool normal =
        ending.reported_end && !ending.hung && ending.exit.clean() && ended_normally(ending.report.end_reason);
    switch (supervision_.restart) {
        case graph::Supervision::Restart::Temporary:
            return false;
        case graph::Supervision::Restart::Transient:
            if (normal) return false;
            break;
        case graph::Supervision::Restart::Permanent:
            // Its inputs are closed and drained, or its error policy stopped it: a new process would end the same.
            if (normal && (ending.report.end_reason == EndReason::InputClosed ||
                           ending.report.end_reason == EndReason::ErrorPolicyNode ||
                           ending.report.end_reason == EndReason::ErrorPolicyGraph)) {
                return false;
            }
            break;
    }
    if (intensity_.allow(monotonic_ns())) return true;
    logger_->error("{}{}; it was restarted {} times within {} s (max_restarts): not again", log_prefix_, ending.cause,
                   supervision_.max_restarts, supervision_.restart_period_s);
    return false;
}

void IsolatedNode::end_for_good(const Ending& ending) {
    const bool normal =
        ending.reported_end && !ending.hung && ending.exit.clean() && ended_normally(ending.report.end_reason);
    // Downstream drains what was committed and sees the end; the seats go back so nothing waits for this node.
    for (WrittenChannel& channel : written_) {
        if (*channel.producer) (*channel.producer)->close();
    }
    for (Input& input : inputs_)
        input.consumer.reset();
    std::string detail;
    {
        const std::lock_guard lock(mutex_);
        if (normal && removed_.load(std::memory_order_acquire)) {
            totals_.end_reason = EndReason::Removed;
            totals_.end_detail = "removed from the running graph";
        } else if (normal) {
            totals_.end_reason = ending.report.end_reason;
            totals_.end_detail = ending.report.end_detail;
        } else {
            totals_.end_reason = ending.hung ? EndReason::Hung
                                 : ending.setup_failed || (ending.reported_end && ending.exit.clean())
                                     ? (ending.reported_end ? ending.report.end_reason : EndReason::StartFailed)
                                     : EndReason::Crashed;
            totals_.end_detail =
                ending.cause + (totals_.restarts.empty()
                                    ? std::string()
                                    : " (after " + std::to_string(totals_.restarts.size()) + " restarts)");
        }
        detail = totals_.end_detail;
    }
    publish_counts();
    counts_.process_pid.store(0, std::memory_order_relaxed);  // gone: its pid may be someone else's soon
    lifecycle_.end(report().end_reason, detail);
    runner_.events().emit("node_finished",
                          {{"node", id_}, {"end_reason", to_string(report().end_reason)}, {"end_detail", detail}});
    if (normal) return;
    if (ending.setup_failed && !ever_ready_.load(std::memory_order_relaxed) && !stop_.load(std::memory_order_acquire)) {
        runner_.fail_start("node '" + id_ + "' could not be created in its process: " + detail);
        return;
    }
    if (on_error_.action == graph::ErrorPolicy::Action::StopGraph && !stop_.load(std::memory_order_acquire)) {
        runner_.fail("node '" + id_ + "' ended: " + detail + " (on_error: stop_graph)", "node_failed");
        return;
    }
    if (!stop_.load(std::memory_order_acquire)) {
        logger_->error("{}ended: {}; the rest of the graph keeps running without it", log_prefix_, detail);
    }
}

}  // namespace dhub::runtime
