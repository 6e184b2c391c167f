# SPDX-License-Identifier: Apache-2.0
"""The python plugin in real dhub-kernel runs (docs/python-stages.md): Python stages, sinks and sources between
built-in nodes, each result checked byte for byte; what a class gets wrong (no method, a module that does not
import, bad arguments, a view kept past the call) as a clear error; an exception under each on_error policy; and
where the nodes run (a process of their own by default, the kernel's with "isolation": "thread")."""
from __future__ import annotations

import json
import os
import pathlib
import shutil
import struct
import subprocess
import textwrap
from typing import Any, Dict, List, NamedTuple, Optional

import numpy as np
import pytest

KERNEL_TIMEOUT_S = 60
WAVEFORM_HEADER_BYTES = 64


# ---- helpers: a graph in tmp_path, a kernel run, a recording read back ----

class KernelRun(NamedTuple):
    exit_code: int
    stderr: str
    report: Optional[Dict[str, Any]]

    def node(self, node_id: str) -> Dict[str, Any]:
        assert self.report is not None, self.stderr
        return next(node for node in self.report["nodes"] if node["id"] == node_id)


def write_module(directory: pathlib.Path, name: str, source: str) -> None:
    (directory / f"{name}.py").write_text(textwrap.dedent(source))


def python_node(node_id: str, kind: str, module: str, cls: str, args: Any = None,
                **extra: Any) -> Dict[str, Any]:
    """A node of the python plugin; args are the class's parameters, beside module and class in its params."""
    node = {"id": node_id, "plugin": "python", "component": f"dhub.{kind}.python",
            "params": {"module": module, "class": cls, **(args or {})}}
    node.update(extra)
    return node


def sim_node(frames: int, outputs: List[str], **params: Any) -> Dict[str, Any]:
    """dhub.source.sim writing frames of one channel of 64 samples counting up: sample s of frame k is 64 k + s."""
    settings = {"waveform": "counter", "channels": 1, "samples_per_channel": 64, "rate_hz": 20000,
                "max_frames": frames}
    settings.update(params)
    return {"id": "sim", "plugin": "sim_source", "params": settings, "outputs": outputs}


def run_graph(tmp_path: pathlib.Path, build_dir: pathlib.Path, channels: List[Dict[str, Any]],
              nodes: List[Dict[str, Any]], *options: str, cwd: Optional[pathlib.Path] = None, **top: Any) -> KernelRun:
    """Writes the graph beside the test's modules (its directory is the python nodes' default path) and runs it."""
    graph = {"schema_version": 1, "name": f"pytest-{os.getpid()}", "channels": channels, "nodes": nodes}
    graph.update(top)
    graph_file = tmp_path / "graph.json"
    graph_file.write_text(json.dumps(graph, indent=1))
    report_file = tmp_path / "report.json"
    report_file.unlink(missing_ok=True)
    completed = subprocess.run(
        [str(build_dir / "kernel" / "dhub-kernel"), str(graph_file), "--plugin-path", str(build_dir / "plugins"),
         "--report", str(report_file), *options],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=KERNEL_TIMEOUT_S, cwd=cwd or tmp_path)
    report = json.loads(report_file.read_text()) if report_file.exists() else None
    return KernelRun(completed.returncode, completed.stdout, report)


class Recorded(NamedTuple):
    sequence: int
    timestamp_ns: int
    data: bytes


def read_recording(path: pathlib.Path) -> List[Recorded]:
    """The slots of a dhub.sink.recorder recording (sdk/formats/include/dhub/formats/recording.hpp); gaps fail."""
    data = path.read_bytes()
    index = pathlib.Path(f"{path}.idx").read_bytes()
    assert data[:8] == b"DHUBREC1" and index[:8] == b"DHUBIDX1"
    record_bytes = struct.unpack_from("<I", index, 12)[0]
    slots = []
    for offset in range(64, len(index), record_bytes):
        sequence, timestamp_ns, start, length, missing, kind = struct.unpack_from("<QQQQQI", index, offset)
        assert kind == 1, f"a gap of {missing} slots at sequence {sequence}"
        slots.append(Recorded(sequence, timestamp_ns, data[start:start + length]))
    return slots


def samples(frame: bytes) -> np.ndarray:
    return np.frombuffer(frame, dtype="<f8", offset=WAVEFORM_HEADER_BYTES)


CHANNELS = [{"name": "raw", "slot_bytes": 4096}, {"name": "out", "slot_bytes": 4096}]

