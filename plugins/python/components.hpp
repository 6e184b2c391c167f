// SPDX-License-Identifier: Apache-2.0
// dhub.stage.python, dhub.sink.python, dhub.source.python: the three shapes a Python class can take in a graph,
// each a thin SDK component over PythonNode (docs/python-stages.md). Slots are bytes of any schema: the class
// sees them through numpy, shaped by the channel's typed schema when it has one.
#pragma once

#include <cstdint>

#include "dhub/sdk/plugin.hpp"
#include "python_node.hpp"

namespace dhub::plugins::python {

/// The parameters of the python plugin itself. Every other key of a node's params is the class's, declared by
/// its `params` list: create() checks them, and `dhub-kernel --validate` asks node_params_schema (SDK 1.3),
/// which imports the module, so that they are checked like any component's.
inline constexpr const char* PARAMS_SCHEMA = R"json([
{"name":"module","type":"string","doc":"the Python module to import (a dotted name), e.g. \"my_analysis\""},
{"name":"class","type":"string","doc":"the class in that module; one instance per node"},
{"name":"path","type":"path","default":".","doc":"a directory put first on sys.path; relative to the graph file's directory, which is the default"}
])json";

class PythonStage : public sdk::Stage<sdk::Bytes, sdk::Bytes> {
public:
    static constexpr const char* id = "dhub.stage.python";
    static constexpr std::uint32_t version = 1;
    static constexpr const char* description =
        "Runs process(self, inputs, outputs) of a Python class on every slot, with numpy views of both";
    static constexpr const char* params_schema = PARAMS_SCHEMA;

    static std::string node_params_schema(std::string_view params) { return declared_params(Role::Stage, params); }

    explicit PythonStage(sdk::NodeContext& context) : node_(context, Role::Stage) {}
    dhub_status start(sdk::NodeContext& context) { return node_.start(context); }
    void stop(sdk::NodeContext& context) { node_.stop(context); }

    /// The output keeps the input's timestamp, as every built-in stage does.
    dhub_status process(sdk::NodeContext& context,
                        const sdk::InputSlot<sdk::Bytes>& in,
                        sdk::OutputSlot<sdk::Bytes>& out) {
        const InputSlotRef input{in.bytes().data(), in.bytes().size(), in.sequence()};
        const OutputSlotRef output{out.bytes().data(), out.capacity(), out.sequence()};
        const CallResult result = node_.call(context, &input, &output);
        out.set_bytes(result.bytes);
        out.set_timestamp_ns(in.timestamp_ns());
        return result.status;
    }
    /// A burst (node "burst" > 1) is process() on each slot with the GIL taken once: one hand-over per burst.
    dhub_status process_burst(sdk::NodeContext& context,
                              sdk::InputBurst<sdk::Bytes>& in,
                              sdk::OutputBurst<sdk::Bytes>& out) {
        const GilHold gil;
        return sdk::each_slot(in, out, [&](const sdk::InputSlot<sdk::Bytes>& slot, sdk::OutputSlot<sdk::Bytes>& into) {
            return process(context, slot, into);
        });
    }

private:
    PythonNode node_;
};

class PythonSink : public sdk::Sink<sdk::Bytes> {
public:
    static constexpr const char* id = "dhub.sink.python";
    static constexpr std::uint32_t version = 1;
    static constexpr const char* description =
        "Runs consume(self, inputs) of a Python class on every slot, with a numpy view of it";
    static constexpr const char* params_schema = PARAMS_SCHEMA;

    static std::string node_params_schema(std::string_view params) { return declared_params(Role::Sink, params); }

    explicit PythonSink(sdk::NodeContext& context) : node_(context, Role::Sink) {}
    dhub_status start(sdk::NodeContext& context) { return node_.start(context); }
    void stop(sdk::NodeContext& context) { node_.stop(context); }

    dhub_status consume(sdk::NodeContext& context, const sdk::InputSlot<sdk::Bytes>& in) {
        const InputSlotRef input{in.bytes().data(), in.bytes().size(), in.sequence()};
        return node_.call(context, &input, nullptr).status;
    }

private:
    PythonNode node_;
};

class PythonSource : public sdk::Source<sdk::Bytes> {
public:
    static constexpr const char* id = "dhub.source.python";
    static constexpr std::uint32_t version = 1;
    static constexpr const char* description =
        "Runs produce(self, outputs) of a Python class for every slot, with a numpy view of it to fill";
    static constexpr const char* params_schema = PARAMS_SCHEMA;

    static std::string node_params_schema(std::string_view params) { return declared_params(Role::Source, params); }

    explicit PythonSource(sdk::NodeContext& context) : node_(context, Role::Source) {}
    dhub_status start(sdk::NodeContext& context) { return node_.start(context); }
    void stop(sdk::NodeContext& context) { node_.stop(context); }

    /// Timestamp 0: stamped at commit.
    dhub_status produce(sdk::NodeContext& context, sdk::OutputSlot<sdk::Bytes>& out) {
        const OutputSlotRef output{out.bytes().data(), out.capacity(), out.sequence()};
        const CallResult result = node_.call(context, nullptr, &output);
        out.set_bytes(result.bytes);
        return result.status;
    }

private:
    PythonNode node_;
};

}  // namespace dhub::plugins::python
