// SPDX-License-Identifier: Apache-2.0
// One node's Python object and its calls, whatever the component's kind: made in create (the class imported,
// its arguments checked, the instance built, each port's numpy layout computed once), called once per slot
// with numpy views of the slots, and turned back into a dhub_status. A Python exception is a failed call: its
// traceback is logged on the node and the node's on_error policy applies.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include <pybind11/pybind11.h>

#include "dhub/sdk/plugin.hpp"

namespace dhub::plugins::python {

enum class Role { Stage, Sink, Source };

/// Status of a call whose Python code raised (a plugin-private code: "plugin-specific error" in the kernel's log).
inline constexpr dhub_status PYTHON_EXCEPTION = DHUB_ERR_PLUGIN_FIRST;

/// One slot as the handler got it.
struct InputSlotRef {
    const void* data;
    std::uint64_t bytes;
    std::uint64_t sequence;
};
struct OutputSlotRef {
    void* data;
    std::uint64_t capacity;
    std::uint64_t sequence;
};

/// What a call asks for: its status and, for DHUB_OK, how many bytes of the output slot to publish.
struct CallResult {
    dhub_status status;
    std::uint64_t bytes;
};

class PythonNode {
public:
    /// Reads the node's params, starts the interpreter if this is the process's first Python node, and makes
    /// the instance. Throws sdk::HostError saying what is wrong (module, class, method, arguments) and what to do.
    PythonNode(const sdk::NodeContext& context, Role role);
    ~PythonNode();
    PythonNode(const PythonNode&) = delete;
    PythonNode& operator=(const PythonNode&) = delete;

    /// The instance's start() and stop(), if it has them; on the node's thread.
    dhub_status start(const sdk::NodeContext& context);
    void stop(const sdk::NodeContext& context);

    /// One call of process / consume / produce: input is null for a source, output for a sink.
    CallResult call(const sdk::NodeContext& context, const InputSlotRef* input, const OutputSlotRef* output);

private:
    struct Objects;  // the Python objects, only touched with the GIL held

    Role role_;
    std::unique_ptr<Objects> objects_;
    /// The thread whose Python thread state is kept from start() to stop() (none: not kept).
    std::thread::id kept_thread_state_;
    /// A call kept a view of a slot past its end: set, with the slot named. The view points at memory the kernel
    /// hands on, so the node never runs Python code again (not even stop()): every later call fails with this, and
    /// the node's on_error decides what becomes of it. Whatever the policy, no Python code reads a reused slot.
    std::string kept_view_;
};

/// The parameters the class a node's params name declares, as a params_schema_json array: the components'
/// node_params_schema (SDK 1.3). Imports the module, so only `dhub-kernel --validate` and `--describe` call it,
/// never a running kernel. Throws std::runtime_error saying what is wrong (module, class, method, declaration).
std::string declared_params(Role role, std::string_view node_params_json);

/// Holds the GIL across several calls of one node (a burst): the calls inside take it again at no cost.
using GilHold = pybind11::gil_scoped_acquire;

}  // namespace dhub::plugins::python