DOUBLER = """
    import numpy as np

    class Double:
        params = [{"name": "gain", "type": "number", "default": 2.0, "min": 0, "doc": "factor"},
                  {"name": "label", "type": "string", "default": "x", "enum": ["x", "y"]},
                  {"name": "count", "type": "integer", "default": 1}]

        def __init__(self, gain, label, count):
            self.gain = gain

        def process(self, inputs, outputs):
            frame, out = inputs[0], outputs[0]
            out[:64] = frame[:64]                                   # the waveform header, as is
            out[64:len(frame)].view("<f8")[:] = frame[64:].view("<f8") * self.gain
            return len(frame)                                       # bytes to publish
"""


def doubler_graph(node_extra: Optional[Dict[str, Any]] = None, frames: int = 200) -> List[Dict[str, Any]]:
    return [sim_node(frames, ["raw"]),
            python_node("double", "stage", "doubler", "Double", {"gain": 3}, inputs=["raw"], outputs=["out"],
                        **(node_extra or {})),
            {"id": "rec", "plugin": "recorder", "params": {"path": "out.dhr"}, "inputs": ["out"]}]


def check_tripled(tmp_path: pathlib.Path, frames: int) -> None:
    recorded = read_recording(tmp_path / "out.dhr")
    assert [slot.sequence for slot in recorded] == list(range(frames))
    for index, slot in enumerate(recorded):
        assert len(slot.data) == WAVEFORM_HEADER_BYTES + 64 * 8
        header_sequence, header_timestamp = struct.unpack_from("<QQ", slot.data)
        assert header_sequence == index
        assert slot.timestamp_ns == header_timestamp, "a stage keeps its input's timestamp"
        np.testing.assert_array_equal(samples(slot.data), 3.0 * np.arange(64 * index, 64 * index + 64))


# ---- a stage in a real graph ----

def test_a_python_stage_transforms_every_slot_in_a_process_of_its_own(tmp_path, build_dir):
    write_module(tmp_path, "doubler", DOUBLER)
    run = run_graph(tmp_path, build_dir, CHANNELS, doubler_graph())
    assert run.exit_code == 0, run.stderr
    stage = run.node("double")
    assert stage["isolation"] == "process"
    assert (stage["slots_in"], stage["slots_out"], stage["errors"]) == (200, 200, 0)
    assert stage["end_reason"] == "input_closed"
    check_tripled(tmp_path, 200)


def test_a_python_stage_runs_in_the_kernels_process_when_its_node_says_thread(tmp_path, build_dir):
    # Two Python nodes in one process, each on its own thread: they share the interpreter and take turns.
    write_module(tmp_path, "doubler", DOUBLER)
    write_module(tmp_path, "counting", """
        class Count:
            def __init__(self, out_file: str):  # a parameter declared by its annotation
                self.path, self.seen = out_file, 0
            def consume(self, inputs):
                self.seen += 1
            def stop(self):
                with open(self.path, "w") as out:
                    out.write(str(self.seen))
    """)
    nodes = doubler_graph({"isolation": "thread"})
    nodes.append(python_node("count", "sink", "counting", "Count", {"out_file": str(tmp_path / "count.txt")},
                             inputs=["out"], isolation="thread"))
    run = run_graph(tmp_path, build_dir, CHANNELS, nodes)
    assert run.exit_code == 0, run.stderr
    assert run.node("double")["isolation"] == "thread"
    assert run.node("count")["isolation"] == "thread"
    assert "node 'double' runs Python code in the kernel's process" in run.stderr
    check_tripled(tmp_path, 200)
    assert (tmp_path / "count.txt").read_text() == "200"


def test_a_python_source_fills_typed_slots_and_a_python_sink_sees_them(tmp_path, build_dir):
    # A typed channel: both classes see a structured numpy value with the schema's fields.
    write_module(tmp_path, "readings", """
        import dhub.stage

        class Counter:
            params = [{"name": "count", "type": "integer", "min": 1}]
            def __init__(self, count):
                self.count, self.made = count, 0
            def produce(self, outputs):
                if self.made == self.count:
                    return dhub.stage.END_OF_STREAM
                reading = outputs[0]
                reading["index"] = self.made
                reading["values"] = [self.made * 0.5, -self.made, 7.0]
                self.made += 1

        class Keep:
            def __init__(self, out_file: str):
                self.path, self.lines = out_file, []
            def start(self):
                self.lines.append("start")
            def consume(self, inputs):
                reading = inputs[0]
                assert not reading.flags.writeable
                if int(reading["index"]) % 2:
                    return dhub.stage.SKIP
                self.lines.append(f"{int(reading['index'])} {reading['values'].tolist()}")
            def stop(self):
                self.lines.append("stop")
                with open(self.path, "w") as out:
                    out.write("\\n".join(self.lines))
    """)
    schema = {"name": "test.reading", "version": 1,
              "fields": [{"name": "index", "dtype": "<u8"}, {"name": "values", "dtype": "<f8", "shape": [3]}]}
    run = run_graph(
        tmp_path, build_dir, [{"name": "readings", "slot_bytes": 64, "schema": "test.reading@1"}],
        [python_node("make", "source", "readings", "Counter", {"count": 50}, outputs=["readings"]),
         python_node("keep", "sink", "readings", "Keep", {"out_file": str(tmp_path / "seen.txt")}, inputs=["readings"])],
        schemas=[schema])
    assert run.exit_code == 0, run.stderr
    assert run.node("make")["slots_out"] == 50
    assert run.node("make")["end_reason"] == "end_of_stream"
    assert (run.node("keep")["handled"], run.node("keep")["skipped"]) == (25, 25)
    expected = ["start"] + [f"{i} {[i * 0.5, float(-i), 7.0]}" for i in range(0, 50, 2)] + ["stop"]
    assert (tmp_path / "seen.txt").read_text().split("\n") == expected


