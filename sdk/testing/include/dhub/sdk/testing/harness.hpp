// SPDX-License-Identifier: Apache-2.0
// dhub::sdk_testing — drive one component the way the kernel would, without a kernel, shared memory or
// real time. Test-only; no test framework is assumed (errors are HarnessError exceptions).
//
//   dhub::sdk::testing::ManualClock clock;
//   dhub::sdk::testing::Harness sut(dhub::sdk::component<Counter>(), {{"step", 2.0}}, clock);
//   ASSERT_EQ(sut.start(), DHUB_OK);
//   const auto result = sut.produce(sizeof(Frame));   // one realtime produce() into a 64-byte-aligned slot
//   EXPECT_EQ(result.status, DHUB_OK);
//   EXPECT_EQ(result.output.as<Frame>().t, 2.0);
//   sut.stop();
//
// The component comes from its descriptor: dhub::sdk::component<T>() when the test compiles the plugin
// source, or PluginLibrary::open("dhub-x.so").component("acme.source.x") to test the built plugin.
// Parameters are given as a ParamMap and checked against the component's params_schema_json exactly as
// the kernel checks a node's params (unknown names, types, ranges, enums; defaults applied; a parameter
// without a default is required; a component declaring parameters per node, SDK 1.3, is asked for them as
// `dhub-kernel --validate` asks). The schema is read with a small built-in JSON reader, so the harness
// needs nothing but the standard library (and dlopen for PluginLibrary).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dhub/sdk/abi.h"
#include "dhub/sdk/testing/fake_host.hpp"
#include "dhub/sdk/testing/frame.hpp"
#include "dhub/sdk/testing/harness_error.hpp"
#include "dhub/sdk/testing/manual_clock.hpp"
#include "dhub/sdk/testing/param_schema.hpp"
#include "dhub/sdk/testing/param_value.hpp"

namespace dhub::sdk::testing {

/// What one produce()/process() call returned. output holds the published slot (committed bytes,
/// sequence, timestamp) when status is DHUB_OK and is empty otherwise.
struct ProcessResult {
    dhub_status status = DHUB_ERR_INTERNAL;
    Frame output;
};

/// What one produce_burst() call returned: the published slots (the filled prefix), in sequence order.
struct BurstResult {
    dhub_status status = DHUB_ERR_INTERNAL;
    std::vector<Frame> outputs;
    std::size_t consumed = 0;  ///< a stage's burst: input slots it is done with, from the first
};

struct ValidationResult {
    dhub_status status = DHUB_ERR_INTERNAL;
    bool valid = false;
    std::string reason;
    std::string kind{};  ///< SDK 1.2: the kind of rejection the validator named ("" if none)
};

inline const char* to_string(dhub_kind kind) noexcept {
    switch (kind) {
        case DHUB_KIND_SOURCE:
            return "source";
        case DHUB_KIND_STAGE:
            return "stage";
        case DHUB_KIND_SINK:
            return "sink";
        case DHUB_KIND_TRANSPORT:
            return "transport";
        case DHUB_KIND_VALIDATOR:
            return "validator";
        default:
            return "invalid";
    }
}

class Harness {
public:
    static constexpr std::size_t DEFAULT_VERDICT_CAPACITY = 1024;
    /// Room for the kind of rejection a validator names (the kernel gives 48 bytes).
    static constexpr std::size_t KIND_CAPACITY = 48;

    /// A harness with its own manual clock.
    explicit Harness(const dhub_component_descriptor* component, ParamMap params = {})
        : Harness(component, std::move(params), nullptr) {}
    /// A harness on a clock shared with other harnesses of the same test.
    Harness(const dhub_component_descriptor* component, ParamMap params, ManualClock& clock)
        : Harness(component, std::move(params), &clock) {}

    ~Harness() {
        try {
            destroy();
        } catch (...) {  // NOLINT(bugprone-empty-catch): a destructor must not throw
        }
    }
    Harness(const Harness&) = delete;
    Harness& operator=(const Harness&) = delete;

    // ---- lifecycle (the kernel's order: create, start, slots..., stop, destroy) ----------------------

