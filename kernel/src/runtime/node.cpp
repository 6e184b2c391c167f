// SPDX-License-Identifier: Apache-2.0
#include "node.hpp"

#include <pthread.h>
#include <sched.h>
#include <sys/prctl.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "broker_link.hpp"
#include "dhub/base/clock.hpp"
#include "dhub/broker/protocol.hpp"
#include "dhub/shm/checksum.hpp"
#include "event_log.hpp"

namespace dhub::runtime {
namespace {

using namespace std::chrono_literals;

/// Node threads wait in slices so that they notice a stop request within one slice.
constexpr std::chrono::nanoseconds WAIT_SLICE = 100ms;
constexpr std::chrono::nanoseconds SPIN_BEFORE_SLEEP = 20us;
constexpr shm::WaitOptions SLICE_WAIT{WAIT_SLICE, SPIN_BEFORE_SLEEP};
constexpr std::size_t MESSAGE_QUEUE_LIMIT = 1024;
constexpr std::size_t MESSAGE_BYTES_LIMIT = 4096;
constexpr std::uint64_t VALIDATION_LOG_FIRST = 10;
constexpr std::uint64_t VALIDATION_LOG_EVERY = 1000;
/// A remote input looks for its channel in parked DISCOVERs of this length (stop is noticed in between).
constexpr std::chrono::milliseconds REMOTE_DISCOVER_SLICE = 500ms;
constexpr std::chrono::milliseconds REMOTE_RETRY = 200ms;

spdlog::level::level_enum to_spdlog(dhub_log_level level) {
    switch (level) {
        case DHUB_LOG_TRACE:
            return spdlog::level::trace;
        case DHUB_LOG_DEBUG:
            return spdlog::level::debug;
        case DHUB_LOG_WARN:
            return spdlog::level::warn;
        case DHUB_LOG_ERROR:
            return spdlog::level::err;
        default:
            return spdlog::level::info;
    }
}

/// shm statuses as the plugin ABI spells them.
dhub_status to_abi(shm::Status status) {
    switch (status) {
        case shm::Status::Ok:
            return DHUB_OK;
        case shm::Status::Timeout:
            return DHUB_TIMEOUT;
        case shm::Status::Closed:
            return DHUB_END_OF_STREAM;
        case shm::Status::ChecksumMismatch:
            return DHUB_ERR_CHECKSUM;
        case shm::Status::TooLarge:
            return DHUB_ERR_INVALID_ARGUMENT;
        case shm::Status::Overwritten:
            return DHUB_ERR_UNAVAILABLE;
        case shm::Status::NotOwner:
            return DHUB_ERR_UNAVAILABLE;
        case shm::Status::Invalid:
            return DHUB_ERR_INVALID_ARGUMENT;
    }
    return DHUB_ERR_INTERNAL;
}

dhub_slot make_slot(
    void* data, std::uint64_t bytes, std::uint64_t capacity, std::uint64_t sequence, std::uint64_t timestamp_ns) {
    dhub_slot slot{};
    slot.struct_size = sizeof slot;
    slot.data = data;
    slot.bytes = bytes;
    slot.capacity = capacity;
    slot.sequence = sequence;
    slot.timestamp_ns = timestamp_ns;
    return slot;
}

}  // namespace

Node::Node(GraphRunner& runner,
           const graph::ValidatedNode& validated,
           const dhub_component_descriptor& descriptor,
           std::shared_ptr<spdlog::logger> logger)
    : runner_(runner),
      id_(validated.spec->id),
      component_(validated.component),
      descriptor_(descriptor),
      policy_(validated.spec->on_error),
      cpu_(validated.spec->cpu),
      burst_(validated.spec->burst),
      params_(validated.params),
      params_text_(validated.params.dump()),
      logger_(std::move(logger)),
      log_prefix_("[" + std::string(plugin::to_string(component_.kind)) + ":" + component_.id + ":" + id_ + "] ") {}

Node::~Node() {
    request_stop();
    join();
    if (instance_ != nullptr) descriptor_.destroy(instance_);
}

VoidResult Node::instantiate(const std::string& plugin_file) {
    const ThreadClock clock(runner_.clock());  // a constructor may read the time too
    const dhub_status created = descriptor_.create(&host_api(), reinterpret_cast<dhub_node*>(this), &instance_);
    if (created != DHUB_OK || instance_ == nullptr) {
        instance_ = nullptr;
        return Error{ErrorCode::Io, "node '" + id_ + "' (component " + component_.id + " from " + plugin_file +
                                        "): create failed with " + dhub_status_name(created) + " (" +
                                        std::to_string(created) + "); the plugin's log lines above say why"};
    }
    return Ok{};
}

void Node::start_thread() {
    thread_ = std::thread([this] { thread_main(); });
}

void Node::request_stop() noexcept {
    stop_.store(true, std::memory_order_release);
    const std::lock_guard lock(sleep_mutex_);
    sleep_wakeup_.notify_all();
}

void Node::join() {
    if (thread_.joinable()) thread_.join();
}

NodeReport Node::report() const {
    const std::lock_guard lock(end_reason_mutex_);
    // A queue-mode component pulls and pushes through the host API: no handler call to count.
    const bool queue_mode = descriptor_.run != nullptr;
    const std::uint64_t handled = !queue_mode       ? handled_.load()
                                  : inputs_.empty() ? slots_out_.load()
                                                    : slots_in_.load();
    return NodeReport{id_,
                      component_.id,
                      handled,
                      slots_in_.load(),
                      slots_out_.load(),
                      skipped_.load(),
                      errors_.load(),
                      rejected_.load(),
                      checksum_failures_.load(),
                      burst_calls_.load(),
                      overwritten_.load(),
                      end_reason_,
                      end_detail_};
}

void Node::on_overwritten(std::uint64_t sequence) {
    // Cannot happen while the producer honours the readers' holds (docs/shm-layout.md): if it does, the
    // handler may have acted on a torn slot, and that must never pass silently.
    bump(overwritten_);
    logger_->error("{}latest-only input slot {} was rewritten while the handler held it", log_prefix_, sequence);
}

void Node::finish(EndReason reason, std::string detail) {
    const std::lock_guard lock(end_reason_mutex_);
    if (end_reason_ != EndReason::Running) return;  // the first reason is the one that ended the node
    end_reason_ = reason;
    end_detail_ = std::move(detail);
}

void Node::thread_main() {
    const ThreadClock clock(runner_.clock());  // what the host API's now_ns() reads on this thread
    // Named after the node, so top -H, perf and gdb tell the node threads apart (Linux keeps 15 bytes).
    ::pthread_setname_np(::pthread_self(), id_.substr(0, 15).c_str());
    // Sources pace themselves with sleep_until: the default 50 us timer slack would blur every deadline.
    ::prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
    if (cpu_) {
        cpu_set_t cpus;
        CPU_ZERO(&cpus);
        CPU_SET(*cpu_, &cpus);
        if (::pthread_setaffinity_np(::pthread_self(), sizeof cpus, &cpus) != 0) {
            logger_->warn("{}cannot pin the node thread to cpu {} (graph \"cpu\"); it runs unpinned", log_prefix_,
                          *cpu_);
        }
    }
    bool started = connect_remote_inputs();
    if (started && descriptor_.start != nullptr) {
        if (const dhub_status status = descriptor_.start(instance_); status != DHUB_OK) {
            count_error(status, "start failed");
            finish(EndReason::StartFailed, "start() failed");
            started = false;
        }
    }
    if (started) {
        if (descriptor_.run != nullptr) {
            const dhub_status ran = descriptor_.run(instance_);
            if (dhub_status_is_error(ran)) count_error(ran, "run ended with an error");
            if (ran == DHUB_END_OF_STREAM) {
                finish(EndReason::EndOfStream, "run() reached the end of its stream");
            } else if (dhub_status_is_error(ran)) {
                finish(EndReason::RunFailed, std::string("run() returned ") + dhub_status_name(ran));
            } else if (stop_requested()) {
                finish(EndReason::Stopped, "stopped on request");
            } else {
                finish(EndReason::RunReturned, "run() returned");
            }
        } else {
            run_realtime();
        }
    }
    if (descriptor_.stop != nullptr) descriptor_.stop(instance_);
    // Held slots go back, and closing the outputs lets downstream nodes drain and see the end.
    for (Input& input : inputs_) {
        input.held.reset();
        BrokerLink* link = runner_.broker_link();
        if (input.remote && input.consumer && link->client().connected()) {
            (void)link->client().deregister_consumer(input.remote_name, link->self_tag(id_));
        }
    }
    for (Output& output : outputs_) {
        output.pending.reset();
        output.producer->close();
    }
    const NodeReport ended = report();
    runner_.events().emit(
        "node_finished",
        {{"node", id_}, {"end_reason", to_string(ended.end_reason)}, {"end_detail", ended.end_detail}});
    finished_.store(true, std::memory_order_release);
    logger_->debug("{}finished: {}", log_prefix_, report().end_detail);
    runner_.notify_state_change();
}

void Node::run_realtime() {
    prepare_frame();
    const bool bursts = uses_bursts();
    while (!stop_requested()) {
        if (messages_pending_.load(std::memory_order_acquire)) drain_messages();
        const Step step = !bursts ? realtime_step() : inputs_.empty() ? source_burst_step() : sink_burst_step();
        if (step == Step::Finished) return;
    }
    finish(EndReason::Stopped, "stopped on request");
}

bool Node::uses_bursts() const noexcept {
    if (descriptor_.process_burst == nullptr || burst_ <= 1) return false;
    switch (component_.kind) {
        case plugin::ComponentKind::Source:
            return inputs_.empty() && outputs_.size() == 1;
        case plugin::ComponentKind::Sink:
            return inputs_.size() == 1 && outputs_.empty();
        default:
            return false;
    }
}

void Node::prepare_frame() {
    frame_.input.struct_size = sizeof frame_.input;
    frame_.output.struct_size = sizeof frame_.output;
    frame_.args.struct_size = sizeof frame_.args;
    if (!inputs_.empty()) {
        frame_.input.capacity = inputs_[0].consumer->view().slot_payload_bytes();
        frame_.args.input = &frame_.input;
    }
    if (!outputs_.empty()) {
        frame_.output.capacity = outputs_[0].producer->view().slot_payload_bytes();
        frame_.args.output = &frame_.output;
    }
    if (uses_bursts()) {
        dhub_slot blank{};
        blank.struct_size = sizeof blank;
        blank.capacity = inputs_.empty() ? frame_.output.capacity : frame_.input.capacity;
        burst_slots_.assign(burst_, blank);
        burst_args_.struct_size = sizeof burst_args_;
        burst_args_.inputs = inputs_.empty() ? nullptr : burst_slots_.data();
        burst_args_.outputs = inputs_.empty() ? burst_slots_.data() : nullptr;
    }
}

// The per-slot path. Between acquiring an output slot and committing it the thread's stores queue behind
// the slot's pending cache-line transfers, so this path keeps its own stores few: the handler's arguments
// are built once (prepare_frame), slot handles are never moved, and counters are plain stores.
Node::Step Node::realtime_step() {
    if (inputs_.empty()) return handle_slot();
    shm::ReadSlot read = inputs_[0].consumer->acquire_read(SLICE_WAIT);
    if (read.status() != shm::Status::Ok) return on_read_failure(read.status(), read.sequence());
    const auto payload = read.payload();
    frame_.input.data = const_cast<std::byte*>(payload.data());
    frame_.input.bytes = payload.size();
    frame_.input.sequence = read.sequence();
    frame_.input.timestamp_ns = read.timestamp_ns();
    const Step step = handle_slot();
    if (read.release() == shm::Status::Overwritten) on_overwritten(frame_.input.sequence);
    bump(slots_in_);
    return step;
}

Node::Step Node::handle_slot() {
    if (outputs_.empty()) return account(call_handler());
    shm::WriteSlot write = acquire_output();
    if (write.status() != shm::Status::Ok) return on_write_failure(write.status());
    frame_.output.data = write.payload().data();
    frame_.output.bytes = frame_.output.capacity;
    frame_.output.sequence = write.sequence();
    // Timestamp 0 = "stamp it at commit" (abi.h): one clock read per slot, taken at publication.
    frame_.output.timestamp_ns = 0;
    const dhub_status status = call_handler();
    if (status == DHUB_OK) {
        const std::uint64_t bytes = std::min(frame_.output.bytes, frame_.output.capacity);
        const shm::Status committed =
            frame_.output.timestamp_ns == 0 ? write.commit(bytes) : write.commit(bytes, frame_.output.timestamp_ns);
        if (committed == shm::Status::Ok) bump(slots_out_);
    } else {
        write.abort();
    }
    return account(status);
}

shm::WriteSlot Node::acquire_output() {
    for (;;) {
        shm::WriteSlot slot = outputs_[0].producer->acquire_write(SLICE_WAIT);
        if (slot.status() != shm::Status::Timeout || stop_requested()) return slot;
    }
}

// The burst paths: per slot only the fields that change are stored (see realtime_step), and the DataBlock
// publishes or releases the whole burst with one store.
Node::Step Node::source_burst_step() {
    shm::WriteBurst burst = acquire_output_burst();
    if (burst.status() != shm::Status::Ok) return on_write_failure(burst.status());
    const std::size_t offered = burst.size();
    const std::uint64_t capacity = frame_.output.capacity;
    // Every field the plugin may have changed in the previous call is set again: nothing it wrote there
    // carries over.
    for (std::size_t i = 0; i < offered; ++i) {
        dhub_slot& slot = burst_slots_[i];
        slot.data = burst.payload(i).data();
        slot.bytes = capacity;
        slot.capacity = capacity;
        slot.sequence = burst.sequence(i);
        slot.timestamp_ns = 0;  // 0 = stamped at commit
    }
    burst_args_.inputs = nullptr;
    burst_args_.outputs = burst_slots_.data();
    burst_args_.count = static_cast<std::uint32_t>(offered);
    burst_args_.filled = 0;
    const dhub_status status = descriptor_.process_burst(instance_, &burst_args_);
    bump(burst_calls_);
    // What the plugin filled is complete whatever it returns: published, never silently dropped.
    const std::size_t filled = std::min<std::size_t>(burst_args_.filled, offered);
    for (std::size_t i = 0; i < filled; ++i) {
        const dhub_slot& slot = burst_slots_[i];
        (void)burst.stamp(i, std::min(slot.bytes, capacity), slot.timestamp_ns);
    }
    if (burst.commit(filled) == shm::Status::Ok)
        slots_out_.store(slots_out_.load(std::memory_order_relaxed) + filled, std::memory_order_relaxed);
    if (status != DHUB_OK && filled != 0) {
        handled_.store(handled_.load(std::memory_order_relaxed) + filled, std::memory_order_relaxed);
    }
    // Nothing filled and no complaint: nothing was due (a paced source), counted like DHUB_SKIP.
    return account(status == DHUB_OK && filled == 0 ? DHUB_SKIP : status, filled);
}

Node::Step Node::sink_burst_step() {
    shm::ReadBurst burst = inputs_[0].consumer->acquire_burst(burst_, SLICE_WAIT);
    if (burst.status() != shm::Status::Ok) return on_read_failure(burst.status(), burst.sequence(0));
    const std::size_t count = burst.size();
    const std::uint64_t first = burst.sequence(0);
    for (std::size_t i = 0; i < count; ++i) {
        dhub_slot& slot = burst_slots_[i];
        const auto payload = burst.payload(i);
        slot.data = const_cast<std::byte*>(payload.data());
        slot.bytes = payload.size();
        slot.capacity = frame_.input.capacity;
        slot.sequence = burst.sequence(i);
        slot.timestamp_ns = burst.timestamp_ns(i);
    }
    burst_args_.inputs = burst_slots_.data();
    burst_args_.outputs = nullptr;
    burst_args_.count = static_cast<std::uint32_t>(count);
    const dhub_status status = descriptor_.process_burst(instance_, &burst_args_);
    bump(burst_calls_);
    if (burst.release() == shm::Status::Overwritten) on_overwritten(first);
    slots_in_.store(slots_in_.load(std::memory_order_relaxed) + count, std::memory_order_relaxed);
    return account(status, count);
}

shm::WriteBurst Node::acquire_output_burst() {
    shm::WriteBurst burst = outputs_[0].producer->acquire_burst(burst_, SLICE_WAIT);
    while (burst.status() == shm::Status::Timeout && !stop_requested())
        burst = outputs_[0].producer->acquire_burst(burst_, SLICE_WAIT);
    return burst;
}

dhub_status Node::call_handler() {
    if (descriptor_.validate == nullptr) return descriptor_.process(instance_, &frame_.args);
    char reason[512] = {};
    dhub_validation verdict{sizeof(dhub_validation), 1, reason, sizeof reason};
    const dhub_status status = descriptor_.validate(instance_, &frame_.input, &verdict);
    if (status == DHUB_OK && verdict.valid == 0) {
        const std::uint64_t rejected = rejected_.fetch_add(1, std::memory_order_relaxed) + 1;
        if (rejected <= VALIDATION_LOG_FIRST || rejected % VALIDATION_LOG_EVERY == 0) {
            logger_->warn("{}slot {} on '{}' rejected ({} so far): {}", log_prefix_, frame_.input.sequence,
                          inputs_[0].channel, rejected, reason);
        }
    }
    return status;
}

Node::Step Node::on_read_failure(shm::Status status, std::uint64_t sequence) {
    Input& input = inputs_[0];
    switch (status) {
        case shm::Status::Timeout:
            // Only on a timeout, so the busy path never looks: did the broker report the producer lost?
            if (input.remote && runner_.broker_link()->losses(input.remote_name) != input.losses_seen) {
                return on_remote_lost(input, "producer_lost", "the broker reports its producer lost");
            }
            return Step::Continue;
        case shm::Status::Closed:
            if (input.remote) return on_remote_lost(input, "closed", "its producer closed it");
            finish(EndReason::InputClosed, "input closed and drained");
            return Step::Finished;
        case shm::Status::ChecksumMismatch:
            checksum_failures_.fetch_add(1, std::memory_order_relaxed);
            logger_->warn("{}input slot {} on '{}' failed its checksum and was skipped", log_prefix_, sequence,
                          inputs_[0].channel);
            return Step::Continue;
        default:
            count_error(to_abi(status), std::string("reading '") + inputs_[0].channel + "': " + shm::to_string(status));
            return Step::Continue;
    }
}

Node::Step Node::on_write_failure(shm::Status status) {
    if (status == shm::Status::Timeout) {  // acquire_output gives up on timeouts only when asked to stop
        finish(EndReason::Stopped, "stopped on request");
        return Step::Finished;
    }
    count_error(to_abi(status), std::string("writing '") + outputs_[0].channel + "': " + shm::to_string(status));
    return Step::Continue;
}

Node::Step Node::account(dhub_status status, std::uint64_t slots) {
    switch (status) {
        case DHUB_OK:
            handled_.store(handled_.load(std::memory_order_relaxed) + slots, std::memory_order_relaxed);
            count_success();
            return Step::Continue;
        case DHUB_SKIP:
            bump(skipped_);
            count_success();
            return Step::Continue;
        case DHUB_END_OF_STREAM:
            finish(EndReason::EndOfStream, "the source reached the end of its stream");
            return Step::Finished;
        case DHUB_STOPPING:
            finish(EndReason::Stopped, "stopped on request");
            return Step::Finished;
        default:
            count_error(status, "handler failed");
            return stop_requested() ? Step::Finished : Step::Continue;
    }
}

// ---- remote inputs ------------------------------------------------------------------------------------

bool Node::connect_remote_inputs() {
    for (Input& input : inputs_) {
        if (input.remote && !input.consumer && !connect_remote(input)) return false;
    }
    return true;
}

bool Node::connect_remote(Input& input) {
    BrokerLink& link = *runner_.broker_link();
    const std::optional<std::string>& expected = component_.input_schema;
    const bool checks_schema = expected && !expected->empty() && *expected != "*";
    const shm::SchemaHash expected_hash = checks_schema ? graph::schema_hash(*expected) : shm::SchemaHash{};
    const std::string expected_hex = checks_schema ? shm::to_hex(expected_hash.data(), expected_hash.size()) : "";
    std::string last_problem;
    // Once per distinct problem, not once per retry. why: the event's "reason" (docs/kernel.md, "Events").
    auto report = [&](const char* why, const std::string& problem) {
        if (problem == last_problem) return;
        runner_.events().emit("input_waiting",
                              {{"node", id_}, {"input", input.channel}, {"reason", why}, {"detail", problem}});
        logger_->warn("{}input '{}': {}", log_prefix_, input.channel, problem);
        last_problem = problem;
    };
    while (!stop_requested()) {
        // Counted before discovering: a loss reported after this point is not one we have already handled.
        const std::uint64_t losses = link.losses(input.remote_name);
        auto found =
            link.client().discover(input.remote_name, REMOTE_DISCOVER_SLICE, [this] { return stop_requested(); });
        if (!found) {
            if (found.error().code == ErrorCode::Cancelled) break;
            const bool not_yet = broker::refused_with(found.error(), broker::error_code::NOT_FOUND);
            report(not_yet ? "not_published" : "discover_failed",
                   not_yet ? "waiting for another kernel to publish '" + input.remote_name + "'"
                           : "discovering '" + input.remote_name + "': " + found.error().message);
            if (!not_yet) pause(REMOTE_RETRY);  // a parked DISCOVER already waited
            continue;
        }
        const broker::ChannelRegistration& channel = found->registration;
        if (checks_schema && channel.schema_hash != expected_hex) {
            const std::string problem = "channel '" + input.remote_name + "' carries schema hash " +
                                        channel.schema_hash + ", but component " + component_.id + " expects " +
                                        *expected + " (hash " + expected_hex +
                                        "); connect it to a channel of that schema";
            count_error(DHUB_ERR_SCHEMA_MISMATCH, "input '" + input.channel + "': " + problem);
            finish(EndReason::SchemaMismatch, "input '" + input.channel + "': " + problem);
            return false;
        }
        shm::ConsumerOptions options;
        options.name = id_;
        options.hold = true;  // a handler acts on the slot in place: it must never change under it
        options.attach_secret = channel.attach_secret;
        if (checks_schema) options.expect.schema_hash = expected_hash;
        auto attached = shm::Consumer::attach(channel.segment, options);
        if (!attached) {
            // Typically a producer that died or restarted after the broker answered: look again shortly.
            report("attach_failed", "attaching to '" + input.remote_name + "' (segment " + channel.segment +
                                        "): " + attached.error().message);
            pause(REMOTE_RETRY);
            continue;
        }
        if (attached->view().header().closed.load(std::memory_order_acquire) != 0) {
            // Its producer closed it and has not withdrawn it from the broker yet: attaching again at once
            // would only find it closed again, in a tight loop, until the segment is gone.
            report("attach_failed", "channel '" + input.remote_name + "' (segment " + channel.segment +
                                        ") is closed; waiting for its producer to publish it again");
            pause(REMOTE_RETRY);
            continue;
        }
        // A component that takes any schema ("*") expects what the channel carries.
        broker::ConsumerRegistration registration{input.remote_name, link.self_tag(id_),
                                                  checks_schema ? expected_hex : channel.schema_hash};
        if (auto registered = link.client().register_consumer(registration); !registered) {
            if (broker::refused_with(registered.error(), broker::error_code::SCHEMA_MISMATCH)) {
                count_error(DHUB_ERR_SCHEMA_MISMATCH, "input '" + input.channel + "': " + registered.error().message);
                finish(EndReason::SchemaMismatch, "input '" + input.channel + "': " + registered.error().message);
                return false;
            }
            // The data plane does not need it: the broker only counts consumers and tells the producer.
            logger_->warn("{}input '{}': attached, but the broker did not take the consumer registration: {}",
                          log_prefix_, input.channel, registered.error().message);
        } else {
            runner_.events().emit("consumer_registered", {{"node", id_}, {"input", input.channel}});
        }
        input.consumer.emplace(std::move(attached.value()));
        input.losses_seen = losses;
        logger_->info("{}input '{}' attached to segment {} ({} other consumers)", log_prefix_, input.channel,
                      channel.segment, found->consumer_count);
        runner_.events().emit("input_attached", {{"node", id_},
                                                 {"input", input.channel},
                                                 {"segment", channel.segment},
                                                 {"other_consumers", found->consumer_count}});
        if (&input == &inputs_[0]) prepare_frame();
        return true;
    }
    finish(EndReason::Stopped, "stopped on request");
    return false;
}

Node::Step Node::on_remote_lost(Input& input, const char* cause, const char* what) {
    BrokerLink& link = *runner_.broker_link();
    logger_->warn("{}input '{}' lost: {}", log_prefix_, input.channel, what);
    runner_.events().emit("input_lost", {{"node", id_}, {"input", input.channel}, {"cause", cause}, {"detail", what}});
    if (link.client().connected()) (void)link.client().deregister_consumer(input.remote_name, link.self_tag(id_));
    input.held.reset();
    input.consumer.reset();
    if (link.spec().on_producer_lost == graph::BrokerSpec::OnProducerLost::StopNode) {
        finish(EndReason::ProducerLost,
               "producer of input '" + input.channel + "' lost (broker on_producer_lost: stop_node)");
        return Step::Finished;
    }
    logger_->info("{}waiting for '{}' to come back (broker on_producer_lost: wait)", log_prefix_, input.remote_name);
    runner_.events().emit("input_waiting", {{"node", id_},
                                            {"input", input.channel},
                                            {"reason", "producer_lost"},
                                            {"detail", "waiting for '" + input.remote_name + "' to come back"}});
    return connect_remote(input) ? Step::Continue : Step::Finished;
}

void Node::count_error(dhub_status code, const std::string& what) {
    errors_.fetch_add(1, std::memory_order_relaxed);
    const std::uint32_t consecutive = consecutive_errors_.fetch_add(1, std::memory_order_relaxed) + 1;
    logger_->error("{}{}: {} ({})", log_prefix_, what, dhub_status_name(code), code);
    if (consecutive < policy_.max_consecutive) return;
    switch (policy_.action) {
        case graph::ErrorPolicy::Action::Continue:
            if (consecutive == policy_.max_consecutive) {
                logger_->warn("{}{} consecutive errors; on_error is 'continue', so the node keeps running", log_prefix_,
                              consecutive);
            }
            return;
        case graph::ErrorPolicy::Action::StopNode:
            logger_->error(
                "{}{} consecutive errors: stopping this node (on_error: stop_node); the rest of the "
                "graph keeps running",
                log_prefix_, consecutive);
            finish(EndReason::ErrorPolicyNode,
                   "error policy: node stopped after " + std::to_string(consecutive) + " consecutive errors");
            stop_.store(true, std::memory_order_release);
            runner_.notify_state_change();  // a stopped source starts the drain deadline
            return;
        case graph::ErrorPolicy::Action::StopGraph:
            finish(EndReason::ErrorPolicyGraph,
                   "error policy: graph stopped after " + std::to_string(consecutive) + " consecutive errors");
            stop_.store(true, std::memory_order_release);
            runner_.fail("node '" + id_ + "' failed " + std::to_string(consecutive) +
                         " times in a row (on_error: stop_graph)");
            return;
    }
}

void Node::deliver_message(const std::string& channel, const std::string& message) {
    if (descriptor_.on_message == nullptr) return;
    const std::lock_guard lock(message_mutex_);
    if (messages_.size() >= MESSAGE_QUEUE_LIMIT) messages_.pop_front();
    messages_.emplace_back(channel, message);
    messages_pending_.store(true, std::memory_order_release);
}

void Node::drain_messages() {
    std::deque<std::pair<std::string, std::string>> batch;
    {
        const std::lock_guard lock(message_mutex_);
        batch.swap(messages_);
        messages_pending_.store(false, std::memory_order_release);
    }
    for (const auto& [channel, message] : batch)
        descriptor_.on_message(instance_, channel.c_str(), message.c_str());
}

// ---- host API ---------------------------------------------------------------------------------------------

void Node::log(dhub_log_level level, const char* message) const {
    logger_->log(to_spdlog(level), "{}{}", log_prefix_, message != nullptr ? message : "");
}

void Node::report_error(dhub_status code, const char* message) {
    count_error(code, message != nullptr ? message : "error reported by the plugin");
}

void Node::pause(std::chrono::nanoseconds span) {
    std::unique_lock lock(sleep_mutex_);
    sleep_wakeup_.wait_for(lock, span, [this] { return stop_requested(); });
}

dhub_status Node::sleep_until(std::uint64_t deadline_ns) {
    std::unique_lock lock(sleep_mutex_);
    runner_.clock().wait_until(deadline_ns, lock, sleep_wakeup_, [this] { return stop_requested(); });
    return stop_requested() ? DHUB_STOPPING : DHUB_OK;
}

const nlohmann::json* Node::param(const char* name) const noexcept {
    if (name == nullptr) return nullptr;
    const auto found = params_.find(name);
    return found == params_.end() ? nullptr : &*found;
}

const char* Node::param_string(const char* name) {
    const nlohmann::json* value = param(name);
    if (value == nullptr || !value->is_string()) return nullptr;
    auto [stored, inserted] = string_params_.try_emplace(name, value->get<std::string>());
    return stored->second.c_str();
}

template <typename Attempt>
dhub_status Node::wait_in_slices(std::int64_t timeout_ns, Attempt&& attempt) {
    const bool forever = timeout_ns < 0;
    const std::uint64_t deadline = forever ? ~0ULL : monotonic_ns() + static_cast<std::uint64_t>(timeout_ns);
    for (;;) {
        // "Forever" waits slice by slice too. (Its remaining time does not fit a signed duration: it once
        // became negative, a poll, and a pull with no timeout spun without ever seeing its input close.)
        const std::uint64_t now = monotonic_ns();
        const auto remaining =
            forever ? WAIT_SLICE
                    : std::chrono::nanoseconds(static_cast<std::int64_t>(deadline > now ? deadline - now : 0));
        const shm::Status status = attempt(shm::WaitOptions{std::min(remaining, WAIT_SLICE), SPIN_BEFORE_SLEEP});
        if (status != shm::Status::Timeout) return to_abi(status);
        if (stop_requested()) return DHUB_STOPPING;
        if (!forever && monotonic_ns() >= deadline) return DHUB_TIMEOUT;
    }
}

dhub_status Node::acquire_write(std::uint32_t port, std::int64_t timeout_ns, dhub_slot* slot) {
    if (port >= outputs_.size() || slot == nullptr) return DHUB_ERR_INVALID_ARGUMENT;
    Output& output = outputs_[port];
    if (output.pending) return DHUB_ERR_INVALID_ARGUMENT;  // commit or abort the previous one first
    return wait_in_slices(timeout_ns, [&](const shm::WaitOptions& wait) {
        shm::WriteSlot acquired = output.producer->acquire_write(wait);
        if (acquired) {
            const auto buffer = acquired.payload();
            *slot = make_slot(buffer.data(), buffer.size(), buffer.size(), acquired.sequence(), 0);
            output.pending.emplace(std::move(acquired));
            return shm::Status::Ok;
        }
        return acquired.status();
    });
}

dhub_status Node::commit(std::uint32_t port, std::uint64_t bytes, std::uint64_t timestamp_ns) {
    if (port >= outputs_.size() || !outputs_[port].pending) return DHUB_ERR_INVALID_ARGUMENT;
    Output& output = outputs_[port];
    const shm::Status committed =
        timestamp_ns == 0 ? output.pending->commit(bytes) : output.pending->commit(bytes, timestamp_ns);
    if (committed == shm::Status::Ok) {
        output.pending.reset();
        bump(slots_out_);
    }
    return to_abi(committed);
}

dhub_status Node::abort_write(std::uint32_t port) {
    if (port >= outputs_.size() || !outputs_[port].pending) return DHUB_ERR_INVALID_ARGUMENT;
    outputs_[port].pending.reset();
    return DHUB_OK;
}

dhub_status Node::acquire_read(std::uint32_t port, std::int64_t timeout_ns, dhub_slot* slot) {
    if (port >= inputs_.size() || slot == nullptr) return DHUB_ERR_INVALID_ARGUMENT;
    Input& input = inputs_[port];
    if (input.held) return DHUB_ERR_INVALID_ARGUMENT;  // release the previous one first
    if (!input.consumer) return DHUB_ERR_UNAVAILABLE;
    return wait_in_slices(timeout_ns, [&](const shm::WaitOptions& wait) {
        shm::ReadSlot acquired = input.consumer->acquire_read(wait);
        if (acquired) {
            const auto payload = acquired.payload();
            *slot =
                make_slot(const_cast<std::byte*>(payload.data()), payload.size(),
                          input.consumer->view().slot_payload_bytes(), acquired.sequence(), acquired.timestamp_ns());
            input.held.emplace(std::move(acquired));
            return shm::Status::Ok;
        }
        if (acquired.status() == shm::Status::ChecksumMismatch) {
            checksum_failures_.fetch_add(1, std::memory_order_relaxed);
        }
        return acquired.status();
    });
}

dhub_status Node::release(std::uint32_t port) {
    if (port >= inputs_.size() || !inputs_[port].held) return DHUB_ERR_INVALID_ARGUMENT;
    const std::uint64_t sequence = inputs_[port].held->sequence();
    const shm::Status released = inputs_[port].held->release();
    inputs_[port].held.reset();
    if (released == shm::Status::Overwritten) on_overwritten(sequence);
    bump(slots_in_);
    return released == shm::Status::Overwritten ? DHUB_ERR_UNAVAILABLE : DHUB_OK;
}

shm::FlexZone Node::flex_of(std::uint32_t direction, std::uint32_t port) const {
    if (direction == 0) return inputs_[port].consumer->flex_zone();
    return outputs_[port].producer->flex_zone();
}

dhub_status Node::flex_read(
    std::uint32_t direction, std::uint32_t port, void* buffer, std::uint64_t capacity, std::uint64_t* bytes) {
    if (direction > 1 || port >= (direction == 0 ? inputs_.size() : outputs_.size()) || buffer == nullptr) {
        return DHUB_ERR_INVALID_ARGUMENT;
    }
    if (direction == 0 && !inputs_[port].consumer) return DHUB_ERR_UNAVAILABLE;  // a remote input not attached yet
    std::size_t used = 0;
    const shm::Status status =
        flex_of(direction, port).read({static_cast<std::byte*>(buffer), static_cast<std::size_t>(capacity)}, used);
    if (bytes != nullptr) *bytes = used;
    return to_abi(status);
}

dhub_status Node::flex_write(std::uint32_t direction, std::uint32_t port, const void* data, std::uint64_t bytes) {
    if (direction > 1 || port >= (direction == 0 ? inputs_.size() : outputs_.size()) || data == nullptr) {
        return DHUB_ERR_INVALID_ARGUMENT;
    }
    if (direction == 0 && !inputs_[port].consumer) return DHUB_ERR_UNAVAILABLE;
    return to_abi(
        flex_of(direction, port).write({static_cast<const std::byte*>(data), static_cast<std::size_t>(bytes)}));
}

const char* Node::port_schema(std::uint32_t direction, std::uint32_t port) const noexcept {
    if (direction == 0) return port < inputs_.size() ? inputs_[port].schema.c_str() : nullptr;
    if (direction == 1) return port < outputs_.size() ? outputs_[port].schema.c_str() : nullptr;
    return nullptr;
}

dhub_status Node::send_message(std::uint32_t direction, std::uint32_t port, const char* message) {
    if (direction > 1 || port >= (direction == 0 ? inputs_.size() : outputs_.size()) || message == nullptr ||
        std::strlen(message) > MESSAGE_BYTES_LIMIT) {
        return DHUB_ERR_INVALID_ARGUMENT;
    }
    runner_.broadcast(*this, direction == 0 ? inputs_[port].channel : outputs_[port].channel, message);
    return DHUB_OK;
}

}  // namespace dhub::runtime
