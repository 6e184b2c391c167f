#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds dhub and runs the demos:
#  1. the DataBlock on its own: a producer process and a consumer process exchanging 64 KiB frames over
#     shared memory, printing rate and latency each second;
#  2. the kernel: dhub-kernel runs configs/demo.json (sim_source -> scale -> recorder, plus stats) with
#     plugins loaded at run time, then stops it cleanly.
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
cd "$work"   # the recorder writes demo-recording.dhr here
"$build_dir/kernel/dhub-kernel" "$root/configs/demo.json" --plugin-path "$build_dir/plugins" --duration "$seconds"
echo "recorded $(stat -c %s demo-recording.dhr) bytes to $work/demo-recording.dhr (removed on exit)"