    /// Calls the component's create(): its constructor runs and reads its parameters.
    dhub_status create() {
        if (instance_ != nullptr) throw HarnessError("create(): '" + id() + "' is already created");
        void* instance = nullptr;
        const dhub_status status = component_->create(host_.api(), host_.node(), &instance);
        if (status == DHUB_OK) {
            if (instance == nullptr)
                throw HarnessError("create() of '" + id() + "' returned DHUB_OK without an instance");
            instance_ = instance;
        }
        return status;
    }
    /// start(), after create() if the test did not call it.
    dhub_status start() {
        if (instance_ == nullptr) {
            if (const dhub_status status = create(); status != DHUB_OK) return status;
        }
        if (started_) throw HarnessError("start(): '" + id() + "' is already started");
        const dhub_status status = component_->start != nullptr ? component_->start(instance_) : DHUB_OK;
        started_ = status == DHUB_OK;
        return status;
    }
    void stop() {
        if (!started_) return;
        if (component_->stop != nullptr) component_->stop(instance_);
        started_ = false;
    }
    /// stop() if started, then destroy(); also done by the destructor.
    void destroy() {
        if (instance_ == nullptr) return;
        stop();
        component_->destroy(instance_);
        instance_ = nullptr;
    }
    bool created() const noexcept { return instance_ != nullptr; }
    bool started() const noexcept { return started_; }

    // ---- realtime handlers ------------------------------------------------------------------------------

