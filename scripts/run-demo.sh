#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds dhub and runs the demos:
#  1. the DataBlock on its own: a producer process and a consumer process exchanging 64 KiB frames over
#     shared memory, printing rate and latency each second;
#  2. the kernel: dhub-kernel runs configs/demo.json (sim_source -> scale -> recorder, plus stats) with
#     plugins loaded at run time, the scale stage in a process of its own ("isolation": "process"), then
#     stops it cleanly.
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