# ---- exceptions under on_error ----

RAISING = """
    class Picky:
        def __init__(self, every: int):
            self.every, self.calls = every, 0
        def process(self, inputs, outputs):
            self.calls += 1
            if self.calls % self.every == 0:
                self.complain(self.calls)
            outputs[0][:len(inputs[0])] = inputs[0]
            return len(inputs[0])
        def complain(self, call):
            raise ValueError(f"call {call} is not welcome")
"""


def test_an_exception_with_on_error_stop_graph_stops_the_graph_with_the_traceback_in_the_log(tmp_path, build_dir):
    write_module(tmp_path, "picky", RAISING)
    run = run_graph(tmp_path, build_dir, CHANNELS, [
        sim_node(100, ["raw"]),
        python_node("picky", "stage", "picky", "Picky", {"every": 5}, inputs=["raw"], outputs=["out"],
                    on_error={"action": "stop_graph", "max_consecutive": 1}),
        {"id": "rec", "plugin": "recorder", "params": {"path": "out.dhr"}, "inputs": ["out"]}])
    assert run.exit_code == 4, run.stderr
    assert run.node("picky")["end_reason"] == "error_policy_graph"
    assert "[stage:dhub.stage.python:picky] process() raised:" in run.stderr
    assert "Traceback (most recent call last):" in run.stderr
    assert "in complain" in run.stderr
    assert "ValueError: call 5 is not welcome" in run.stderr
    assert len(read_recording(tmp_path / "out.dhr")) == 4


def test_an_exception_with_on_error_continue_is_counted_and_the_rest_goes_through(tmp_path, build_dir):
    write_module(tmp_path, "picky", RAISING)
    run = run_graph(tmp_path, build_dir, CHANNELS, [
        sim_node(90, ["raw"]),
        python_node("picky", "stage", "picky", "Picky", {"every": 3}, inputs=["raw"], outputs=["out"],
                    on_error={"action": "continue", "max_consecutive": 1}),
        {"id": "rec", "plugin": "recorder", "params": {"path": "out.dhr"}, "inputs": ["out"]}])
    assert run.exit_code == 0, run.stderr
    picky = run.node("picky")
    assert (picky["slots_in"], picky["slots_out"], picky["errors"]) == (90, 60, 30)
    assert picky["end_reason"] == "input_closed"
    assert run.stderr.count("ValueError: call") == 30
    recorded = read_recording(tmp_path / "out.dhr")
    # Frames 2, 5, 8, ... failed: the others arrive, renumbered without gaps.
    assert [struct.unpack_from("<Q", slot.data)[0] for slot in recorded] == [i for i in range(90) if i % 3 != 2]
    assert [slot.sequence for slot in recorded] == list(range(60))


def test_an_exception_with_on_error_stop_node_ends_that_node_and_the_graph_drains(tmp_path, build_dir):
    write_module(tmp_path, "picky", RAISING)
    run = run_graph(tmp_path, build_dir, CHANNELS, [
        sim_node(50, ["raw"]),
        python_node("picky", "stage", "picky", "Picky", {"every": 1}, inputs=["raw"], outputs=["out"],
                    on_error={"action": "stop_node", "max_consecutive": 3}),
        {"id": "rec", "plugin": "recorder", "params": {"path": "out.dhr"}, "inputs": ["out"]}])
    assert run.exit_code == 0, run.stderr
    assert (run.node("picky")["end_reason"], run.node("picky")["errors"]) == ("error_policy_node", 3)
    assert run.node("rec")["end_reason"] == "input_closed"


# ---- what a class gets wrong: clear errors ----