    /// One produce() of a source into an output slot of output_capacity bytes.
    ProcessResult produce(std::uint64_t output_capacity) {
        require_realtime(DHUB_KIND_SOURCE, "produce()");
        return call_process(nullptr, output_capacity);
    }
    /// One process() of a stage: input in, an output slot of output_capacity bytes.
    ProcessResult process(const Frame& input, std::uint64_t output_capacity) {
        require_realtime(DHUB_KIND_STAGE, "process()");
        return call_process(&input, output_capacity);
    }
    /// One consume() of a sink.
    dhub_status consume(const Frame& input) {
        require_realtime(DHUB_KIND_SINK, "consume()");
        return call_process(&input, 0).status;
    }
    /// One process_burst() of a source offering count output slots of output_capacity bytes each (the
    /// kernel does this when the node's "burst" is above 1).
    BurstResult produce_burst(std::size_t count, std::uint64_t output_capacity) {
        require_burst(DHUB_KIND_SOURCE, "produce_burst()", count);
        std::vector<std::unique_ptr<SlotBuffer>> buffers;  // SlotBuffer cannot move
        std::vector<dhub_slot> slots;
        for (std::size_t i = 0; i < count; ++i) {
            buffers.push_back(std::make_unique<SlotBuffer>(output_capacity));
            slots.push_back({sizeof(dhub_slot), 0, buffers.back()->data(), output_capacity, output_capacity,
                             next_output_sequence_ + i, 0});
        }
        dhub_burst_args args{sizeof(dhub_burst_args), static_cast<std::uint32_t>(count), nullptr, slots.data(), 0, 0};
        BurstResult result;
        result.status = component_->process_burst(instance_, &args);
        for (std::size_t i = 0; i < count; ++i) {
            if (!buffers[i]->guard_intact()) {
                throw HarnessError("'" + id() + "' wrote past the end of output slot " + std::to_string(i) + " of " +
                                   std::to_string(output_capacity) + " bytes");
            }
        }
        const std::size_t filled = std::min<std::size_t>(args.filled, count);
        for (std::size_t i = 0; i < filled; ++i) {
            if (slots[i].bytes > output_capacity) {
                throw HarnessError("'" + id() + "' published " + std::to_string(slots[i].bytes) + " bytes from a " +
                                   std::to_string(output_capacity) + "-byte slot");
            }
            // As the kernel: a timestamp left 0 is the commit's time.
            result.outputs.push_back(
                Frame::from_bytes({buffers[i]->data(), static_cast<std::size_t>(slots[i].bytes)}, next_output_sequence_,
                                  slots[i].timestamp_ns != 0 ? slots[i].timestamp_ns : clock_->now_ns()));
            ++next_output_sequence_;
        }
        return result;
    }
    /// One process_burst() of a stage (SDK 1.2): the inputs, oldest first, and as many output slots of
    /// output_capacity bytes. The result has the published outputs and how many inputs were consumed.
    BurstResult process_burst(const std::vector<Frame>& inputs, std::uint64_t output_capacity) {
        require_burst(DHUB_KIND_STAGE, "process_burst()", inputs.size());
        const std::size_t count = inputs.size();
        std::vector<std::unique_ptr<SlotBuffer>> in_buffers;
        std::vector<dhub_slot> in_slots;
        std::vector<std::unique_ptr<SlotBuffer>> out_buffers;
        std::vector<dhub_slot> out_slots;
        for (std::size_t i = 0; i < count; ++i) {
            in_buffers.push_back(std::make_unique<SlotBuffer>(input_capacity(inputs[i])));
            in_slots.push_back(input_slot(inputs[i], *in_buffers.back()));
            out_buffers.push_back(std::make_unique<SlotBuffer>(output_capacity));
            out_slots.push_back({sizeof(dhub_slot), 0, out_buffers.back()->data(), output_capacity, output_capacity,
                                 next_output_sequence_ + i, 0});
        }
        dhub_burst_args args{
            sizeof(dhub_burst_args),          static_cast<std::uint32_t>(count), in_slots.data(), out_slots.data(), 0,
            static_cast<std::uint32_t>(count)};
        BurstResult result;
        result.status = component_->process_burst(instance_, &args);
        for (std::size_t i = 0; i < count; ++i) {
            check_input_untouched(inputs[i], *in_buffers[i]);
            if (!out_buffers[i]->guard_intact()) {
                throw HarnessError("'" + id() + "' wrote past the end of output slot " + std::to_string(i) + " of " +
                                   std::to_string(output_capacity) + " bytes");
            }
        }
        result.consumed = std::min<std::size_t>(args.consumed, count);
        const std::size_t filled = std::min<std::size_t>(args.filled, count);
        for (std::size_t i = 0; i < filled; ++i) {
            if (out_slots[i].bytes > output_capacity) {
                throw HarnessError("'" + id() + "' published " + std::to_string(out_slots[i].bytes) + " bytes from a " +
                                   std::to_string(output_capacity) + "-byte slot");
            }
            result.outputs.push_back(Frame::from_bytes(
                {out_buffers[i]->data(), static_cast<std::size_t>(out_slots[i].bytes)}, next_output_sequence_,
                out_slots[i].timestamp_ns != 0 ? out_slots[i].timestamp_ns : clock_->now_ns()));
            ++next_output_sequence_;
        }
        return result;
    }
    /// One process_burst() of a sink with the given input slots, oldest first.
    dhub_status consume_burst(const std::vector<Frame>& inputs) {
        require_burst(DHUB_KIND_SINK, "consume_burst()", inputs.size());
        std::vector<std::unique_ptr<SlotBuffer>> buffers;
        std::vector<dhub_slot> slots;
        for (const Frame& input : inputs) {
            buffers.push_back(std::make_unique<SlotBuffer>(input_capacity(input)));
            slots.push_back(input_slot(input, *buffers.back()));
        }
        const dhub_burst_args args{
            sizeof(dhub_burst_args), static_cast<std::uint32_t>(inputs.size()), slots.data(), nullptr, 0, 0};
        const dhub_status status = component_->process_burst(instance_, const_cast<dhub_burst_args*>(&args));
        for (std::size_t i = 0; i < inputs.size(); ++i)
            check_input_untouched(inputs[i], *buffers[i]);
        return status;
    }
    /// One validate() of a validator; the verdict text is cut to verdict_capacity - 1 characters.
    ValidationResult validate(const Frame& input, std::size_t verdict_capacity = DEFAULT_VERDICT_CAPACITY) {
        if (component_->kind != DHUB_KIND_VALIDATOR || component_->validate == nullptr) {
            throw HarnessError("validate() is for validators; '" + id() + "' is a " + to_string(component_->kind));
        }
        require_started("validate()");
        SlotBuffer buffer(input_capacity(input));
        dhub_slot slot = input_slot(input, buffer);
        std::vector<char> message(verdict_capacity + 1, '\0');
        std::vector<char> kind(KIND_CAPACITY, '\0');
        dhub_validation verdict{sizeof(dhub_validation), 0, message.data(), verdict_capacity, kind.data(), kind.size()};
        ValidationResult result;
        result.status = component_->validate(instance_, &slot, &verdict);
        result.valid = verdict.valid != 0;
        result.reason = message.data();
        kind.back() = '\0';
        result.kind = kind.data();
        check_input_untouched(input, buffer);
        return result;
    }
    /// Queue mode: run() until the component returns (push input, close ports or request_stop() first,
    /// or call it on a thread).
    dhub_status run() {
        if (component_->mode != DHUB_MODE_QUEUE || component_->run == nullptr) {
            throw HarnessError("run() is for queue-mode components; '" + id() + "' is realtime");
        }
        require_started("run()");
        return component_->run(instance_);
    }
    /// Delivers a message from a peer on a channel (the kernel does this between two handler calls).
    void deliver_message(std::string_view channel, std::string_view text) {
        if (component_->on_message == nullptr) throw HarnessError("'" + id() + "' has no on_message handler");
        require_created("deliver_message()");
        component_->on_message(instance_, std::string(channel).c_str(), std::string(text).c_str());
    }

