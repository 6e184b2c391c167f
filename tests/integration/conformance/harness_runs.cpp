// SPDX-License-Identifier: Apache-2.0
#include "harness_runs.hpp"

#include <algorithm>
#include <chrono>
#include <future>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "dhub/sdk/testing/harness.hpp"

namespace dhub::conformance {

using sdk::testing::Harness;
using sdk::testing::ParamMap;
using sdk::testing::ParamValue;

namespace {

/// How long a queue-mode run() may take before the run asks it to stop (it should end by itself long
/// before: its input is closed, or the test asked for a stop).
constexpr auto QUEUE_RUN_LIMIT = std::chrono::seconds(10);
/// Pace::Behind: how far the clock jumps after the first slot (less than a source may lag before it
/// gives up catching up, e.g. dhub.source.sim's second).
constexpr std::uint64_t BEHIND_NS = 100'000'000;

ParamMap to_param_map(const nlohmann::json& params) {
    ParamMap map;
    for (const auto& [name, value] : params.items()) {
        if (value.is_boolean()) {
            map.emplace(name, ParamValue(value.get<bool>()));
        } else if (value.is_number_integer()) {
            map.emplace(name, ParamValue(value.get<std::int64_t>()));
        } else if (value.is_number()) {
            map.emplace(name, ParamValue(value.get<double>()));
        } else {
            map.emplace(name, ParamValue(value.get<std::string>()));
        }
    }
    return map;
}

std::uint64_t output_capacity(const ComponentFixture& fixture) {
    const plugin::PortInfo* output = info_of(fixture).first_port(plugin::PortDirection::Output);
    return std::max(SLOT_BYTES, output != nullptr ? output->min_slot_bytes : 0);
}

void record_call(RunOutcome& outcome, dhub_status status) {
    outcome.calls.push_back(status);
    if (status != DHUB_OK && status != DHUB_SKIP) outcome.last_failure = status;
}

void produce(Harness& harness, const ComponentFixture& fixture, Delivery delivery, Pace pace, RunOutcome& outcome) {
    const std::uint64_t capacity = output_capacity(fixture);
    // A source may publish fewer slots than offered per burst (only those due): bounded, not endless.
    for (std::size_t call = 0; call < 4 * SLOTS_PER_RUN && outcome.outputs.size() < SLOTS_PER_RUN; ++call) {
        dhub_status status = DHUB_OK;
        if (delivery == Delivery::Burst) {
            auto burst = harness.produce_burst(std::min(BURST, SLOTS_PER_RUN - outcome.outputs.size()), capacity);
            status = burst.status;
            outcome.outputs.insert(outcome.outputs.end(), burst.outputs.begin(), burst.outputs.end());
        } else {
            auto result = harness.produce(capacity);
            status = result.status;
            if (status == DHUB_OK) outcome.outputs.push_back(std::move(result.output));
        }
        record_call(outcome, status);
        if (status != DHUB_OK && status != DHUB_SKIP) break;
        // Only a paced source (one that slept for its first slot) is behind; one that runs as fast as it
        // can leaves its timestamps to the host, which stamps a slot at its commit, and a jump would only
        // make the per-slot and the burst run commit at different times.
        if (call == 0 && pace == Pace::Behind && !harness.host().sleep_deadlines().empty()) {
            harness.clock().advance_ns(BEHIND_NS);
        }
    }
}

void handle_inputs(Harness& harness,
                   const ComponentFixture& fixture,
                   const std::vector<Frame>& inputs,
                   Delivery delivery,
                   RunOutcome& outcome) {
    const dhub_kind kind = harness.descriptor().kind;
    if (kind == DHUB_KIND_STAGE && delivery == Delivery::Burst) {
        // As the kernel: up to BURST committed slots per call; what the stage leaves is offered again with
        // more.
        std::size_t first = 0;
        while (first < inputs.size()) {
            const auto last = inputs.begin() + static_cast<std::ptrdiff_t>(std::min(first + BURST, inputs.size()));
            auto burst = harness.process_burst({inputs.begin() + static_cast<std::ptrdiff_t>(first), last},
                                               output_capacity(fixture));
            record_call(outcome, burst.status);
            outcome.outputs.insert(outcome.outputs.end(), burst.outputs.begin(), burst.outputs.end());
            // Nothing consumed of a full burst: the kernel reports it and releases the burst, so does this.
            first += burst.consumed == 0 ? static_cast<std::size_t>(last - inputs.begin()) - first : burst.consumed;
        }
        return;
    }
    if (kind == DHUB_KIND_SINK && delivery == Delivery::Burst) {
        for (std::size_t first = 0; first < inputs.size(); first += BURST) {
            const auto last = inputs.begin() + static_cast<std::ptrdiff_t>(std::min(first + BURST, inputs.size()));
            record_call(outcome, harness.consume_burst({inputs.begin() + static_cast<std::ptrdiff_t>(first), last}));
        }
        return;
    }
    for (const Frame& input : inputs) {
        if (kind == DHUB_KIND_VALIDATOR) {
            const auto verdict = harness.validate(input);
            record_call(outcome, verdict.status);
            outcome.verdicts.push_back(verdict.valid ? "valid" : "invalid: " + verdict.reason);
        } else if (kind == DHUB_KIND_SINK) {
            record_call(outcome, harness.consume(input));
        } else {
            auto result = harness.process(input, output_capacity(fixture));
            record_call(outcome, result.status);
            if (result.status == DHUB_OK) outcome.outputs.push_back(std::move(result.output));
        }
    }
}

/// Queue mode: the component drives through the host's queues. Its input is closed after the frames, so
/// a stage or sink returns by itself; a source is asked to stop once it has published SLOTS_PER_RUN.
void run_queue(Harness& harness,
               const ComponentFixture& fixture,
               const std::vector<Frame>& inputs,
               RunOutcome& outcome) {
    const bool has_input = harness.descriptor().input_schema != nullptr;
    const bool has_output = harness.descriptor().output_schema != nullptr;
    if (has_output) harness.host().set_output_capacity(0, output_capacity(fixture));
    if (has_input) {
        for (const Frame& input : inputs)
            harness.host().push_input(0, input);
        harness.host().close_input(0);
    }
    auto run = std::async(std::launch::async, [&harness] { return harness.run(); });
    if (!has_input) (void)harness.host().wait_for_outputs(0, SLOTS_PER_RUN, QUEUE_RUN_LIMIT);
    if (!has_input || run.wait_for(QUEUE_RUN_LIMIT) != std::future_status::ready) harness.request_stop();
    record_call(outcome, run.get());
    if (has_output) outcome.outputs = harness.host().outputs(0);
}

std::string describe_frame(const Frame& frame) {
    return "sequence " + std::to_string(frame.sequence) + ", timestamp " + std::to_string(frame.timestamp_ns) +
           " ns, " + std::to_string(frame.bytes.size()) + " bytes";
}

std::string describe_list(const std::vector<std::string>& items) {
    std::string text;
    for (const std::string& item : items)
        text += (text.empty() ? "" : "; ") + item;
    return "[" + text + "]";
}

}  // namespace

std::string first_difference(const RunOutcome& a, const RunOutcome& b, bool calls) {
    if (a.created != b.created) {
        return std::string("create() returned ") + dhub_status_name(a.created) + ", then " +
               dhub_status_name(b.created);
    }
    if (a.started != b.started) {
        return std::string("start() returned ") + dhub_status_name(a.started) + ", then " + dhub_status_name(b.started);
    }
    if (calls && a.calls != b.calls) {
        return "handler calls returned different statuses (" + std::to_string(a.calls.size()) + " calls, then " +
               std::to_string(b.calls.size()) + ")";
    }
    if (a.last_failure != b.last_failure) {
        return std::string("the run ended with ") + dhub_status_name(a.last_failure) + ", then with " +
               dhub_status_name(b.last_failure);
    }
    if (a.outputs.size() != b.outputs.size()) {
        return std::to_string(a.outputs.size()) + " slots published, then " + std::to_string(b.outputs.size());
    }
    for (std::size_t i = 0; i < a.outputs.size(); ++i) {
        const Frame& x = a.outputs[i];
        const Frame& y = b.outputs[i];
        if (x.sequence != y.sequence || x.timestamp_ns != y.timestamp_ns || x.bytes != y.bytes) {
            return "published slot " + std::to_string(i) + " differs: " + describe_frame(x) + " (" +
                   (x.bytes == y.bytes ? "same" : "other") + " bytes), then " + describe_frame(y);
        }
    }
    if (a.verdicts != b.verdicts)
        return "verdicts " + describe_list(a.verdicts) + ", then " + describe_list(b.verdicts);
    if (a.errors != b.errors) return "errors " + describe_list(a.errors) + ", then " + describe_list(b.errors);
    if (a.messages != b.messages) {
        return "messages " + describe_list(a.messages) + ", then " + describe_list(b.messages);
    }
    return "";
}

std::vector<Frame> input_frames(const std::string& input_schema, const std::filesystem::path& dir) {
    const ComponentFixture& feeder = feeder_for(input_schema);
    RunOutcome fed;
    Harness harness(descriptor_of(feeder), to_param_map(node_params(feeder, dir, true)));
    if (harness.create() != DHUB_OK || harness.start() != DHUB_OK) {
        throw std::runtime_error("feeder " + feeder.component + " did not start: " + harness.log_text());
    }
    produce(harness, feeder, Delivery::PerSlot, Pace::OnTime, fed);
    if (fed.outputs.size() != SLOTS_PER_RUN) {
        throw std::runtime_error("feeder " + feeder.component + " published " + std::to_string(fed.outputs.size()) +
                                 " slots, not " + std::to_string(SLOTS_PER_RUN));
    }
    return fed.outputs;
}

RunOutcome run_lifecycle(const ComponentFixture& fixture,
                         const std::vector<Frame>& inputs,
                         const std::filesystem::path& dir,
                         Delivery delivery,
                         Pace pace) {
    const plugin::ComponentInfo& info = info_of(fixture);
    RunOutcome outcome;
    Harness harness(descriptor_of(fixture), to_param_map(node_params(fixture, dir)));
    // As the kernel: the schema of the channel on each port (a "*" input gets what its feeder writes).
    using plugin::PortDirection;
    if (const plugin::PortInfo* input = info.first_port(PortDirection::Input)) {
        const std::string schema =
            input->schema == "*" ? info_of(feeder_for("*")).first_port(PortDirection::Output)->schema : input->schema;
        harness.host().set_port_schema(sdk::Direction::Input, 0, schema);
    }
    if (const plugin::PortInfo* output = info.first_port(PortDirection::Output)) {
        harness.host().set_port_schema(sdk::Direction::Output, 0, output->schema);
    }

    outcome.created = harness.create();
    if (outcome.created == DHUB_OK) {
        outcome.started = harness.start();
        if (outcome.started == DHUB_OK) {
            if (info.mode == plugin::ComponentMode::Queue) {
                run_queue(harness, fixture, inputs, outcome);
            } else if (info.kind == plugin::ComponentKind::Source) {
                produce(harness, fixture, delivery, pace, outcome);
            } else {
                handle_inputs(harness, fixture, inputs, delivery, outcome);
            }
        }
        harness.destroy();  // stop() first, as the kernel
    }
    for (const auto& error : harness.host().errors())
        outcome.errors.push_back(std::string(dhub_status_name(error.code)) + ": " + error.message);
    for (const auto& message : harness.host().messages())
        outcome.messages.push_back(message.text);
    outcome.violations = harness.host().violations();
    return outcome;
}

std::filesystem::path make_waveform_recording(const std::filesystem::path& dir) {
    static std::mutex mutex;
    static std::map<std::filesystem::path, std::filesystem::path> made;
    const std::lock_guard lock(mutex);
    if (const auto found = made.find(dir); found != made.end()) return found->second;
    const std::filesystem::path path = dir / "waveforms.dhr";
    const ComponentFixture& recorder = fixture_of("dhub.sink.recorder");
    Harness harness(descriptor_of(recorder), {{"path", path.string()}});
    harness.host().set_port_schema(sdk::Direction::Input, 0,
                                   info_of(feeder_for("*")).first_port(plugin::PortDirection::Output)->schema);
    if (harness.create() != DHUB_OK || harness.start() != DHUB_OK) {
        throw std::runtime_error("the recorder did not start: " + harness.log_text());
    }
    for (const Frame& frame : input_frames("*", dir)) {
        if (harness.consume(frame) != DHUB_OK) throw std::runtime_error("recording failed: " + harness.log_text());
    }
    harness.destroy();
    made.emplace(dir, path);
    return path;
}

}  // namespace dhub::conformance