def create_failure(tmp_path, build_dir, module_source: Optional[str], cls: str = "Stage",
                   args: Any = None, module: str = "user_module", **params: Any) -> str:
    """The log of a run whose Python stage cannot be created: the graph stops with exit code 3, as for any
    component that refuses to start (test_a_node_that_cannot_be_created_...)."""
    if module_source is not None:
        write_module(tmp_path, module, module_source)
    node = python_node("py", "stage", module, cls, args, inputs=["raw"], outputs=["out"])
    node["params"].update(params)
    run = run_graph(tmp_path, build_dir, CHANNELS, [sim_node(10, ["raw"]), node,
                                                   {"id": "rec", "plugin": "stats", "inputs": ["out"]}])
    assert (run.exit_code, run.node("py")["end_reason"]) == (3, "start_failed"), run.stderr
    assert "[stage:dhub.stage.python:py]" in run.stderr
    return run.stderr


def test_a_node_that_cannot_be_created_stops_the_graph_without_restarts(tmp_path, build_dir):
    # docs/kernel.md, "Crash isolation": a node whose process never got it created would fail the same way again
    # (here a module that does not import), so it is not restarted, whatever the policy allows, and the graph
    # stops with exit code 3, as it does for a component refusing to start in a kernel thread.
    run = run_graph(tmp_path, build_dir, CHANNELS, [
        sim_node(10, ["raw"]),
        python_node("py", "stage", "not_there", "Stage", inputs=["raw"], outputs=["out"], restart="permanent"),
        {"id": "rec", "plugin": "stats", "inputs": ["out"]}])
    assert run.exit_code == 3, run.stderr
    assert run.node("py")["end_reason"] == "start_failed"
    assert run.node("py")["restarts"] == []
    assert run.stderr.count("module 'not_there' failed to import") == 1
    assert "node 'py' could not be created in its process" in run.stderr


def test_a_node_in_the_kernels_process_that_cannot_be_created_stops_the_start(tmp_path, build_dir):
    run = run_graph(tmp_path, build_dir, CHANNELS, [
        sim_node(10, ["raw"]),
        python_node("py", "stage", "not_there", "Stage", inputs=["raw"], outputs=["out"], isolation="thread"),
        {"id": "rec", "plugin": "stats", "inputs": ["out"]}])
    assert run.exit_code == 3, run.stderr
    assert "[stage:dhub.stage.python:py] module 'not_there' failed to import" in run.stderr


def test_a_class_without_its_method_is_an_error_naming_it(tmp_path, build_dir):
    log = create_failure(tmp_path, build_dir, """
        class Stage:
            def consume(self, inputs):
                pass
    """)
    assert ("class 'Stage' of module 'user_module' has no method process(): a stage calls "
            "process(self, inputs, outputs) once per slot; it has consume() of a sink (component dhub.sink.python)"
            in log)


def test_a_missing_class_is_an_error_listing_the_modules_classes(tmp_path, build_dir):
    log = create_failure(tmp_path, build_dir, "class Other:\n    pass\n")
    assert "has no class 'Stage'; its classes: Other" in log


def test_a_module_that_does_not_exist_is_an_error_saying_where_it_was_looked_for(tmp_path, build_dir):
    log = create_failure(tmp_path, build_dir, None)
    assert "module 'user_module' failed to import: ModuleNotFoundError: No module named 'user_module'" in log
    assert f"params.path is '{tmp_path}'" in log  # the default: the graph file's directory
    assert "sys.path starts with" in log


def test_a_module_that_fails_to_import_is_an_error_with_its_traceback(tmp_path, build_dir):
    log = create_failure(tmp_path, build_dir, """
        import json
        SETTINGS = json.loads("{not json")
    """)
    assert "module 'user_module' failed to import: json.decoder.JSONDecodeError" in log
    assert "Traceback (most recent call last):" in log
    assert 'SETTINGS = json.loads("{not json")' in log


def test_a_relative_path_param_is_relative_to_the_graph_file(tmp_path, build_dir):
    (tmp_path / "lib").mkdir()
    write_module(tmp_path / "lib", "doubler", DOUBLER)
    nodes = doubler_graph(frames=20)
    nodes[1]["params"]["path"] = "lib"
    run_dir = tmp_path / "elsewhere"
    run_dir.mkdir()
    run = run_graph(tmp_path, build_dir, CHANNELS, nodes, cwd=run_dir)
    assert run.exit_code == 0, run.stderr
    check_tripled(tmp_path, 20)