    /// Capacity of the input slots handed to process/consume/validate (default 0: each frame's size).
    void set_input_capacity(std::uint64_t capacity) noexcept { input_capacity_ = capacity; }
    /// The sequence the next published output slot gets (counts DHUB_OK results, as the kernel does).
    std::uint64_t next_output_sequence() const noexcept { return next_output_sequence_; }

    // ---- environment ------------------------------------------------------------------------------------

    FakeHost& host() noexcept { return host_; }
    const FakeHost& host() const noexcept { return host_; }
    ManualClock& clock() noexcept { return *clock_; }
    const dhub_component_descriptor& descriptor() const noexcept { return *component_; }
    /// The parameters the component sees: given ones plus declared defaults.
    const ParamMap& params() const noexcept { return host_.params(); }
    void request_stop() { host_.request_stop(); }
    bool has_log(dhub_log_level level, std::string_view text) const { return host_.has_log(level, text); }
    std::string log_text() const { return host_.log_text(); }

private:
    Harness(const dhub_component_descriptor* component, ParamMap params, ManualClock* shared_clock)
        : component_(checked(component)),
          own_clock_(shared_clock == nullptr ? std::make_unique<ManualClock>() : nullptr),
          clock_(shared_clock != nullptr ? shared_clock : own_clock_.get()),
          clock_scope_(*clock_),
          host_(*clock_, resolve_component_params(*component_, params)) {
        wire_declared_ports();
    }

    /// A component with declared ports (SDK 1.2) asks port_range() for them in create: by default each port
    /// gets one channel, a "many" port two and an optional one none (FakeHost::set_port_range overrides).
    void wire_declared_ports() {
        std::uint32_t next[2] = {0, 0};
        for (std::uint32_t index = 0; index < component_->port_count && component_->ports != nullptr; ++index) {
            const dhub_port_descriptor& port = component_->ports[index];
            if (port.name == nullptr || (port.direction != DHUB_PORT_INPUT && port.direction != DHUB_PORT_OUTPUT)) {
                continue;
            }
            const Direction direction = port.direction == DHUB_PORT_INPUT ? Direction::Input : Direction::Output;
            const std::uint32_t count = (port.flags & DHUB_PORT_OPTIONAL) != 0 ? 0
                                        : (port.flags & DHUB_PORT_MANY) != 0   ? 2
                                                                               : 1;
            std::uint32_t& first = next[static_cast<std::uint32_t>(direction)];
            host_.set_port_range(direction, port.name, first, count);
            first += count;
        }
    }

    /// A copy read the way the kernel reads it: a descriptor of an older minor (smaller struct_size) has
    /// its later fields zero, e.g. no process_burst for a plugin built against SDK 1.0.
    static std::unique_ptr<const dhub_component_descriptor> checked(const dhub_component_descriptor* component) {
        if (component == nullptr) throw HarnessError("Harness: no component descriptor (nullptr)");
        constexpr std::size_t SDK_1_0_BYTES = offsetof(dhub_component_descriptor, process_burst);
        if (component->struct_size < SDK_1_0_BYTES) {
            throw HarnessError("Harness: component descriptor of " + std::to_string(component->struct_size) +
                               " bytes is smaller than SDK 1.0's; rebuild the plugin");
        }
        auto copy = std::make_unique<dhub_component_descriptor>();
        std::memcpy(copy.get(), component, std::min<std::size_t>(component->struct_size, sizeof *copy));
        copy->struct_size = sizeof *copy;
        if (copy->id == nullptr) throw HarnessError("Harness: component descriptor without id");
        if (copy->create == nullptr || copy->destroy == nullptr) {
            throw HarnessError(std::string("Harness: component '") + copy->id + "' lacks create or destroy");
        }
        return copy;
    }
    /// The params a node of the component gets, checked as the kernel checks a node's (with --validate's
    /// check of the parameters a component declares per node, SDK 1.3).
    static ParamMap resolve_component_params(const dhub_component_descriptor& component, const ParamMap& params) {
        const std::vector<ParamDecl> decls = parse_params_schema(schema_of(component), component.id);
        const bool has_hook = component.struct_size > offsetof(dhub_component_descriptor, node_params_schema) &&
                              component.node_params_schema != nullptr;
        return has_hook ? resolve_node_params(decls, params, component.id, component.node_params_schema)
                        : resolve_params(decls, params, component.id);
    }
    static std::string_view schema_of(const dhub_component_descriptor& component) noexcept {
        return component.params_schema_json != nullptr ? component.params_schema_json : "[]";
    }
    std::string id() const { return component_->id; }

