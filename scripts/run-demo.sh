#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds dhub and runs the demo: a producer process and a consumer process exchanging frames over a
# shared-memory DataBlock, printing rate and latency.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${DHUB_BUILD_DIR:-$root/build}"

"$root/scripts/build.sh"
exec "$build_dir/examples/shm_demo/dhub-shm-demo" --seconds "${DHUB_DEMO_SECONDS:-5}"