# (the class's arguments, the key at fault, the words of create's check, the words of --validate's)
BAD_ARGUMENTS = [
    ({"gain": 2, "colour": "red"}, "colour", "unknown parameter 'colour'; the class declares gain, label, count",
     "unknown parameter of component dhub.stage.python (stage) for these params; declared parameters: module, "
     "class, path, gain, label, count"),
    ({"gain": "high"}, "gain", "invalid value for parameter 'gain': expected a finite number, found \"high\"",
     "invalid value for parameter 'gain' of component dhub.stage.python (stage) for these params: expected a "
     "number"),
    ({"gain": -1}, "gain", "invalid value for parameter 'gain': -1 is below the minimum 0",
     "for these params: expected a number in [0.0, +inf], found -1"),
    ({"label": "z"}, "label", "invalid value for parameter 'label': 'z' is not one of x, y",
     "for these params: expected one of x, y, found \"z\""),
    ({"count": 1.5}, "count", "invalid value for parameter 'count': expected an integer, found 1.5",
     "for these params: expected an integer"),
]
BAD_ARGUMENT_IDS = ["unknown", "type", "range", "enum", "integer"]


@pytest.mark.parametrize("args, key, words, _", BAD_ARGUMENTS, ids=BAD_ARGUMENT_IDS)
def test_arguments_against_the_class_params_are_checked_naming_the_key(tmp_path, build_dir, args, key, words, _):
    log = create_failure(tmp_path, build_dir, DOUBLER, cls="Double", args=args, module="doubler")
    assert f"class 'Double' of module 'doubler': {words}" in log


# ---- --validate and --describe know the class's parameters (node_params_schema, SDK 1.3) ----

def kernel_command(build_dir: pathlib.Path, *arguments: str, cwd: pathlib.Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(build_dir / "kernel" / "dhub-kernel"), "--plugin-path", str(build_dir / "plugins"),
                           *arguments], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=KERNEL_TIMEOUT_S, cwd=cwd)


def validate(tmp_path: pathlib.Path, build_dir: pathlib.Path, nodes: List[Dict[str, Any]]) -> subprocess.CompletedProcess:
    graph_file = tmp_path / "graph.json"
    graph_file.write_text(json.dumps({"schema_version": 1, "name": "v", "channels": CHANNELS, "nodes": nodes}))
    return kernel_command(build_dir, "--validate", str(graph_file), cwd=tmp_path)


def test_validate_accepts_a_graph_whose_python_node_has_good_arguments(tmp_path, build_dir):
    write_module(tmp_path, "doubler", DOUBLER)
    checked = validate(tmp_path, build_dir, doubler_graph())
    assert checked.returncode == 0, checked.stderr
    assert "valid (3 nodes, 2 channels)" in checked.stdout


@pytest.mark.parametrize("args, key, _, words", BAD_ARGUMENTS, ids=BAD_ARGUMENT_IDS)
def test_validate_checks_the_class_params_like_any_component_s(tmp_path, build_dir, args, key, _, words):
    write_module(tmp_path, "doubler", DOUBLER)
    nodes = doubler_graph()
    nodes[1] = python_node("double", "stage", "doubler", "Double", args, inputs=["raw"], outputs=["out"])
    checked = validate(tmp_path, build_dir, nodes)
    assert checked.returncode == 1, checked.stderr
    # Every problem with its JSON path, as for a C++ component's parameter.
    assert f"/nodes/1/params/{key}: " in checked.stderr, checked.stderr
    assert words in checked.stderr


def test_validate_reports_a_missing_required_parameter_of_the_class(tmp_path, build_dir):
    write_module(tmp_path, "user_module", """
        class Stage:
            params = [{"name": "threshold", "type": "number", "doc": "above this"}]
            def __init__(self, threshold):
                pass
            def process(self, inputs, outputs):
                pass
    """)
    checked = validate(tmp_path, build_dir, [sim_node(10, ["raw"]), python_node(
        "py", "stage", "user_module", "Stage", inputs=["raw"], outputs=["out"]),
        {"id": "rec", "plugin": "stats", "inputs": ["out"]}])
    assert checked.returncode == 1, checked.stderr
    assert "/nodes/1/params: missing required parameter 'threshold' of component dhub.stage.python (stage) for " \
           "these params (number: above this)" in checked.stderr


@pytest.mark.parametrize("source, words", [
    (None, "module 'user_module' failed to import: ModuleNotFoundError"),
    ("class Other:\n    pass\n", "has no class 'Stage'; its classes: Other"),
    ("class Stage:\n    def consume(self, inputs):\n        pass\n", "has no method process()"),
    ("class Stage:\n    params = 3\n    def process(self, i, o):\n        pass\n", "params must be a list"),
], ids=["no-module", "no-class", "no-method", "bad-declaration"])
def test_validate_reports_a_class_it_cannot_use_at_the_node_s_params(tmp_path, build_dir, source, words):
    if source is not None:
        write_module(tmp_path, "user_module", source)
    checked = validate(tmp_path, build_dir, [sim_node(10, ["raw"]), python_node(
        "py", "stage", "user_module", "Stage", inputs=["raw"], outputs=["out"]),
        {"id": "rec", "plugin": "stats", "inputs": ["out"]}])
    assert checked.returncode == 1, checked.stderr
    assert "/nodes/1/params: component dhub.stage.python (stage): " in checked.stderr
    assert words in checked.stderr


