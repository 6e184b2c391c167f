#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs the Debian 12 packages dhub builds against, plus any named as arguments. Idempotent: does nothing
# when all are present.
set -euo pipefail

packages=(
    build-essential cmake pkg-config git
    libboost-dev libboost-program-options-dev libspdlog-dev nlohmann-json3-dev
    libzmq3-dev cppzmq-dev libsodium-dev libgtest-dev libgmock-dev
    # The kafka transport (docs/transports.md); its tests run on librdkafka's built-in mock cluster.
    librdkafka-dev
    # The kernel's Prometheus endpoint (docs/metrics.md).
    libmicrohttpd-dev
    # The dhub Python package and the python plugin (docs/python.md), built for and tested on the system
    # interpreter; Python also checks the schema fingerprint (docs/schemas.md) against the C++ one.
    python3 python3-dev pybind11-dev python3-numpy python3-pytest
    # dhub-ctl top is tested in a real terminal: a tmux pane.
    tmux
    # Peers that dhub-bench measures dhub against (optional at build time, installed here for the comparison).
    libiceoryx-posh-dev iceoryx
)

# Extra packages a caller needs on top (e.g. clang for the CI build matrix).
packages+=("$@")

missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
