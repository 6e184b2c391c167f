#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The builds users meet that the test build does not already cover, compiled warning-free with -Werror:
# Clang 14 (Debian's clang) in Debug. (The test build itself is GCC 12 in Release: see .ci/run.)
# Nothing is run here; every target is compiled. Build directory: ${DHUB_MATRIX_DIR:-build-clang-debug}.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${DHUB_MATRIX_DIR:-$root/build-clang-debug}"

"$root/scripts/install-deps.sh" clang
cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    -DDHUB_WERROR=ON >/dev/null
cmake --build "$build_dir" --parallel "$(nproc)" >"$build_dir/build.log" 2>&1 || {
    grep -E "error|warning" -A4 "$build_dir/build.log" | head -80 >&2
    echo "build-matrix: the Clang 14 Debug build failed (full log: $build_dir/build.log)" >&2
    exit 1
}
echo "build-matrix: Clang 14 Debug build with -Werror: ok"