def test_a_run_never_imports_the_class_in_the_kernel_process(tmp_path, build_dir):
    # Only --validate asks the plugin: a run checks the class's arguments in create(), in the node's own process.
    # A module that writes a file per import shows where it was imported.
    write_module(tmp_path, "marker", """
        import os
        open(f"imported-{os.getpid()}", "w").close()
        class Stage:
            def process(self, inputs, outputs):
                pass
    """)
    nodes = [sim_node(10, ["raw"]), python_node("py", "stage", "marker", "Stage", inputs=["raw"], outputs=["out"]),
             {"id": "rec", "plugin": "stats", "inputs": ["out"]}]
    run = run_graph(tmp_path, build_dir, CHANNELS, nodes)
    assert run.exit_code == 0, run.stderr
    imported = sorted(tmp_path.glob("imported-*"))
    assert len(imported) == 1  # once, by the node's process
    checked = validate(tmp_path, build_dir, nodes)
    assert checked.returncode == 0, checked.stderr
    assert len(sorted(tmp_path.glob("imported-*"))) == 2  # and once by --validate


def test_describe_with_params_lists_the_class_parameters(tmp_path, build_dir):
    write_module(tmp_path, "doubler", DOUBLER)
    described = kernel_command(build_dir, "--describe", "python", "--params",
                               json.dumps({"module": "doubler", "class": "Double"}), cwd=tmp_path)
    assert described.returncode == 0, described.stderr
    text = described.stdout
    assert "parameters declared per node: dhub-kernel --describe python --params" in text
    stage = text[text.index('dhub.stage.python with --params'):]
    stage = stage[:stage.index("dhub.sink.python with --params")]
    assert "gain (number)  default 2.0  range [0.0, +inf]" in stage
    assert "label (string)  default \"x\"  one of x y" in stage
    assert "count (integer)  default 1" in stage
    # A stage class is no sink nor source: those components say why.
    assert "not usable with these params: class 'Double' of module 'doubler' has no method consume()" in text


def test_describe_with_params_naming_no_usable_class_exits_1(tmp_path, build_dir):
    described = kernel_command(build_dir, "--describe", "python", "--params",
                               json.dumps({"module": "not_there", "class": "Stage"}), cwd=tmp_path)
    assert described.returncode == 1
    assert "module 'not_there' failed to import" in described.stdout
    assert "no component of plugin 'python' can be used with these params" in described.stderr
    not_json = kernel_command(build_dir, "--describe", "python", "--params", "[1]", cwd=tmp_path)
    assert not_json.returncode == 2
    assert "--params must be a JSON object" in not_json.stderr


def test_a_missing_required_argument_is_an_error_naming_it(tmp_path, build_dir):
    log = create_failure(tmp_path, build_dir, """
        class Stage:
            params = [{"name": "threshold", "type": "number"}]
            def __init__(self, threshold):
                pass
            def process(self, inputs, outputs):
                pass
    """)
    assert "missing required parameter 'threshold' (number); add \"threshold\": <value> to the node's params" in log


def test_a_class_without_a_params_list_takes_no_parameters(tmp_path, build_dir):
    log = create_failure(tmp_path, build_dir, "class Stage:\n    def process(self, i, o):\n        pass\n",
                         args={"gain": 2})
    assert ("unknown parameter 'gain'; the class declares no parameters (give it a params list, or __init__ keyword "
            "parameters)") in log


SIGNATURE_ONLY = """
    class Stage:
        def __init__(self, gain: float, label="x", count: int = 3, verbose=False, logger=None):
            self.gain = gain
        def process(self, inputs, outputs):
            pass
"""


def test_a_class_without_params_declares_its_constructor_s_keyword_parameters(tmp_path, build_dir):
    write_module(tmp_path, "user_module", SIGNATURE_ONLY)
    described = kernel_command(build_dir, "--describe", "python", "--params",
                               json.dumps({"module": "user_module", "class": "Stage"}), cwd=tmp_path)
    assert described.returncode == 0, described.stderr
    for line in ("gain (number)  required", 'label (string)  default "x"', "count (integer)  default 3",
                 "verbose (boolean)  default false"):
        assert line in described.stdout, described.stdout
    assert "logger" not in described.stdout  # a default of no graph type: left to the constructor
    log = create_failure(tmp_path, build_dir, SIGNATURE_ONLY, args={"gain": 2, "count": "many"})
    assert "invalid value for parameter 'count': expected an integer, found \"many\"" in log


