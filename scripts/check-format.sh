#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Fails (and lists the files) when any tracked C or C++ file differs from what clang-format makes of it.
# Fix with: git ls-files '*.cpp' '*.hpp' '*.h' '*.c' | xargs clang-format -i
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/install-deps.sh" clang-format
cd "$root"
mapfile -t files < <(git ls-files '*.cpp' '*.hpp' '*.h' '*.c')
unformatted=()
for file in "${files[@]}"; do
    clang-format --dry-run --Werror "$file" >/dev/null 2>&1 || unformatted+=("$file")
done
if [ ${#unformatted[@]} -ne 0 ]; then
    echo "check-format: ${#unformatted[@]} file(s) are not clang-formatted:" >&2
    printf '  %s\n' "${unformatted[@]}" >&2
    echo "run: git ls-files '*.cpp' '*.hpp' '*.h' '*.c' | xargs clang-format -i" >&2
    exit 1
fi
echo "check-format: ${#files[@]} files clang-formatted"
