// SPDX-License-Identifier: Apache-2.0
#include "python_node.hpp"

#include <pybind11/pybind11.h>

#include <stdexcept>
#include <string>
#include <utility>

#include "interpreter.hpp"
#include "python_error.hpp"
#include "slot_views.hpp"

namespace dhub::plugins::python {

namespace py = pybind11;

namespace {

const char* role_name(Role role) {
    return role == Role::Stage ? "stage" : role == Role::Sink ? "sink" : "source";
}

const char* method_name(Role role) {
    return role == Role::Stage ? "process" : role == Role::Sink ? "consume" : "produce";
}

/// The numpy layout of a port's slots, from the typed schema the kernel resolved for its channel.
py::object layout_of(const py::module_& schema, const sdk::NodeContext& context, sdk::Direction direction) {
    const std::string_view document = context.schema_document(direction, 0);
    try {
        return schema.attr("layout_of")(document.empty() ? py::object(py::none()) : py::str(document));
    } catch (const py::error_already_set& error) {
        throw sdk::HostError(DHUB_ERR_SCHEMA_MISMATCH,
                             std::string("the ") + (direction == sdk::Direction::Input ? "input" : "output") +
                                 " channel's schema " + std::string(context.schema(direction, 0)) +
                                 " cannot be seen from numpy: " + py::str(error.value()).cast<std::string>());
    }
}

/// The optional start()/stop() of the instance, or None.
py::object optional_method(const py::object& instance, const char* name) {
    py::object method = py::getattr(instance, name, py::none());
    return PyCallable_Check(method.ptr()) != 0 ? method : py::object(py::none());
}

}  // namespace

struct PythonNode::Objects {
    py::object instance;
    py::object handler;  ///< the bound process / consume / produce
    py::object start;    ///< bound, or None
    py::object stop;
    py::object view_of;  ///< dhub._schema.view_of
    py::object input_layout;
    py::object output_layout;
    py::object skip;  ///< dhub.stage.SKIP
    py::object end_of_stream;
};

PythonNode::PythonNode(const sdk::NodeContext& context, Role role) : role_(role) {
    if (const std::string& failure = ensure_interpreter(); !failure.empty()) {
        throw sdk::HostError(DHUB_ERR_UNAVAILABLE, failure);
    }
    const sdk::Params params = context.params();
    const std::string module(params.string("module"));
    const std::string class_name(params.string("class"));
    const std::string params_json(params.json());

    py::gil_scoped_acquire gil;
    // Every Python object is dropped here, GIL held, whichever way this constructor leaves.
    auto objects = std::make_unique<Objects>();
    try {
        const py::module_ plugin = py::module_::import("dhub._plugin");
        const py::module_ schema = py::module_::import("dhub._schema");
        const py::module_ stage = py::module_::import("dhub.stage");
        objects->instance = plugin.attr("load_component")(role_name(role), params_json);
        objects->handler = objects->instance.attr(method_name(role));
        objects->start = optional_method(objects->instance, "start");
        objects->stop = optional_method(objects->instance, "stop");
        objects->view_of = schema.attr("view_of");
        if (role != Role::Source) objects->input_layout = layout_of(schema, context, sdk::Direction::Input);
        if (role != Role::Sink) objects->output_layout = layout_of(schema, context, sdk::Direction::Output);
        objects->skip = stage.attr("SKIP");
        objects->end_of_stream = stage.attr("END_OF_STREAM");
    } catch (const py::error_already_set& error) {
        // dhub._plugin's SetupError is a message for the graph's author; anything else is shown as Python would.
        std::string message =
            is_exception(error, "dhub._plugin", "SetupError")
                ? py::str(error.value()).cast<std::string>()
                : "class '" + class_name + "' of module '" + module + "' cannot be set up:\n" + format_exception(error);
        objects.reset();
        throw sdk::HostError(DHUB_ERR_INVALID_ARGUMENT, message);
    } catch (...) {
        objects.reset();
        throw;
    }
    objects_ = std::move(objects);
}

std::string declared_params(Role role, std::string_view node_params_json) {
    if (const std::string& failure = ensure_interpreter(); !failure.empty()) throw std::runtime_error(failure);
    py::gil_scoped_acquire gil;
    try {
        return py::module_::import("dhub._plugin")
            .attr("declared_params")(role_name(role), py::str(node_params_json.data(), node_params_json.size()))
            .cast<std::string>();
    } catch (const py::error_already_set& error) {
        if (is_exception(error, "dhub._plugin", "SetupError"))
            throw std::runtime_error(py::str(error.value()).cast<std::string>());
        throw std::runtime_error("the class's params cannot be read:\n" + format_exception(error));
    }
}

PythonNode::~PythonNode() {
    if (!objects_) return;
    py::gil_scoped_acquire gil;
    objects_.reset();
}

dhub_status PythonNode::start(const sdk::NodeContext& context) {
    py::gil_scoped_acquire gil;
    // The node's thread keeps its Python thread state until stop(): without this, every call would create and
    // delete one (pybind11 drops a thread state when its last gil_scoped_acquire ends).
    if (kept_thread_state_ == std::thread::id()) {
        gil.inc_ref();
        kept_thread_state_ = std::this_thread::get_id();
    }
    if (objects_->start.is_none()) return DHUB_OK;
    try {
        objects_->start();
        return DHUB_OK;
    } catch (const py::error_already_set& error) {
        context.log().error("start() raised:\n" + format_exception(error));
        return PYTHON_EXCEPTION;
    }
}

void PythonNode::stop(const sdk::NodeContext& context) {
    py::gil_scoped_acquire gil;
    if (!objects_->stop.is_none() && kept_view_.empty()) {
        try {
            objects_->stop();
        } catch (const py::error_already_set& error) {
            context.log().error("stop() raised:\n" + format_exception(error));
        }
    }
    if (kept_thread_state_ == std::this_thread::get_id()) {
        gil.dec_ref();  // the count start() added: this scope's end deletes the thread state
        kept_thread_state_ = std::thread::id();
    }
}

namespace {

/// What the handler's return value asks for (stage.py's docstring): publish all, publish n bytes, skip, end.
CallResult interpret(const py::handle returned,
                     Role role,
                     std::uint64_t capacity,
                     const py::object& skip,
                     const py::object& end_of_stream,
                     std::string& problem) {
    if (returned.is_none() || returned.ptr() == Py_True) return {DHUB_OK, capacity};
    if (returned.ptr() == Py_False || returned.is(skip)) return {DHUB_SKIP, 0};
    if (returned.is(end_of_stream)) return {DHUB_END_OF_STREAM, 0};
    if (role != Role::Sink && PyIndex_Check(returned.ptr()) != 0) {
        const Py_ssize_t bytes = PyNumber_AsSsize_t(returned.ptr(), nullptr);           // clamps instead of raising
        if (bytes == -1 && PyErr_Occurred() != nullptr) throw py::error_already_set();  // a raising __index__
        if (bytes >= 0 && static_cast<std::uint64_t>(bytes) <= capacity) {
            return {DHUB_OK, static_cast<std::uint64_t>(bytes)};
        }
        problem = std::string(method_name(role)) + " returned " + std::to_string(bytes) +
                  " (bytes to publish), but the output slot holds " + std::to_string(capacity);
        return {DHUB_ERR_INVALID_ARGUMENT, 0};
    }
    problem = std::string(method_name(role)) + " returned a " +
              py::str(py::type::of(returned).attr("__name__")).cast<std::string>() +
              "; return None or True (publish the slot)" +
              (role == Role::Sink ? "" : ", an int (publish that many bytes)") +
              ", False or dhub.stage.SKIP (publish nothing) or dhub.stage.END_OF_STREAM (end the node)";
    return {DHUB_ERR_INVALID_ARGUMENT, 0};
}

}  // namespace

CallResult PythonNode::call(const sdk::NodeContext& context, const InputSlotRef* input, const OutputSlotRef* output) {
    if (!kept_view_.empty()) {
        context.log().error(std::string(method_name(role_)) + "() is not called any more: it kept a view of " +
                            kept_view_ + " past its call earlier");
        return {DHUB_ERR_INVALID_ARGUMENT, 0};
    }
    py::gil_scoped_acquire gil;
    const Objects& objects = *objects_;
    SlotViews views(objects.view_of);
    CallResult result{DHUB_OK, output != nullptr ? output->capacity : 0};
    std::string problem;
    try {
        // The lists and arrays live in this block only: once it ends, only what the Python code kept refers to
        // the slots, which close() below finds out.
        py::list inputs;
        py::list outputs;
        if (input != nullptr) {
            inputs.append(views.input(input->data, input->bytes, input->sequence, objects.input_layout));
        }
        if (output != nullptr) {
            outputs.append(views.output(output->data, output->capacity, output->sequence, objects.output_layout));
        }
        const py::object returned = role_ == Role::Stage  ? objects.handler(inputs, outputs)
                                    : role_ == Role::Sink ? objects.handler(inputs)
                                                          : objects.handler(outputs);
        result = interpret(returned, role_, result.bytes, objects.skip, objects.end_of_stream, problem);
    } catch (const py::error_already_set& error) {
        problem = std::string(method_name(role_)) + "() raised:\n" + format_exception(error);
        result = {PYTHON_EXCEPTION, 0};
    }
    if (!problem.empty()) context.log().error(problem);
    if (const std::optional<std::string> kept = views.close()) {
        // Reported even after an exception: the view outlives the call either way.
        context.log().error(std::string(method_name(role_)) + " kept a view of " + *kept +
                            " past the call; copy what you keep (arr.copy()). The node calls no Python code any more: "
                            "the view points at memory the kernel hands on");
        kept_view_ = *kept;
        if (result.status != PYTHON_EXCEPTION) result = {DHUB_ERR_INVALID_ARGUMENT, 0};
    }
    return result;
}

}  // namespace dhub::plugins::python