def test_a_constructor_parameter_of_no_known_type_is_an_error_saying_how_to_declare_it(tmp_path, build_dir):
    source = "class Stage:\n    def __init__(self, gain):\n        pass\n    def process(self, i, o):\n        pass\n"
    log = create_failure(tmp_path, build_dir, source, args={"gain": 2})
    words = ("cannot tell the type of __init__'s parameter 'gain': annotate it (int, float, bool or str), give it a "
             "default of one of those types, or give the class a params list")
    assert words in log
    checked = validate(tmp_path, build_dir, [sim_node(10, ["raw"]), python_node(
        "py", "stage", "user_module", "Stage", {"gain": 2}, inputs=["raw"], outputs=["out"]),
        {"id": "rec", "plugin": "stats", "inputs": ["out"]}])
    assert checked.returncode == 1
    assert words in checked.stderr


@pytest.mark.parametrize("entry, words", [
    ('{"name": "g", "type": "number", "doc": None}', "'doc' must be a string, found None"),
    ('{"name": "g", "type": "number", "max": float("inf")}', "'max' must be a finite number, found inf"),
    ('{"name": "g", "type": "string", "enum": [1, 2]}', "'enum' must be a list of strings"),
], ids=["doc", "max", "enum"])
def test_a_declaration_the_kernel_would_refuse_is_refused_alike_by_validate_and_create(tmp_path, build_dir, entry,
                                                                                      words):
    source = f"class Stage:\n    params = [{entry}]\n    def process(self, i, o):\n        pass\n"
    assert words in create_failure(tmp_path, build_dir, source)
    checked = validate(tmp_path, build_dir, [sim_node(10, ["raw"]), python_node(
        "py", "stage", "user_module", "Stage", inputs=["raw"], outputs=["out"]),
        {"id": "rec", "plugin": "stats", "inputs": ["out"]}])
    assert checked.returncode == 1, checked.stderr
    assert words in checked.stderr


def test_a_class_declaring_a_parameter_of_the_plugin_is_an_error(tmp_path, build_dir):
    log = create_failure(tmp_path, build_dir, """
        class Stage:
            params = [{"name": "path", "type": "string", "default": "x"}]
            def process(self, inputs, outputs):
                pass
    """)
    assert "params[0] declares 'path', a parameter of the python plugin itself (module, class, path)" in log


def test_a_constructor_that_raises_is_an_error_with_its_traceback(tmp_path, build_dir):
    log = create_failure(tmp_path, build_dir, """
        class Stage:
            def __init__(self):
                raise RuntimeError("no device")
            def process(self, inputs, outputs):
                pass
    """)
    assert "class 'Stage' of module 'user_module': the constructor failed: RuntimeError: no device" in log
    assert "Traceback (most recent call last):" in log


# ---- the per-call contract ----

@pytest.mark.parametrize("body, words", [
    ("self.kept = inputs[0]", "process kept a view of input slot 0 past the call; copy what you keep (arr.copy())"),
    ("self.kept = outputs[0][:8]", "process kept a view of output slot 0 past the call"),
    ("return 'yes'", "process returned a str; return None or True (publish the slot), an int"),
    ("return 5000", "process returned 5000 (bytes to publish), but the output slot holds 4096"),
], ids=["input-view", "output-view", "bad-return", "too-many-bytes"])
def test_breaking_the_call_contract_is_a_node_error(tmp_path, build_dir, body, words):
    write_module(tmp_path, "user_module", f"""
        class Stage:
            def process(self, inputs, outputs):
                {body}
    """)
    run = run_graph(tmp_path, build_dir, CHANNELS, [
        sim_node(10, ["raw"]),
        python_node("py", "stage", "user_module", "Stage", inputs=["raw"], outputs=["out"],
                    on_error={"action": "stop_graph", "max_consecutive": 1}),
        {"id": "rec", "plugin": "stats", "inputs": ["out"]}])
    assert run.exit_code == 4, run.stderr
    assert f"[stage:dhub.stage.python:py] {words}" in run.stderr
    assert run.node("py")["slots_out"] == 0


