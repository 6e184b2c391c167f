#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A Python stage in a real graph: slots/s through dhub.stage.python at 4 KiB (docs/python-stages.md, "Performance").

    build/kernel/dhub-kernel: bench_source -> dhub.stage.python (Copy: out[:n] = in, one numpy copy) -> bench_sink

The path dhub-bench's isolation_path case measures for a C++ stage (bench_scale), with the stage a Python class:
bench_source writes as fast as the ring lets it (no pacing), bench_sink checks every slot's sequence stamps and
times the run after a warm-up of a tenth of the slots. One run per row: where the stage runs (its own process, the
default, or a kernel thread) and how the kernel hands it slots (bursts of 32, the default, or one per call).

    bench/python/python_stage.py [--build-dir build] [--slots 300000] [--json]

Needs the bench plugins (cmake --build build --target dhub-bench_source dhub-bench_sink), dhub-kernel,
dhub-node-host and dhub-python.
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import textwrap

PAYLOAD = 4096
SLOT_COUNT = 256

COPY_STAGE = """
    class Copy:
        def process(self, inputs, outputs):
            frame = inputs[0]
            outputs[0][:frame.size] = frame
            return frame.size
"""


def graph(directory: pathlib.Path, slots: int, isolation: str, burst: int) -> dict:
    channel = {"slot_bytes": PAYLOAD, "slot_count": SLOT_COUNT, "sync": "single_reader"}
    return {
        "schema_version": 1, "name": f"bench-python-{os.getpid()}",
        "channels": [dict(channel, name="raw"), dict(channel, name="stream")],
        "nodes": [
            {"id": "source", "plugin": "bench_source", "params": {"count": slots}, "outputs": ["raw"], "burst": 32},
            {"id": "stage", "plugin": "python", "component": "dhub.stage.python",
             "params": {"module": "bench_copy", "class": "Copy"}, "isolation": isolation, "burst": burst,
             "inputs": ["raw"], "outputs": ["stream"]},
            {"id": "sink", "plugin": "bench_sink", "burst": 32, "inputs": ["stream"],
             "params": {"result_path": str(directory / "result.json"), "warmup": slots // 10, "count": slots}},
        ],
    }


def measure(build: pathlib.Path, slots: int, isolation: str, burst: int) -> float:
    with tempfile.TemporaryDirectory(prefix="dhub-bench-python-") as scratch:
        directory = pathlib.Path(scratch)
        (directory / "bench_copy.py").write_text(textwrap.dedent(COPY_STAGE))
        graph_file = directory / "graph.json"
        graph_file.write_text(json.dumps(graph(directory, slots, isolation, burst), indent=1))
        kernel = [str(build / "kernel" / "dhub-kernel"), str(graph_file), "--log-level", "warn",
                  "--plugin-path", str(build / "plugins"), "--plugin-path", str(build / "bench" / "plugins")]
        completed = subprocess.run(kernel, capture_output=True, text=True, timeout=600)
        if completed.returncode != 0:
            raise RuntimeError(f"dhub-kernel exited {completed.returncode}:\n{completed.stderr}")
        result = json.loads((directory / "result.json").read_text())
        if result["bad"] or result["lost"]:
            raise RuntimeError(f"bench_sink saw bad or lost slots: {result}")
        return result["messages"] * 1e9 / result["elapsed_ns"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build-dir", type=pathlib.Path, default=pathlib.Path(__file__).resolve().parents[2] / "build")
    parser.add_argument("--slots", type=int, default=300_000, help="slots per run (a tenth of them warm up)")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON only")
    options = parser.parse_args()

    rows = []
    for isolation in ("process", "thread"):
        for burst in (32, 1):
            rate = measure(options.build_dir.resolve(), options.slots, isolation, burst)
            rows.append({"case": f"python_stage_{isolation}_{'burst32' if burst > 1 else 'per_slot'}",
                         "payload_bytes": PAYLOAD, "isolation": isolation, "burst": burst, "slots": options.slots,
                         "slots_per_s": round(rate)})
    if options.json:
        print(json.dumps(rows, indent=1))
        return 0
    print(f"{'case':<34} {'payload':>8} {'slots/s':>12}  ({options.slots} slots per run, one run each)")
    for row in rows:
        print(f"{row['case']:<34} {row['payload_bytes']:>8} {row['slots_per_s']:>12,}")
    print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