    void require_created(const char* call) const {
        if (instance_ == nullptr) throw HarnessError(std::string(call) + ": create() or start() '" + id() + "' first");
    }
    void require_started(const char* call) const {
        if (!started_)
            throw HarnessError(std::string(call) + ": start() '" + id() + "' first (the kernel always does)");
    }
    void require_realtime(dhub_kind kind, const char* call) const {
        if (component_->kind != kind || component_->process == nullptr) {
            throw HarnessError(std::string(call) + " is for a realtime " + to_string(kind) + "; '" + id() + "' is a " +
                               (component_->mode == DHUB_MODE_QUEUE ? "queue-mode " : "") +
                               to_string(component_->kind));
        }
        require_started(call);
    }

    void require_burst(dhub_kind kind, const char* call, std::size_t count) const {
        if (component_->kind != kind || component_->process_burst == nullptr) {
            throw HarnessError(std::string(call) + " is for a " + to_string(kind) + " with a burst handler; '" + id() +
                               "' has none");
        }
        if (count == 0) throw HarnessError(std::string(call) + ": a burst has at least one slot");
        require_started(call);
    }

    std::uint64_t input_capacity(const Frame& input) const noexcept {
        return std::max<std::uint64_t>(input_capacity_, input.bytes.size());
    }
    static dhub_slot input_slot(const Frame& input, SlotBuffer& buffer) {
        if (!input.bytes.empty()) std::memcpy(buffer.data(), input.bytes.data(), input.bytes.size());
        return {sizeof(dhub_slot), 0, buffer.data(), input.bytes.size(), buffer.capacity(), input.sequence,
                input.timestamp_ns};
    }
    void check_input_untouched(const Frame& input, const SlotBuffer& buffer) const {
        if (!input.bytes.empty() && std::memcmp(buffer.data(), input.bytes.data(), input.bytes.size()) != 0) {
            throw HarnessError("'" + id() + "' wrote into its read-only input slot");
        }
    }

    ProcessResult call_process(const Frame* input, std::uint64_t output_capacity) {
        std::unique_ptr<SlotBuffer> input_buffer;
        dhub_slot in{};
        if (input != nullptr) {
            input_buffer = std::make_unique<SlotBuffer>(input_capacity(*input));
            in = input_slot(*input, *input_buffer);
        }
        const bool has_output = component_->kind == DHUB_KIND_SOURCE || component_->kind == DHUB_KIND_STAGE;
        SlotBuffer output_buffer(has_output ? output_capacity : 0);
        // As the kernel: bytes default to the whole slot, the timestamp to now.
        dhub_slot out{
            sizeof(dhub_slot), 0, output_buffer.data(), output_capacity, output_capacity, next_output_sequence_,
            clock_->now_ns()};
        const dhub_process_args args{sizeof(dhub_process_args), 0, input != nullptr ? &in : nullptr,
                                     has_output ? &out : nullptr};

        ProcessResult result;
        result.status = component_->process(instance_, &args);

        if (input != nullptr) check_input_untouched(*input, *input_buffer);
        if (has_output && !output_buffer.guard_intact()) {
            throw HarnessError("'" + id() + "' wrote past the end of its " + std::to_string(output_capacity) +
                               "-byte output slot");
        }
        if (has_output && result.status == DHUB_OK) {
            if (out.bytes > output_capacity) {
                throw HarnessError("'" + id() + "' published " + std::to_string(out.bytes) + " bytes from a " +
                                   std::to_string(output_capacity) + "-byte slot");
            }
            result.output = Frame::from_bytes({output_buffer.data(), static_cast<std::size_t>(out.bytes)},
                                              next_output_sequence_, out.timestamp_ns);
            ++next_output_sequence_;
        }
        return result;
    }

    std::unique_ptr<const dhub_component_descriptor> component_;
    std::unique_ptr<ManualClock> own_clock_;
    ManualClock* clock_;
    detail::ActiveClockScope clock_scope_;
    FakeHost host_;
    void* instance_ = nullptr;
    bool started_ = false;
    std::uint64_t input_capacity_ = 0;
    std::uint64_t next_output_sequence_ = 0;
};

}  // namespace dhub::sdk::testing