def test_after_a_kept_view_no_python_code_runs_again_whatever_on_error_says(tmp_path, build_dir):
    # on_error "continue" would call process() again, where the kept view would read slots the producer reuses:
    # the node refuses every later call instead, each one a counted error, and never calls Python (nor stop()).
    calls = tmp_path / "calls.txt"
    write_module(tmp_path, "user_module", f"""
        class Stage:
            def process(self, inputs, outputs):
                with open({str(calls)!r}, "a") as log:
                    log.write(f"{{int(inputs[0][0])}}\\n")
                self.kept = inputs[0]
            def stop(self):
                with open({str(calls)!r}, "a") as log:
                    log.write("stop\\n")
    """)
    run = run_graph(tmp_path, build_dir, CHANNELS, [
        sim_node(10, ["raw"]),
        python_node("py", "stage", "user_module", "Stage", inputs=["raw"], outputs=["out"], burst=1,
                    on_error={"action": "continue"}),
        {"id": "rec", "plugin": "stats", "inputs": ["out"]}])
    assert run.exit_code == 0, run.stderr
    assert len(calls.read_text().splitlines()) == 1, calls.read_text()
    assert run.node("py")["errors"] == 10 and run.node("py")["slots_out"] == 0
    assert "process() is not called any more: it kept a view of input slot 0 past its call earlier" in run.stderr


def test_a_view_copied_in_the_call_may_be_kept(tmp_path, build_dir):
    write_module(tmp_path, "user_module", """
        class Stage:
            def __init__(self):
                self.kept = []
            def process(self, inputs, outputs):
                self.kept.append(inputs[0].copy())
                return False
    """)
    run = run_graph(tmp_path, build_dir, CHANNELS, [
        sim_node(10, ["raw"]),
        python_node("py", "stage", "user_module", "Stage", inputs=["raw"], outputs=["out"]),
        {"id": "rec", "plugin": "stats", "inputs": ["out"]}])
    assert run.exit_code == 0, run.stderr
    assert (run.node("py")["errors"], run.node("py")["skipped"], run.node("py")["slots_out"]) == (0, 10, 0)


def test_the_example_graph_finds_the_peaks_of_every_frame(tmp_path, build_dir):
    # examples/python/python-stage.json as shipped, run from a copy (its recording lands beside the graph).
    example = pathlib.Path(__file__).resolve().parents[3] / "examples" / "python"
    shutil.copy(example / "peaks.py", tmp_path)
    graph = json.loads((example / "python-stage.json").read_text())
    graph["plugin_path"] = [str(build_dir / "plugins")]
    graph["nodes"][0]["params"]["max_frames"] = 100  # half a second at its 200 frames/s
    (tmp_path / "graph.json").write_text(json.dumps(graph))
    checked = kernel_command(build_dir, "--validate", str(tmp_path / "graph.json"), cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr  # its threshold, min_distance checked against Peaks.params
    completed = subprocess.run([str(build_dir / "kernel" / "dhub-kernel"), str(tmp_path / "graph.json")],
                               capture_output=True, text=True, timeout=KERNEL_TIMEOUT_S)
    assert completed.returncode == 0, completed.stderr
    assert "peaks: 100 frames searched" in completed.stdout
    records = read_recording(tmp_path / "peaks.dhr")
    assert [record.sequence for record in records] == list(range(100))
    layout = np.dtype({"names": ["sequence", "count", "position", "height"],
                       "formats": ["<u8", "<u4", ("<i4", (16,)), ("<f8", (16,))], "offsets": [0, 16, 20, 88],
                       "itemsize": 216})
    for index, record in enumerate(records):
        peaks = np.frombuffer(record.data, dtype=layout)[0]
        assert peaks["sequence"] == index
        # A 1 kHz sine sampled at 200 frames/s x 256 samples = 51.2 kHz: 5 periods per frame, a crest cut by the
        # frame's edge is no local maximum.
        assert 4 <= peaks["count"] <= 5, peaks
        assert (peaks["height"][:peaks["count"]] > 0.5).all()


def test_a_node_need_not_name_the_component_its_wiring_says_which(tmp_path, build_dir):
    # The form: {"plugin": "python", "params": {"module": ..., "class": ...}}, no "component".
    write_module(tmp_path, "passing", """
        class Stage:
            def process(self, inputs, outputs):
                outputs[0][:inputs[0].size] = inputs[0]
                return inputs[0].size
    """)
    stage = python_node("py", "stage", "passing", "Stage", inputs=["raw"], outputs=["out"])
    del stage["component"]
    run = run_graph(tmp_path, build_dir, CHANNELS, [sim_node(20, ["raw"]), stage,
                                                   {"id": "rec", "plugin": "stats", "inputs": ["out"]}])
    assert run.exit_code == 0, run.stderr
    assert run.node("py")["handled"] == 20 and run.node("py")["component"] == "dhub.stage.python"
