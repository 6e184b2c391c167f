// SPDX-License-Identifier: Apache-2.0
// dhub-ctl's side of the control protocol (docs/control.md): one request to a kernel's control endpoint, one
// reply, or an error saying why there is none (no endpoint, no answer in time, not a reply).
#pragma once

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "dhub/base/result.hpp"

namespace dhub::ctl {

/// Sends request (its "v" is set here) and returns the kernel's reply, whatever its "ok".
Result<nlohmann::json> call(const std::string& endpoint,
                            nlohmann::json request,
                            std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace dhub::ctl
