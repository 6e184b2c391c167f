#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds dhub and runs the demos:
#  1. the DataBlock on its own: a producer process and a consumer process exchanging 64 KiB frames over
#     shared memory, printing rate and latency each second;
#  2. the kernel: dhub-kernel runs configs/demo.json (sim_source -> scale -> recorder, plus stats) with
#     plugins loaded at run time, the scale stage in a process of its own ("isolation": "process"), then
#     stops it cleanly;
#  3. Python: examples/python/python-stage.json (a numpy peak finder as a stage, in its own process) while
#     examples/python/viewer.py prints statistics of the stage's input, read from Python zero copy.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${DHUB_BUILD_DIR:-$root/build}"
seconds="${DHUB_DEMO_SECONDS:-5}"

"$root/scripts/build.sh"

echo "== DataBlock: producer and consumer processes =="
"$build_dir/examples/shm_demo/dhub-shm-demo" --seconds "$seconds"

echo
echo "== dhub-kernel configs/demo.json =="
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# Paths in a graph are relative to the graph file: a copy of the graph in a scratch folder records there,
# not into the source tree.
cp "$root/configs/demo.json" "$work/demo.json"
"$build_dir/kernel/dhub-kernel" "$work/demo.json" --plugin-path "$build_dir/plugins" --duration "$seconds"
recorded_bytes="$(stat -c %s "$work/demo-recording.dhr")"
echo "recorded $recorded_bytes bytes to $work/demo-recording.dhr (removed on exit)"

if [ -f "$build_dir/plugins/dhub-python.so" ]; then
    echo
    echo "== a Python stage: examples/python/python-stage.json, with a live Python viewer beside it =="
    cp "$root/examples/python/python-stage.json" "$root/examples/python/peaks.py" "$work/"
    "$build_dir/kernel/dhub-kernel" "$work/python-stage.json" --plugin-path "$build_dir/plugins" \
        --duration "$seconds" &
    kernel=$!
    # The viewer (examples/python/viewer.py) reads the newest frame of the stage's input from Python, zero copy.
    raw=""
    for _ in $(seq 50); do
        raw="$("$build_dir/kernel/tools/shm_cli/dhub-shm" list 2>/dev/null | grep -o "python-stage-$kernel\.raw" | head -1 || true)"
        [ -n "$raw" ] && break
        sleep 0.1
    done
    if [ -n "$raw" ]; then
        PYTHONPATH="$build_dir/python" /usr/bin/python3 "$root/examples/python/viewer.py" "$raw" --rate 2 --count 4 || true
    fi
    wait "$kernel"
    echo "recorded $(stat -c %s "$work/peaks.dhr") bytes of peaks to $work/peaks.dhr (removed on exit)"
fi
