#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds dhub and runs every test with ctest; the output ends with ctest's summary line.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${DHUB_BUILD_DIR:-$root/build}"

# promtool (Debian's prometheus package) checks the kernel's /metrics output: a test-only tool.
"$root/scripts/install-deps.sh" prometheus
"$root/scripts/build.sh" "$@"
cd "$build_dir"
ctest --output-on-failure --timeout 600 --parallel 2
